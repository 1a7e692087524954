import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Db, type Store } from '../../store/open-store.js';
import { json } from '../../store/schema.js';
import { PostgresProcess } from '../helpers/postgres-process.js';

// `npm run plenum -- …` as a real child process (the TypeScript entry through tsx, as `npm run bench` runs),
// against real embedded databases in temporary data directories and a real PostgreSQL.
const ROOT = resolve(import.meta.dirname, '../..');
const ENTRY = join(ROOT, 'server/cli/plenum.ts');
const CLI_TIMEOUT_MS = 120_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function plenum(args: string[], env: Record<string, string>, cwd = ROOT): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PLENUM_')));
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', ENTRY, ...args],
      { cwd, env: { ...base, ...env }, timeout: CLI_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

const SECRET_HASH = 'scrypt$never-exported$0123456789abcdef';

/** Two events with rows in every table an export covers; event A gets more audit rows than one page holds. */
async function seedTwoEvents(db: Db): Promise<void> {
  await db.insertInto('events').values([{ event_id: 'ev-a', title: 'Event A' }, { event_id: 'ev-b', title: 'Event B' }]).execute();
  await db.insertInto('meetings').values([{ event_id: 'ev-a', meeting_id: 'plenary', title: 'A plenary' }, { event_id: 'ev-b', meeting_id: 'plenary', title: 'B plenary' }]).execute();
  await db
    .insertInto('sessions')
    .values(['sa1', 'sa2', 'sb1'].map((s) => ({ session_id: s, event_id: s.startsWith('sa') ? 'ev-a' : 'ev-b', rules: json({ sessionId: s }), status: 'open' })))
    .execute();
  await db
    .insertInto('registrations')
    .values(
      ['ev-a', 'ev-b'].map((e) => ({
        event_id: e,
        person_id: `p-${e}`,
        email: `delegate@${e}.example.org`,
        registration: json({ personId: `p-${e}`, eventId: e }),
        status: 'active',
        access_code_hash: SECRET_HASH,
      })),
    )
    .execute();
  // 2,500 audit rows of A interleaved with 1,250 of B: the export pages through them by id.
  await sql`insert into audit (event_id, session_id, person_id, decision, record)
    select case when g % 3 = 0 then 'ev-b' else 'ev-a' end, case when g % 3 = 0 then 'sb1' else 'sa1' end, 'p', 'allow', '{}'::jsonb
    from generate_series(1, 3750) g`.execute(db);
  const attendance = (event: string, session: string) => ({
    event_id: event,
    session_id: session,
    person_id: `p-${event}`,
    name: 'Delegate',
    entity: 'Entity',
    entity_type: 'member-state',
    role: 'delegate',
    presence: 'participant',
    node_id: 'node-1',
    epoch: 1,
    joined_at: new Date(),
    left_at: null,
    closed_by: null,
  });
  await db.insertInto('attendance').values([attendance('ev-a', 'sa1'), attendance('ev-a', 'sa2'), attendance('ev-b', 'sb1')]).execute();
  await db
    .insertInto('floor_state')
    .values(['sa1', 'sb1'].map((s) => ({ session_id: s, snapshot: json({ speakers: [s] }), epoch: 1 })))
    .execute();
  await db
    .insertInto('transcripts')
    .values(['sa1', 'sa2', 'sb1'].map((s) => ({ session_id: s, language: 'en', at: new Date(), by_person: 'p', text: `said in ${s}` })))
    .execute();
  await db
    .insertInto('removals')
    .values(['sa1', 'sb1'].map((s) => ({ room_id: s, person_id: `removed-from-${s}`, until: new Date(Date.now() + 3_600_000) })))
    .execute();
  await db
    .insertInto('webhook_outbox')
    .values(
      ['sa1', 'sb1'].map((s) => ({ delivery_id: `d-${s}`, type: 'session.opened', body: JSON.stringify({ id: `d-${s}`, type: 'session.opened', at: new Date().toISOString(), data: { sessionId: s } }) })),
    )
    .execute();
}

type Archive = { format: string; eventId: string; migrations: string[]; tables: Record<string, Array<Record<string, unknown>>>; counts: Record<string, number> };

/** The export of ev-a has all of A's rows, each once, and nothing of B's; no access-code hash leaves. */
function expectOnlyEventA(file: string): void {
  const raw = gunzipSync(readFileSync(file)).toString('utf8');
  expect(raw).not.toContain(SECRET_HASH);
  expect(raw).not.toContain('ev-b');
  expect(raw).not.toContain('sb1');
  const archive = JSON.parse(raw) as Archive;
  expect(archive).toMatchObject({ format: 'plenum-event-export', eventId: 'ev-a' });
  expect(archive.migrations).toContain('0001-initial');
  const t = archive.tables;
  expect(t.events!.map((r) => r.event_id)).toEqual(['ev-a']);
  expect(t.meetings!.map((r) => r.title)).toEqual(['A plenary']);
  expect(t.sessions!.map((r) => r.session_id)).toEqual(['sa1', 'sa2']);
  expect(t.registrations).toHaveLength(1);
  expect(t.registrations![0]).toMatchObject({ person_id: 'p-ev-a', has_access_code: true });
  expect(t.registrations![0]).not.toHaveProperty('access_code_hash');
  expect(t.audit).toHaveLength(2500);
  expect(new Set(t.audit!.map((r) => r.id)).size).toBe(2500);
  expect(t.audit!.every((r) => r.event_id === 'ev-a')).toBe(true);
  expect(t.attendance!.map((r) => r.session_id).sort()).toEqual(['sa1', 'sa2']);
  expect(t.floor_state!.map((r) => r.session_id)).toEqual(['sa1']);
  expect(t.transcripts!.map((r) => r.text).sort()).toEqual(['said in sa1', 'said in sa2']);
  expect(t.removals!.map((r) => r.person_id)).toEqual(['removed-from-sa1']);
  expect(t.webhook_outbox!.map((r) => r.delivery_id)).toEqual(['d-sa1']);
  expect(archive.counts).toMatchObject({ events: 1, sessions: 2, audit: 2500, webhook_outbox: 1 });
}

/** A separate process that holds the embedded database, as a running server does. */
function holdDatabase(dataDir: string, scriptDir: string): Promise<ChildProcess> {
  const script = join(scriptDir, 'hold-database.mts');
  writeFileSync(
    script,
    `const { openStore } = await import(${JSON.stringify(join(ROOT, 'store/open-store.ts'))});
    await openStore({ dataDir: ${JSON.stringify(dataDir)} });
    process.stdout.write('ready\\n');
    setInterval(() => {}, 60_000);\n`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((ready, failed) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready')) ready(child);
    });
    child.once('exit', (code) => failed(new Error(`the process holding the database exited (${code}) before it was ready`)));
  });
}

describe('plenum CLI on the embedded engine', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const tmp = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'plenum-cli-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('migrate applies every migration to an empty data directory, and nothing the second time', async () => {
    const dataDir = join(tmp(), 'data');
    const first = await plenum(['migrate'], { PLENUM_DATA_DIR: dataDir });
    expect(first.stderr).not.toMatch(/E_/);
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout) as { engine: string; applied: string[]; current: string[] };
    expect(report.engine).toBe('embedded');
    expect(report.applied).toContain('0001-initial');
    expect(report.applied).toEqual(report.current);

    const second = await plenum(['migrate'], { PLENUM_DATA_DIR: dataDir });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ applied: [], current: report.current });
  });

  it('backup and restore into a new data directory keep the data; restore refuses a database that is there', async () => {
    const root = tmp();
    const source = join(root, 'source');
    const store = await openStore({ dataDir: source });
    await store.db.insertInto('events').values({ event_id: 'kept-event', title: 'Kept across restore' }).execute();
    await store.close();

    const file = join(root, 'backup.tar.gz');
    const backup = await plenum(['backup', file], { PLENUM_DATA_DIR: source });
    expect(backup.stderr).not.toMatch(/E_/);
    expect(backup.code).toBe(0);
    expect(JSON.parse(backup.stdout)).toMatchObject({ engine: 'embedded', file });
    expect(existsSync(file)).toBe(true);

    const target = join(root, 'target');
    const restore = await plenum(['restore', file], { PLENUM_DATA_DIR: target });
    expect(restore.stderr).not.toMatch(/E_/);
    expect(restore.code).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({ movedAside: null });
    const restored = await openStore({ dataDir: target });
    try {
      expect(await restored.db.selectFrom('events').select(['event_id', 'title']).execute()).toEqual([{ event_id: 'kept-event', title: 'Kept across restore' }]);
      await restored.db.insertInto('events').values({ event_id: 'written-after-restore', title: 'x' }).execute();
    } finally {
      await restored.close();
    }

    // The target now holds a database: no restore over it without --force.
    const refused = await plenum(['restore', file], { PLENUM_DATA_DIR: target });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('E_TARGET_NOT_EMPTY');
    expect(refused.stderr).not.toMatch(/\n\s+at /); // no stack trace

    // --force moves it aside, whole, and restores the backup in its place.
    const forced = await plenum(['restore', file, '--force'], { PLENUM_DATA_DIR: target });
    expect(forced.code).toBe(0);
    const { movedAside } = JSON.parse(forced.stdout) as { movedAside: string };
    expect(movedAside).toMatch(/database\.replaced-/);
    expect(readdirSync(movedAside)).toContain('PG_VERSION');
    const again = await openStore({ dataDir: target });
    try {
      expect((await again.db.selectFrom('events').select('event_id').execute()).map((r) => r.event_id)).toEqual(['kept-event']);
    } finally {
      await again.close();
    }
  });

  it('backup and restore refuse while another process holds the database', async () => {
    const root = tmp();
    const dataDir = join(root, 'data');
    const holder = await holdDatabase(dataDir, root);
    children.push(holder);

    const backup = await plenum(['backup', join(root, 'b.tar.gz')], { PLENUM_DATA_DIR: dataDir });
    expect(backup.code).toBe(1);
    expect(backup.stderr).toContain('E_DATA_DIR_IN_USE');
    expect(backup.stderr).toContain('stop the server first');
    expect(backup.stderr).toContain(String(holder.pid));
    expect(existsSync(join(root, 'b.tar.gz'))).toBe(false);

    writeFileSync(join(root, 'garbage.tar.gz'), 'not a backup');
    const restore = await plenum(['restore', join(root, 'garbage.tar.gz'), '--force'], { PLENUM_DATA_DIR: dataDir });
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain('E_DATA_DIR_IN_USE');
  });

  it('export writes one archive with all records of an event and none of another event', async () => {
    const root = tmp();
    const dataDir = join(root, 'data');
    const store = await openStore({ dataDir });
    await seedTwoEvents(store.db);
    await store.close();

    const out = join(root, 'ev-a.json.gz');
    const run = await plenum(['export', 'ev-a', '--out', out], { PLENUM_DATA_DIR: dataDir });
    expect(run.stderr).not.toMatch(/E_/);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ eventId: 'ev-a', file: out, counts: { audit: 2500 } });
    expectOnlyEventA(out);

    const unknown = await plenum(['export', 'ev-none', '--out', join(root, 'none.json.gz')], { PLENUM_DATA_DIR: dataDir });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('E_EVENT_NOT_FOUND');
    expect(existsSync(join(root, 'none.json.gz'))).toBe(false);
  });

  it('import-registry writes a CSV into the event, access codes hashed; a bad file imports nothing', async () => {
    const root = tmp();
    const dataDir = join(root, 'data');
    const header = 'event_id,person_id,name,email,entity_name,entity_type,country_code,role,languages,status,sessions,access_code';
    const good = join(root, 'good.csv');
    writeFileSync(good, `${header}\nev-csv,p-1,Ana Lima,Ana@Example.org,Brazil,member_state,BR,delegate,,approved,,code-12345\nev-csv,p-2,Bo Chen,bo@example.org,China,member_state,CN,delegate,,approved,,\n`);
    const run = await plenum(['import-registry', good, '--event', 'ev-csv'], { PLENUM_DATA_DIR: dataDir });
    expect(run.stderr).not.toMatch(/E_/);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ eventId: 'ev-csv', imported: 2 });

    const bad = join(root, 'bad.csv');
    writeFileSync(bad, `${header}\nev-csv,p-3,Cy,cy@example.org,Chile,member_state,CL,delegate,,approved,,\nother-event,p-4,Di,di@example.org,Peru,member_state,PE,delegate,,approved,,\n`);
    const refused = await plenum(['import-registry', bad, '--event', 'ev-csv'], { PLENUM_DATA_DIR: dataDir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('E_CSV_INVALID');
    expect(refused.stderr).toContain('line 3');

    const missingEvent = await plenum(['import-registry', good], { PLENUM_DATA_DIR: dataDir });
    expect(missingEvent.code).toBe(2);
    expect(missingEvent.stderr).toContain('E_USAGE');

    const store = await openStore({ dataDir });
    try {
      const rows = await store.db.selectFrom('registrations').select(['person_id', 'email', 'access_code_hash']).where('event_id', '=', 'ev-csv').orderBy('person_id').execute();
      expect(rows.map((r) => [r.person_id, r.email])).toEqual([
        ['p-1', 'ana@example.org'],
        ['p-2', 'bo@example.org'],
      ]);
      expect(rows[0]!.access_code_hash).toMatch(/\S{20,}/);
      expect(rows[0]!.access_code_hash).not.toContain('code-12345');
      expect(rows[1]!.access_code_hash).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('refuses bad arguments with E_USAGE and exit 2, and a missing database with E_NO_DATABASE', async () => {
    const dataDir = join(tmp(), 'empty');
    mkdirSync(dataDir);
    const bad = await plenum(['export', '../../etc'], { PLENUM_DATA_DIR: dataDir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('E_USAGE');
    const unknown = await plenum(['frobnicate'], { PLENUM_DATA_DIR: dataDir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('E_USAGE');
    const nothing = await plenum(['backup', join(dataDir, 'b.tar.gz')], { PLENUM_DATA_DIR: dataDir });
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('E_NO_DATABASE');
    // A read-only command does not create a database as a side effect.
    expect(existsSync(join(dataDir, 'database', 'PG_VERSION'))).toBe(false);
  });
});

describe('plenum CLI on PostgreSQL', () => {
  let postgres: PostgresProcess;
  let store: Store;
  beforeAll(async () => {
    postgres = await PostgresProcess.start();
    store = await openStore({ databaseUrl: postgres.url, dataDir: mkdtempSync(join(tmpdir(), 'plenum-cli-pg-')) });
    await seedTwoEvents(store.db);
  });
  afterAll(async () => {
    await store?.close();
    await postgres?.stop();
  });

  it('migrate finds nothing left to apply on a migrated server', async () => {
    const run = await plenum(['migrate'], { PLENUM_DATABASE_URL: postgres.url });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ engine: 'postgres', applied: [] });
  });

  it('export has the same records as on the embedded engine, while the server runs', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'plenum-cli-pg-')), 'ev-a.json.gz');
    const run = await plenum(['export', 'ev-a', '--out', out], { PLENUM_DATABASE_URL: postgres.url });
    expect(run.stderr).not.toMatch(/E_/);
    expect(run.code).toBe(0);
    expectOnlyEventA(out);
    rmSync(resolve(out, '..'), { recursive: true, force: true });
  });

  it('backup and restore point to PostgreSQL tools and exit 2', async () => {
    for (const command of ['backup', 'restore']) {
      const run = await plenum([command, '/tmp/never-written.tar.gz'], { PLENUM_DATABASE_URL: postgres.url });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('E_NOT_EMBEDDED');
      expect(run.stderr).toContain('pg_dump');
    }
  });
});

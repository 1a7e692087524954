// Issue 11: accreditation's records in the system of record. One suite, run against both engines: the embedded
// one (PGlite in a temporary data directory) and a real PostgreSQL server. "Two nodes" are two repositories over
// the database: on PostgreSQL each has its own connection pool, as two server processes would.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_PAGE_MAX, DatabaseAuditLog, type AuditRecord } from '../../accreditation/audit-log.js';
import { importLegacyData } from '../../accreditation/legacy-import.js';
import type { RegistrationStatus, SessionRules } from '../../accreditation/model.js';
import { CsvEmailInUseError, EmailInUseError, EmbeddedRegistry, hashAccessCodeSync, WRITE_BATCH_ROWS } from '../../accreditation/registry/embedded-registry.js';
import { SessionDirectory, SessionOfOtherEventError } from '../../accreditation/session-directory.js';
import { openStore, type Db, type Store } from '../../store/open-store.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { startTestServer } from '../helpers/test-server.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'plenum-store-acc-'));
const HEADER = 'event_id,person_id,name,email,entity_name,entity_type,country_code,role,languages,status,sessions,access_code';
const person = (eventId: string, personId: string, email: string, status: RegistrationStatus = 'approved') => ({
  eventId,
  personId,
  name: `Person ${personId}`,
  email,
  entity: { name: 'Kenya', type: 'member_state' as const, countryCode: 'KE' },
  role: 'delegate' as const,
  status,
});

/** Two "nodes" on one database, and a way to get an empty database of the same engine. */
interface Engine {
  nodes: [Db, Db];
  /** An empty database, as two nodes see it; its own directory for the data files. */
  fresh(): Promise<{ nodes: [Db, Db]; dataDir: string }>;
  close(): Promise<void>;
}

async function embedded(): Promise<Engine> {
  const stores: Store[] = [await openStore({ dataDir: tmp() })];
  const db = stores[0]!.db;
  return {
    // One process per embedded database: both "nodes" share its one connection.
    nodes: [db, db],
    fresh: async () => {
      const dataDir = tmp();
      const store = await openStore({ dataDir });
      stores.push(store);
      return { nodes: [store.db, store.db], dataDir };
    },
    close: async () => {
      for (const s of stores) await s.close();
    },
  };
}

async function postgres(): Promise<Engine> {
  const server = await PostgresProcess.start();
  const stores: Store[] = [];
  const two = async (url: string): Promise<[Db, Db]> => {
    const a = await openStore({ databaseUrl: url, dataDir: tmp() });
    const b = await openStore({ databaseUrl: url, dataDir: tmp() });
    stores.push(a, b);
    return [a.db, b.db];
  };
  let databases = 0;
  return {
    nodes: await two(server.url),
    fresh: async () => {
      const name = `fresh_${++databases}`;
      await server.withClient((c) => c.query(`create database ${name}`));
      return { nodes: await two(server.url.replace(/\/plenum$/, `/${name}`)), dataDir: tmp() };
    },
    close: async () => {
      for (const s of stores) await s.close();
      await server.stop();
    },
  };
}

describe.each([
  ['embedded (PGlite)', embedded],
  ['PostgreSQL', postgres],
])('accreditation on the system of record: %s', (_name, start) => {
  let engine: Engine;
  let a: Db;
  let b: Db;
  beforeAll(async () => {
    engine = await start();
    [a, b] = engine.nodes;
  }, 120_000);
  afterAll(() => engine?.close());

  it('upserts a registration, finds it by e-mail and by id on the other node, and announces writes here', async () => {
    const here = new EmbeddedRegistry(a);
    const there = new EmbeddedRegistry(b);
    const changed: string[] = [];
    here.on('changed', (r) => changed.push(`${r.personId}:${r.status}`));
    await here.upsert(person('ev-upsert', 'p1', 'Ana@Example.org'));
    expect(await there.lookup({ eventId: 'ev-upsert', email: 'ANA@example.org' })).toMatchObject({ personId: 'p1', email: 'ana@example.org', status: 'approved' });
    expect(await there.lookup({ eventId: 'ev-upsert', personId: 'p1' })).toMatchObject({ email: 'ana@example.org' });
    expect(await there.lookup({ eventId: 'ev-other', personId: 'p1' })).toBeNull();
    expect(await here.updateStatus('ev-upsert', 'p1', 'revoked')).toMatchObject({ status: 'revoked' });
    expect((await there.lookup({ eventId: 'ev-upsert', personId: 'p1' }))?.status).toBe('revoked');
    expect(await here.updateStatus('ev-upsert', 'nobody', 'revoked')).toBeNull();
    expect(changed).toEqual(['p1:approved', 'p1:revoked']);
    expect(await there.hasEvent('ev-upsert')).toBe(true);
    expect((await there.list('ev-upsert')).map((r) => r.personId)).toEqual(['p1']);
  });

  it('gives an e-mail to one person of an event when two nodes write at once (EMAIL_IN_USE to the other), and refuses one of another event without the admin key', async () => {
    const here = new EmbeddedRegistry(a);
    const there = new EmbeddedRegistry(b);
    for (let round = 0; round < 5; round++) {
      const email = `race${round}@example.org`;
      const outcomes = await Promise.allSettled([here.upsert(person('ev-race', `x${round}`, email)), there.upsert(person('ev-race', `y${round}`, email))]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const refused = outcomes.find((o) => o.status === 'rejected')?.reason as unknown;
      expect(refused).toBeInstanceOf(EmailInUseError);
      expect((refused as EmailInUseError).otherEvent).toBe(false);
      expect((await here.list('ev-race')).filter((r) => r.email === email)).toHaveLength(1);
    }
    await expect(here.upsert(person('ev-race-2', 'z', 'race0@example.org'))).rejects.toMatchObject({ otherEvent: true });
    expect(await here.upsert(person('ev-race-2', 'z', 'race0@example.org'), undefined, { allowEmailOfOtherEvent: true })).toMatchObject({ eventId: 'ev-race-2' });
  });

  it('imports a CSV all or nothing, in batches, visible to the other node only once complete', async () => {
    const here = new EmbeddedRegistry(a);
    const there = new EmbeddedRegistry(b);
    await here.upsert(person('ev-csv', 'holder', 'taken@example.org'));
    const rows = WRITE_BATCH_ROWS + 100;
    const lines = Array.from({ length: rows }, (_, i) => `ev-csv,c-${i},Person ${i},c${i}@csv.example,Kenya,member_state,KE,delegate,,approved,,`);
    const bad = [HEADER, ...lines, 'ev-csv,c-last,Last,taken@example.org,Kenya,member_state,KE,delegate,,approved,,'].join('\n');
    const error = (await here.importCsv(bad, 'ev-csv').catch((e: unknown) => e)) as CsvEmailInUseError;
    expect(error).toBeInstanceOf(CsvEmailInUseError);
    expect(error.lines).toEqual([{ line: rows + 2, message: expect.stringMatching(/taken@example.org belongs to another person/) }]);
    expect((await there.list('ev-csv')).map((r) => r.personId)).toEqual(['holder']);

    await here.importCsv([HEADER, ...lines].join('\n'), 'ev-csv');
    expect(await there.list('ev-csv')).toHaveLength(rows + 1);
    expect(await there.lookup({ eventId: 'ev-csv', email: `c${rows - 1}@csv.example` })).toMatchObject({ personId: `c-${rows - 1}` });
  });

  it('checks access codes per (event, person), hashed; refuses sign-in for a disabled event', async () => {
    const here = new EmbeddedRegistry(a);
    await here.upsert(person('ev-code', 'k1', 'kim@example.org'), 'kims-code-1');
    await here.upsert(person('ev-code-2', 'k2', 'kim@example.org'), 'kims-other-code', { allowEmailOfOtherEvent: true });
    const there = new EmbeddedRegistry(b, { signInDisabledEvents: ['ev-code-2'] });
    expect(await there.checkAccessCode('KIM@example.org', 'kims-code-1')).toMatchObject({ eventId: 'ev-code', personId: 'k1' });
    expect(await there.checkAccessCode('kim@example.org', 'kims-code-1', 'ev-code-2')).toBeNull();
    expect(await there.checkAccessCode('kim@example.org', 'kims-other-code')).toBeNull(); // its event is disabled here
    expect(await new EmbeddedRegistry(b).checkAccessCode('kim@example.org', 'kims-other-code')).toMatchObject({ eventId: 'ev-code-2' });
    expect(await there.checkAccessCode('kim@example.org', 'wrong-code-x')).toBeNull();
    expect(await there.checkAccessCode('nobody@example.org', 'kims-code-1')).toBeNull();
    // A PUT without a code keeps the code; the stored value is a hash, never the code.
    await here.upsert({ ...person('ev-code', 'k1', 'kim@example.org'), name: 'Kim Renamed' }, undefined, { allowEmailOfOtherEvent: true });
    expect(await there.checkAccessCode('kim@example.org', 'kims-code-1', 'ev-code')).toMatchObject({ name: 'Kim Renamed' });
    const stored = await a.selectFrom('registrations').select('access_code_hash').where('event_id', '=', 'ev-code').executeTakeFirstOrThrow();
    expect(stored.access_code_hash).toMatch(/^[0-9a-f]{32}:[0-9a-f]{64}$/);
  });

  it('session directory: a write through one node reaches the other on reload (which emits `changed`), and reloadAll brings meetings', async () => {
    const here = await SessionDirectory.open(a);
    const there = await SessionDirectory.open(b);
    const seen: Array<[string, string | undefined]> = [];
    there.on('changed', (rules: SessionRules, previous: SessionRules | undefined) => seen.push([rules.status, previous?.status]));

    const created = await here.upsert({ sessionId: 'sd-plenary', eventId: 'ev-sd', title: 'Plenary', lobby: false, status: 'open', languages: ['en', 'fr'] });
    expect(here.get('sd-plenary')).toEqual(created);
    expect(there.get('sd-plenary')).toBeUndefined(); // not told yet
    expect(await there.reload('sd-plenary')).toEqual(created);
    expect(there.get('sd-plenary')).toEqual(created);
    expect(there.event('ev-sd')).toEqual({ eventId: 'ev-sd', title: 'ev-sd' });
    expect(seen).toEqual([['open', undefined]]);

    await here.upsert({ ...created, status: 'closed' });
    expect((await there.reload('sd-plenary'))?.status).toBe('closed');
    await there.reload('sd-plenary'); // nothing new: no event
    expect(seen).toEqual([
      ['open', undefined],
      ['closed', 'open'],
    ]);

    // A session id is its event's, also when the other node tries to take it.
    await expect(there.upsert({ ...created, eventId: 'ev-thief' })).rejects.toBeInstanceOf(SessionOfOtherEventError);
    expect((await here.reload('sd-plenary'))?.eventId).toBe('ev-sd');

    await here.upsertMeeting({ meetingId: 'm1', eventId: 'ev-sd', title: 'First meeting' });
    await here.upsert({ sessionId: 'sd-second', eventId: 'ev-sd', title: 'Second', lobby: true, meetingId: 'm1' });
    expect(there.meetings('ev-sd')).toEqual([]);
    await there.reloadAll();
    expect(there.meetings('ev-sd')).toEqual([{ meetingId: 'm1', eventId: 'ev-sd', title: 'First meeting' }]);
    expect(there.list('ev-sd').map((s) => s.sessionId).sort()).toEqual(['sd-plenary', 'sd-second']);
    expect(seen.at(-1)).toEqual(['open', undefined]);
  });

  it('audit: appends from two nodes, queried newest first a page at a time (cursor) by event, session and person', async () => {
    const logs = [new DatabaseAuditLog(a), new DatabaseAuditLog(b)];
    const appended: AuditRecord[] = [];
    for (let i = 0; i < 25; i++) {
      appended.push(
        await logs[i % 2]!.append({ eventId: 'ev-audit', sessionId: `s${i % 3}`, personId: `p${i % 5}`, decision: i % 4 === 0 ? 'deny' : 'allow', reasons: ['ADMITTED'], source: 'live' }),
      );
    }
    await logs[0]!.append({ eventId: 'ev-audit-other', sessionId: 's0', personId: 'p0', decision: 'allow', reasons: [], source: 'live' });
    const newestFirst = appended.map((r) => r.id).reverse();

    const pages: number[][] = [];
    let before: number | undefined;
    do {
      const page = await logs[1]!.query({ eventId: 'ev-audit', limit: 10, before });
      pages.push(page.records.map((r) => r.id!));
      before = page.nextCursor;
    } while (before !== undefined);
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(pages.flat()).toEqual(newestFirst);

    const bySession = await logs[0]!.query({ sessionId: 's1', limit: 1000 });
    expect(bySession.records.map((r) => r.id)).toEqual(appended.filter((r) => r.sessionId === 's1').map((r) => r.id).reverse());
    expect(bySession.nextCursor).toBeUndefined();
    const byPerson = await logs[0]!.query({ eventId: 'ev-audit', personId: 'p2', limit: 2 });
    expect(byPerson.records.map((r) => r.id)).toEqual(appended.filter((r) => r.personId === 'p2').map((r) => r.id).reverse().slice(0, 2));
    const rest = await logs[0]!.query({ eventId: 'ev-audit', personId: 'p2', before: byPerson.nextCursor });
    expect(rest.records.map((r) => r.id)).toEqual(appended.filter((r) => r.personId === 'p2').map((r) => r.id).reverse().slice(2));
    expect((await logs[0]!.query({ eventId: 'ev-audit', decision: 'deny' })).records).toHaveLength(7);
    expect(bySession.records[0]).toMatchObject({ eventId: 'ev-audit', sessionId: 's1', reasons: ['ADMITTED'], source: 'live', at: expect.any(String) });
    expect((await logs[0]!.query({ eventId: 'ev-audit', limit: 5000 })).records).toHaveLength(25); // capped at 1,000, not refused
  });

  it('imports a data directory of today\'s files once, into an empty database, and renames each file to <name>.imported', async () => {
    const { nodes, dataDir } = await engine.fresh();
    const [db] = nodes;
    const adminHash = hashAccessCodeSync('administrator-code-1');
    writeFileSync(
      join(dataDir, 'registry.json'),
      JSON.stringify({
        version: 2,
        registrations: [person('main', 'administrator', 'admin@example.org'), person('main', 'd1', 'd1@example.org'), person('main', 'd2', 'd2@example.org', 'revoked')],
        accessCodes: [{ eventId: 'main', personId: 'd1', hash: hashAccessCodeSync('delegate-code-1') }],
      }),
    );
    writeFileSync(join(dataDir, 'administrator.json'), JSON.stringify({ version: 1, eventId: 'main', personId: 'administrator', hash: adminHash }));
    writeFileSync(
      join(dataDir, 'sessions.json'),
      JSON.stringify({
        version: 1,
        events: [{ eventId: 'main', title: 'Main event' }],
        meetings: [{ meetingId: 'm1', eventId: 'main', title: 'Meeting one' }],
        sessions: [
          { sessionId: 'plenary', eventId: 'main', title: 'Plenary', open: true, lobby: false, languages: ['en'] },
          { sessionId: 'side', eventId: 'side-event', title: 'Side', status: 'scheduled', lobby: true },
        ],
      }),
    );
    const audit = [
      { at: '2026-01-02T10:00:00.000Z', eventId: 'main', sessionId: 'plenary', personId: 'd1', decision: 'allow', reasons: ['ADMITTED'], source: 'live' },
      { at: '2026-01-02T10:05:00.000Z', eventId: 'main', sessionId: 'plenary', personId: 'd2', decision: 'deny', reasons: ['REGISTRATION_REVOKED'], source: 'live' },
    ];
    writeFileSync(join(dataDir, 'audit.jsonl'), `{"note":"not a record"}\n${audit.map((r) => JSON.stringify(r)).join('\n')}\n{"at":"2026-01-02T10:0`); // a torn last line

    const outcome = await importLegacyData(db, dataDir);
    expect(outcome).toMatchObject({
      kind: 'imported',
      report: { events: 2, meetings: 1, sessions: 2, registrations: 3, accessCodes: 1, administrator: true, auditRecords: 2, auditLinesSkipped: 1 },
    });
    for (const f of ['registry.json', 'administrator.json', 'sessions.json', 'audit.jsonl']) {
      expect(existsSync(join(dataDir, f))).toBe(false);
      expect(existsSync(join(dataDir, `${f}.imported`))).toBe(true);
    }
    expect(await importLegacyData(db, dataDir)).toEqual({ kind: 'none' });

    // The first start's seeds find the records there and add nothing (the other node included).
    const seed = () => ({ events: [{ eventId: 'seeded', title: 'Seeded' }], sessions: [] });
    const registry = await EmbeddedRegistry.open(nodes[1], () => ({ registrations: [person('seeded', 'x', 'x@example.org')], accessCodes: [] }));
    expect(registry.seeded).toBe(false);
    const sessions = await SessionDirectory.open(nodes[1], seed);
    expect(sessions.event('seeded')).toBeUndefined();
    expect(sessions.get('plenary')).toMatchObject({ status: 'open', languages: ['en'] });
    expect(sessions.get('side')).toMatchObject({ eventId: 'side-event', status: 'scheduled' });
    expect(sessions.meetings('main')).toEqual([{ meetingId: 'm1', eventId: 'main', title: 'Meeting one' }]);
    expect(await registry.checkAccessCode('admin@example.org', 'administrator-code-1')).toMatchObject({ personId: 'administrator' });
    expect(await registry.checkAccessCode('d1@example.org', 'delegate-code-1')).toMatchObject({ personId: 'd1' });
    expect((await registry.lookup({ eventId: 'main', personId: 'd2' }))?.status).toBe('revoked');
    const admin = await db.selectFrom('registrations').select(['person_id']).where('administrator', '=', true).execute();
    expect(admin).toEqual([{ person_id: 'administrator' }]);
    const trail = await new DatabaseAuditLog(nodes[1]).query({ eventId: 'main' });
    expect(trail.records.map((r) => [r.at, r.personId, r.decision])).toEqual([
      ['2026-01-02T10:05:00.000Z', 'd2', 'deny'],
      ['2026-01-02T10:00:00.000Z', 'd1', 'allow'],
    ]);
  });

  it('seeds a new database once when two nodes start at once: one of them seeds, the other finds it seeded', async () => {
    const { nodes } = await engine.fresh();
    const seed = () => ({ registrations: [person('main', 'administrator', 'admin@example.org')], accessCodes: [], administrator: { eventId: 'main', personId: 'administrator', code: 'first-start-code' } });
    const sessionSeed = () => ({ events: [{ eventId: 'main', title: 'Main event' }], sessions: [{ sessionId: 'opening', eventId: 'main', title: 'Opening', lobby: false }] });
    const [dirA, dirB] = await Promise.all([SessionDirectory.open(nodes[0], sessionSeed), SessionDirectory.open(nodes[1], sessionSeed)]);
    const registries = await Promise.all([EmbeddedRegistry.open(nodes[0], seed), EmbeddedRegistry.open(nodes[1], seed)]);
    expect(registries.map((r) => r.seeded).sort()).toEqual([false, true]);
    expect(dirA.list()).toEqual(dirB.list());
    expect(dirA.events()).toEqual([{ eventId: 'main', title: 'Main event' }]);
    expect(await registries[0].checkAccessCode('admin@example.org', 'first-start-code')).toMatchObject({ personId: 'administrator' });
    const rows = await nodes[0].selectFrom('registrations').select('person_id').where('administrator', '=', true).execute();
    expect(rows).toHaveLength(1);
  });
});

describe('the audit route pages through the trail', () => {
  const ADMIN_KEY = 'admin-api-key-for-store-accreditation-0123';
  let server: MeetingServer;
  beforeAll(async () => {
    server = await startTestServer({ PLENUM_ADMIN_API_KEY: ADMIN_KEY });
  });
  afterAll(() => server?.close());
  const get = async (query: string) => {
    const res = await fetch(`${server.url}/api/admin/events/demo-council-2026/audit?${query}`, { headers: { 'x-api-key': ADMIN_KEY } });
    return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? ((await res.json()) as Record<string, unknown>) : await res.text() };
  };

  it('answers { records, nextCursor } a page at a time, exports all of it as CSV, and refuses a bad limit or cursor with BAD_REQUEST', async () => {
    const audit = server.accreditation.service.audit;
    for (let i = 0; i < 7; i++) await audit.append({ eventId: 'demo-council-2026', sessionId: 'demo-plenary', personId: `route-${i}`, decision: 'allow', reasons: ['ADMITTED'], source: 'live' });
    const seen: string[] = [];
    let cursor: unknown = undefined;
    do {
      const page = (await get(`sessionId=demo-plenary&limit=3${cursor ? `&cursor=${String(cursor)}` : ''}`)).body as { records: AuditRecord[]; nextCursor: number | null };
      expect(page.records.length).toBeLessThanOrEqual(3);
      seen.push(...page.records.map((r) => r.personId!));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => `route-${6 - i}`));
    const csv = (await get('sessionId=demo-plenary&format=csv')).body as string;
    expect(csv.split('\r\n').filter((l) => l.includes(',route-')).map((l) => /,(route-\d)/.exec(l)![1])).toEqual(Array.from({ length: 7 }, (_, i) => `route-${i}`));
    for (const bad of [`limit=${AUDIT_PAGE_MAX + 1}`, 'limit=0', 'cursor=abc', 'cursor=-4', 'before=3']) {
      const res = await get(bad);
      expect([bad, res.status, (res.body as { error?: { code?: string } }).error?.code]).toEqual([bad, 400, 'BAD_REQUEST']);
    }
  });
});

// Issue 10, item 2.6 (CSV import): a large import never holds the event loop for its whole length, and
// writes racing with it never interleave into an inconsistent registry or get lost. Issue 11: on the
// embedded database (one per file; each test has its own event).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessCodeHasher } from '../../accreditation/access-code-hasher.js';
import type { Registration } from '../../accreditation/model.js';
import { CsvEmailInUseError, EmailInUseError, EmbeddedRegistry } from '../../accreditation/registry/embedded-registry.js';
import { openStore, type Store } from '../../store/open-store.js';

const HEADER = 'event_id,person_id,name,email,entity_name,entity_type,country_code,role,languages,status,sessions,access_code';
const ROWS = 20_000;
const csv = (event: string, prefix: string, rows = ROWS, extra: string[] = []): string =>
  [HEADER, ...Array.from({ length: rows }, (_, i) => `${event},${prefix}-${i},Person ${i},${prefix}${i}@${event}.example,Kenya,member_state,KE,delegate,,approved,,`), ...extra].join('\n');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'plenum-import-'));
const byKey = (rs: Registration[]) => new Map(rs.map((r) => [`${r.eventId}/${r.personId}`, r]));

describe('security: CSV import (issue 10, item 2.6)', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore({ dataDir: tmp() });
  });
  afterAll(() => store.close());

  it('2.6 a CSV import yields to the event loop: timers set when it starts and when it announces changes fire before it completes', async () => {
    const EV = 'ev-slices';
    const reg = new EmbeddedRegistry(store.db);
    const fired: string[] = [];
    setTimeout(() => fired.push('timer set at the start'), 0);
    // A listener with real work per change (as the revocation monitor's, with many rooms): 1 ms each for
    // the first 50, so the announcements alone outlast a slice and must yield in between.
    let announced = 0;
    reg.on('changed', () => {
      if (announced++ === 0) setTimeout(() => fired.push('timer set at the first change event'), 0);
      if (announced > 50) return;
      const until = performance.now() + 1;
      while (performance.now() < until); // busy, on purpose
    });
    const result = await reg.importCsv(csv(EV, 'bulk'), EV);
    fired.push('import done');
    expect(fired).toEqual(['timer set at the start', 'timer set at the first change event', 'import done']);
    // And it did import, all of it, as another node reading the database sees it.
    expect(result).toEqual({ imported: ROWS });
    const other = new EmbeddedRegistry(store.db);
    expect(await other.lookup({ eventId: EV, email: `bulk${ROWS - 1}@${EV}.example` })).toMatchObject({ personId: `bulk-${ROWS - 1}` });
    expect(await other.list(EV)).toHaveLength(ROWS);
  });

  it('2.6 writes racing with imports never interleave: an e-mail stays with one person, and no status change made meanwhile is lost', async () => {
    const EV = 'ev-race';
    const reg = new EmbeddedRegistry(store.db);
    const bystanders = (await reg.importCsv(csv(EV, 'by', 2_000), EV)).imported;
    const shared = 'shared@import.example';
    const claim = (personId: string) => `${EV},${personId},Claimant,${shared},Kenya,member_state,KE,delegate,,approved,,`;
    // Two imports of the same size, so their first checks run side by side and both pass: each claims
    // `shared` for another person of the event. (A PUT takes the same turn among writes as an import.)
    const writes = [reg.importCsv(csv(EV, 'a', ROWS / 2, [claim('a-shared')]), EV), reg.importCsv(csv(EV, 'b', ROWS / 2, [claim('b-shared')]), EV)];
    let done = false;
    void Promise.allSettled(writes).finally(() => (done = true));
    // Meanwhile, at every turn of the loop, another bystander is revoked.
    const revoked: string[] = [];
    const saves: Array<Promise<unknown>> = [];
    while (!done && revoked.length < bystanders) {
      revoked.push(`by-${revoked.length}`);
      saves.push(reg.updateStatus(EV, revoked.at(-1)!, 'revoked'));
      await new Promise(setImmediate);
    }
    const outcomes = await Promise.allSettled(writes);
    await Promise.all(saves);
    expect(revoked.length).toBeGreaterThan(10); // the revocations did run while the writes did

    // Exactly one import got the e-mail; the other was refused for it, and added nobody.
    const holders = (await reg.list(EV)).filter((r) => r.email === shared);
    expect(holders).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.find((o) => o.status === 'rejected')?.reason).toBeInstanceOf(CsvEmailInUseError);
    const imported = new Set((await reg.list(EV)).map((r) => /^([ab])-/.exec(r.personId)?.[1]).filter(Boolean));
    expect([...imported]).toEqual([holders[0]!.personId.split('-')[0]]);
    // And the e-mail checks of PUTs and imports share that order: the e-mail is no one else's now.
    await expect(reg.upsert({ ...holders[0]!, personId: 'p-shared' })).rejects.toBeInstanceOf(EmailInUseError);

    // Every revocation made during the imports survived them.
    const after = byKey(await reg.list(EV));
    expect(revoked.filter((id) => after.get(`${EV}/${id}`)?.status !== 'revoked')).toEqual([]);
  });

  it('2.6 an import with more access codes than the hasher can queue succeeds, its codes work, and a sign-in takes its turn meanwhile', async () => {
    // Small limits stand for the real ones (2 running, 1,000 waiting): 2 + 10 < 40 codes, so queuing them
    // all at once overflows, as 1,500 did; real scrypt.
    const reg = new EmbeddedRegistry(store.db, { hasher: new AccessCodeHasher(2, 10) });
    await reg.upsert({ eventId: 'ev-hash', personId: 'early', name: 'Early', email: 'early@hash.example', entity: { name: 'Kenya', type: 'member_state' }, role: 'delegate', status: 'approved' }, 'early-code-1');
    const rows = 40;
    const text = [HEADER, ...Array.from({ length: rows }, (_, i) => `ev-hash,c-${i},Person ${i},c${i}@hash.example,Kenya,member_state,KE,delegate,,approved,,code-of-${i}-xyz`)].join('\n');
    const order: string[] = [];
    const imported = reg.importCsv(text, 'ev-hash').then((r) => (order.push('import'), r));
    const signIn = reg.checkAccessCode('early@hash.example', 'early-code-1').then((r) => (order.push('sign-in'), r));
    expect(await imported).toEqual({ imported: rows });
    expect(await signIn).toMatchObject({ personId: 'early' });
    expect(order).toEqual(['sign-in', 'import']); // not starved behind the import's 40 hashes
    for (const i of [0, rows / 2, rows - 1]) expect(await reg.checkAccessCode(`c${i}@hash.example`, `code-of-${i}-xyz`)).toMatchObject({ personId: `c-${i}` });
    expect(reg.hasher.load).toEqual({ active: 0, waiting: 0 });
  });

  it('2.6 a revocation acknowledged while an import runs survives it, also for a person the import replaces', async () => {
    // Holds the import's hashing until the test lets it go, so the revocation lands mid-import.
    let hashing!: () => void;
    const started = new Promise<void>((resolve) => (hashing = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    class GatedHasher extends AccessCodeHasher {
      override async hash(code: string): Promise<string> {
        hashing();
        await gate;
        return super.hash(code);
      }
    }
    const reg = new EmbeddedRegistry(store.db, { hasher: new GatedHasher(2) });
    await reg.importCsv([HEADER, 'ev-gate,x,Xavier,x@gate.example,Kenya,member_state,KE,delegate,,approved,,', 'ev-gate,y,Yara,y@gate.example,Kenya,member_state,KE,delegate,,approved,,'].join('\n'), 'ev-gate');
    const changed: string[] = [];
    reg.on('changed', (r) => changed.push(`${r.personId}:${r.status}`));
    // The import (from a CRM export taken earlier) replaces x, with a new name and status approved.
    const importing = reg.importCsv([HEADER, 'ev-gate,x,Xavier Renamed,x@gate.example,Kenya,member_state,KE,delegate,,approved,,xavier-code-1', 'ev-gate,z,Zoe,z@gate.example,Kenya,member_state,KE,delegate,,approved,,'].join('\n'), 'ev-gate');
    await started;
    expect(await reg.updateStatus('ev-gate', 'x', 'revoked')).toMatchObject({ status: 'revoked' });
    expect(await reg.updateStatus('ev-gate', 'y', 'revoked')).toMatchObject({ status: 'revoked' });
    release();
    expect(await importing).toEqual({ imported: 2 });

    const x = await reg.lookup({ eventId: 'ev-gate', personId: 'x' });
    expect(x).toMatchObject({ name: 'Xavier Renamed', status: 'revoked' }); // the import's row, with the revocation
    expect((await reg.lookup({ eventId: 'ev-gate', personId: 'y' }))?.status).toBe('revoked');
    expect(changed).toEqual(['x:revoked', 'y:revoked', expect.stringMatching(/^x:/), 'z:approved']);
  });
});

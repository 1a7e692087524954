// Issue 10, item 2.6 (CSV import): a large import never holds the event loop for its whole length, and
// writes racing with it never interleave into an inconsistent registry or get lost.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AccessCodeHasher } from '../../accreditation/access-code-hasher.js';
import { demoRegistry, DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { Registration } from '../../accreditation/model.js';
import { CsvEmailInUseError, EmailInUseError, EmbeddedRegistry } from '../../accreditation/registry/embedded-registry.js';

const HEADER = 'event_id,person_id,name,email,entity_name,entity_type,country_code,role,languages,status,sessions,access_code';
const ROWS = 20_000;
const csv = (prefix: string, rows = ROWS, extra: string[] = []): string =>
  [HEADER, ...Array.from({ length: rows }, (_, i) => `${DEMO_EVENT_ID},${prefix}-${i},Person ${i},${prefix}${i}@import.example,Kenya,member_state,KE,delegate,,approved,,`), ...extra].join('\n');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'plenum-import-'));
const byKey = (rs: Registration[]) => new Map(rs.map((r) => [`${r.eventId}/${r.personId}`, r]));

describe('security: CSV import (issue 10, item 2.6)', () => {
  it('2.6 a CSV import yields to the event loop: timers set when it starts and when it announces changes fire before it completes', async () => {
    const dir = tmp();
    const reg = new EmbeddedRegistry(dir, demoRegistry);
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
    const result = await reg.importCsv(csv('bulk'), DEMO_EVENT_ID);
    fired.push('import done');
    expect(fired).toEqual(['timer set at the start', 'timer set at the first change event', 'import done']);
    // And it did import, and saved what it imported.
    expect(result).toEqual({ imported: ROWS });
    expect(await reg.lookup({ eventId: DEMO_EVENT_ID, email: `bulk${ROWS - 1}@import.example` })).toMatchObject({ personId: `bulk-${ROWS - 1}` });
    expect(byKey(new EmbeddedRegistry(dir, demoRegistry).list())).toEqual(byKey(reg.list()));
  });

  it('2.6 writes racing with imports never interleave: an e-mail stays with one person, and no status change made meanwhile is lost', async () => {
    const dir = tmp();
    const reg = new EmbeddedRegistry(dir, demoRegistry);
    const bystanders = (await reg.importCsv(csv('by', 2_000), DEMO_EVENT_ID)).imported;
    const shared = 'shared@import.example';
    const claim = (personId: string) => `${DEMO_EVENT_ID},${personId},Claimant,${shared},Kenya,member_state,KE,delegate,,approved,,`;
    // Two imports of the same size, so their first checks run side by side and both pass: each claims
    // `shared` for another person of the event. (A PUT takes the same turn among writes as an import.)
    const writes = [reg.importCsv(csv('a', ROWS / 2, [claim('a-shared')]), DEMO_EVENT_ID), reg.importCsv(csv('b', ROWS / 2, [claim('b-shared')]), DEMO_EVENT_ID)];
    let done = false;
    void Promise.allSettled(writes).finally(() => (done = true));
    // Meanwhile, at every turn of the loop, another bystander is revoked (in memory at once, saved later).
    const revoked: string[] = [];
    const saves: Array<Promise<unknown>> = [];
    while (!done && revoked.length < bystanders) {
      revoked.push(`by-${revoked.length}`);
      saves.push(reg.updateStatus(DEMO_EVENT_ID, revoked.at(-1)!, 'revoked'));
      await new Promise(setImmediate);
    }
    const outcomes = await Promise.allSettled(writes);
    await Promise.all(saves);
    expect(revoked.length).toBeGreaterThan(10); // the revocations did run while the writes did

    // Exactly one import got the e-mail; the other was refused for it, and added nobody.
    const holders = reg.list().filter((r) => r.email === shared);
    expect(holders).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.find((o) => o.status === 'rejected')?.reason).toBeInstanceOf(CsvEmailInUseError);
    const imported = new Set(reg.list().map((r) => /^([ab])-/.exec(r.personId)?.[1]).filter(Boolean));
    expect([...imported]).toEqual([holders[0]!.personId.split('-')[0]]);
    // And the e-mail checks of PUTs and imports share that order: the e-mail is no one else's now.
    await expect(reg.upsert({ ...holders[0]!, personId: 'p-shared' })).rejects.toBeInstanceOf(EmailInUseError);

    // Every revocation made during the imports survived them (an import swaps in its copy of the registry),
    // in memory and on disk.
    const after = byKey(reg.list());
    expect(revoked.filter((id) => after.get(`${DEMO_EVENT_ID}/${id}`)?.status !== 'revoked')).toEqual([]);
    expect(byKey(new EmbeddedRegistry(dir, demoRegistry).list())).toEqual(after);
  });

  it('2.6 an import with more access codes than the hasher can queue succeeds, its codes work, and a sign-in takes its turn meanwhile', async () => {
    // Small limits stand for the real ones (2 running, 1,000 waiting): 2 + 10 < 40 codes, so queuing them
    // all at once overflows, as 1,500 did; real scrypt.
    const reg = new EmbeddedRegistry(tmp(), undefined, { hasher: new AccessCodeHasher(2, 10) });
    await reg.upsert({ eventId: 'ev', personId: 'early', name: 'Early', email: 'early@import.example', entity: { name: 'Kenya', type: 'member_state' }, role: 'delegate', status: 'approved' }, 'early-code-1');
    const rows = 40;
    const text = [HEADER, ...Array.from({ length: rows }, (_, i) => `ev,c-${i},Person ${i},c${i}@import.example,Kenya,member_state,KE,delegate,,approved,,code-of-${i}-xyz`)].join('\n');
    const order: string[] = [];
    const imported = reg.importCsv(text, 'ev').then((r) => (order.push('import'), r));
    const signIn = reg.checkAccessCode('early@import.example', 'early-code-1').then((r) => (order.push('sign-in'), r));
    expect(await imported).toEqual({ imported: rows });
    expect(await signIn).toMatchObject({ personId: 'early' });
    expect(order).toEqual(['sign-in', 'import']); // not starved behind the import's 40 hashes
    for (const i of [0, rows / 2, rows - 1]) expect(await reg.checkAccessCode(`c${i}@import.example`, `code-of-${i}-xyz`)).toMatchObject({ personId: `c-${i}` });
    expect(reg.hasher.load).toEqual({ active: 0, waiting: 0 });
  });

  it('2.6 a revocation acknowledged while an import runs survives it, also for a person the import replaces', async () => {
    const dir = tmp();
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
    const reg = new EmbeddedRegistry(dir, undefined, { hasher: new GatedHasher(2) });
    await reg.importCsv([HEADER, 'ev,x,Xavier,x@import.example,Kenya,member_state,KE,delegate,,approved,,', 'ev,y,Yara,y@import.example,Kenya,member_state,KE,delegate,,approved,,'].join('\n'), 'ev');
    const changed: string[] = [];
    reg.on('changed', (r) => changed.push(`${r.personId}:${r.status}`));
    // The import (from a CRM export taken earlier) replaces x, with a new name and status approved.
    const importing = reg.importCsv([HEADER, 'ev,x,Xavier Renamed,x@import.example,Kenya,member_state,KE,delegate,,approved,,xavier-code-1', 'ev,z,Zoe,z@import.example,Kenya,member_state,KE,delegate,,approved,,'].join('\n'), 'ev');
    await started;
    expect(await reg.updateStatus('ev', 'x', 'revoked')).toMatchObject({ status: 'revoked' });
    expect(await reg.updateStatus('ev', 'y', 'revoked')).toMatchObject({ status: 'revoked' });
    release();
    expect(await importing).toEqual({ imported: 2 });

    const x = await reg.lookup({ eventId: 'ev', personId: 'x' });
    expect(x).toMatchObject({ name: 'Xavier Renamed', status: 'revoked' }); // the import's row, with the revocation
    expect((await reg.lookup({ eventId: 'ev', personId: 'y' }))?.status).toBe('revoked');
    expect(byKey(new EmbeddedRegistry(dir).list())).toEqual(byKey(reg.list()));
    expect(changed).toEqual(['x:revoked', 'y:revoked', expect.stringMatching(/^x:/), 'z:approved']);
  });
});

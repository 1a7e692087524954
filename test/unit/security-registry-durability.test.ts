// Issue 10, item 2.1/2.6 follow-ups, on the system of record (issue 11): a registry write is announced only
// once it is committed, a write that fails leaves nothing behind (an import, not even its first batches), and an
// old version-1 registry.json is taken over with each code given to its one owner, the original kept.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLegacyData } from '../../accreditation/legacy-import.js';
import { EmbeddedRegistry, hashAccessCodeSync, WRITE_BATCH_ROWS } from '../../accreditation/registry/embedded-registry.js';
import { openStore, type Store } from '../../store/open-store.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'plenum-durable-'));
const person = (eventId: string, personId: string, email: string) => ({
  eventId,
  personId,
  name: personId,
  email,
  entity: { name: 'Kenya', type: 'member_state' as const },
  role: 'delegate' as const,
  status: 'approved' as const,
});
const HEADER = 'event_id,person_id,name,email,entity_name,entity_type,country_code,role,languages,status,sessions,access_code';

/** The database refusing the n-th INSERT from now on (a full disk, a lost connection), as a Kysely plugin. */
function failingInsert(n: number): KyselyPlugin {
  let inserts = 0;
  return {
    transformQuery: (args) => {
      if (args.node.kind === 'InsertQueryNode' && ++inserts === n) throw new Error('simulated: the database refused the write');
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
}

describe('security: registry durability', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore({ dataDir: tmp() });
  });
  afterAll(() => store.close());

  it('2.6 a write is announced once committed; a write the database refuses changes nothing and announces nothing', async () => {
    const reg = new EmbeddedRegistry(store.db);
    await reg.upsert(person('ev-fail', 'a', 'a@example.org'));
    const changed: string[] = [];
    reg.on('changed', (r) => changed.push(`${r.personId}:${r.status}`));
    expect(await reg.updateStatus('ev-fail', 'a', 'revoked')).toMatchObject({ status: 'revoked' });
    expect(changed).toEqual(['a:revoked']);

    // An import whose second batch the database refuses: the first batch is not kept either.
    const failing = new EmbeddedRegistry(store.db.withPlugin(failingInsert(2)));
    failing.on('changed', (r) => changed.push(`${r.personId}:${r.status}`));
    const rows = WRITE_BATCH_ROWS + 10;
    const csv = [HEADER, ...Array.from({ length: rows }, (_, i) => `ev-fail,p-${i},P ${i},p${i}@fail.example,Kenya,member_state,KE,delegate,,approved,,`)].join('\n');
    await expect(failing.importCsv(csv, 'ev-fail')).rejects.toThrow(/simulated/);
    await expect(new EmbeddedRegistry(store.db.withPlugin(failingInsert(1))).upsert(person('ev-fail', 'b', 'b@example.org'))).rejects.toThrow(/simulated/);
    expect(changed).toEqual(['a:revoked']);
    expect((await reg.list('ev-fail')).map((r) => r.personId)).toEqual(['a']);

    // The same import, with nothing refused, is all there.
    expect(await reg.importCsv(csv, 'ev-fail')).toEqual({ imported: rows });
    expect(await reg.list('ev-fail')).toHaveLength(rows + 1);
  });

  it('2.1 a version-1 registry.json is imported with each code given to its one owner (the dropped ones named), and the original kept as registry.json.imported', async () => {
    const dir = tmp();
    const original = JSON.stringify({
      version: 1,
      registrations: [person('ev', 'a', 'a@example.org'), person('ev', 'b', 'b@example.org'), person('ev2', 'b2', 'b@example.org')],
      accessCodes: { 'a@example.org': hashAccessCodeSync('code-of-a-1'), 'b@example.org': hashAccessCodeSync('code-of-b-1'), 'gone@example.org': hashAccessCodeSync('code-of-gone') },
    });
    writeFileSync(join(dir, 'registry.json'), original);
    const legacy = await openStore({ dataDir: dir });
    try {
      const outcome = await importLegacyData(legacy.db, dir);
      expect(outcome).toMatchObject({
        kind: 'imported',
        report: { registrations: 3, accessCodes: 1, registryV1: { migrated: 1, dropped: { noRegistration: ['gone@example.org'], severalRegistrations: ['b@example.org'] } } },
      });
      expect(existsSync(join(dir, 'registry.json'))).toBe(false);
      expect(readFileSync(join(dir, 'registry.json.imported'), 'utf8')).toBe(original);
      const reg = new EmbeddedRegistry(legacy.db);
      expect(await reg.list()).toHaveLength(3);
      expect(await reg.checkAccessCode('a@example.org', 'code-of-a-1')).toMatchObject({ eventId: 'ev', personId: 'a' });
      // The ambiguous code went to nobody: either event's b could have been its owner.
      expect(await reg.checkAccessCode('b@example.org', 'code-of-b-1')).toBeNull();
      // A version-1 file put back is not imported again over the records.
      writeFileSync(join(dir, 'registry.json'), JSON.stringify({ version: 1, registrations: [], accessCodes: {} }));
      expect(await importLegacyData(legacy.db, dir)).toMatchObject({ kind: 'skipped' });
      expect(readFileSync(join(dir, 'registry.json.imported'), 'utf8')).toBe(original);
    } finally {
      await legacy.close();
    }
  });
});

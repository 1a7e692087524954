// Issue 10, item 2.1/2.6 follow-ups: what the embedded registry keeps on disk, and what it announces, when a
// save fails, when the disk writes less than asked, and when an old file is migrated.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type * as Fs from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { JsonFile } from '../../accreditation/json-file.js';
import { registration } from '../../accreditation/model.js';
import { EmbeddedRegistry, hashAccessCodeSync } from '../../accreditation/registry/embedded-registry.js';

// node:fs(/promises) as they are, except that, when a test asks, write() writes at most a few bytes per call
// (as the kernel may), and every fsync is recorded with its path.
const disk = vi.hoisted(() => ({ shortWrites: false, synced: [] as string[] }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  const open = async (...args: Parameters<typeof actual.open>): Promise<FileHandle> => {
    const handle = await actual.open(...args);
    const path = String(args[0]);
    return new Proxy(handle, {
      get(target, prop) {
        if (prop === 'write')
          return (data: string | Buffer, offset?: number, length?: number, position?: number | null) => {
            const buffer = typeof data === 'string' ? Buffer.from(data) : data;
            const start = typeof data === 'string' ? 0 : (offset ?? 0);
            const wanted = typeof data === 'string' ? buffer.length : (length ?? buffer.length - start);
            return target.write(buffer, start, disk.shortWrites ? Math.min(wanted, 7) : wanted, position);
          };
        if (prop === 'sync') return () => (disk.synced.push(path), target.sync());
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
  return { ...actual, open, default: { ...actual, open } };
});
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof Fs>();
  const paths = new Map<number, string>();
  const openSync = (...args: Parameters<typeof actual.openSync>): number => {
    const fd = actual.openSync(...args);
    paths.set(fd, String(args[0]));
    return fd;
  };
  const fsyncSync = (fd: number): void => {
    disk.synced.push(paths.get(fd) ?? `fd ${fd}`);
    actual.fsyncSync(fd);
  };
  return { ...actual, openSync, fsyncSync, default: { ...actual, openSync, fsyncSync } };
});

const tmp = (): string => mkdtempSync(join(tmpdir(), 'plenum-durable-'));
const person = (personId: string, email: string) => ({ eventId: 'ev', personId, name: personId, email, entity: { name: 'Kenya', type: 'member_state' as const }, role: 'delegate' as const, status: 'approved' as const });
const HEADER = 'event_id,person_id,name,email,entity_name,entity_type,country_code,role,languages,status,sessions,access_code';

describe('security: registry durability', () => {
  it('2.6 a failed save still announces what changed in memory, and the next save writes it', async () => {
    const dir = tmp();
    const reg = new EmbeddedRegistry(dir);
    await reg.upsert(person('a', 'a@example.org'));
    await reg.upsert(person('b', 'b@example.org'));
    const changed: string[] = [];
    reg.on('changed', (r) => changed.push(`${r.personId}:${r.status}`));
    // A directory where the save's temporary file goes: every save fails (also as root) until it is removed.
    const blocker = join(dir, `registry.json.${process.pid}.tmp`);
    mkdirSync(blocker);
    await expect(reg.updateStatus('ev', 'a', 'revoked')).rejects.toThrow();
    await expect(reg.upsert({ ...person('b', 'b@example.org'), name: 'B renamed' })).rejects.toThrow();
    await expect(reg.importCsv(`${HEADER}\nev,c,C,c@example.org,Kenya,member_state,KE,delegate,,approved,,`, 'ev')).rejects.toThrow();
    // Live in memory, and announced (the revocation monitor removes a, the cache forgets them)...
    expect((await reg.lookup({ eventId: 'ev', personId: 'a' }))?.status).toBe('revoked');
    expect(changed).toEqual(['a:revoked', 'b:approved', 'c:approved']);
    // ...but not yet on disk; the next save that succeeds writes all of it.
    expect(new EmbeddedRegistry(dir).list().find((r) => r.personId === 'a')?.status).toBe('approved');
    rmSync(blocker, { recursive: true });
    await reg.upsert(person('d', 'd@example.org'));
    const reloaded = new EmbeddedRegistry(dir).list();
    expect(reloaded.map((r) => `${r.personId}:${r.status}:${r.name}`).sort()).toEqual(['a:revoked:a', 'b:approved:B renamed', 'c:approved:C', 'd:approved:d']);
  });

  it('2.6 a save writes all of the file when the disk takes a few bytes per write, and syncs the directory after the rename', async () => {
    const dir = tmp();
    const file = new JsonFile(join(dir, 'doc.json'), registration);
    const doc = registration.parse(person('a', 'a@example.org'));
    disk.synced.length = 0;
    disk.shortWrites = true;
    try {
      await file.saveParts(
        (async function* () {
          yield JSON.stringify(doc).slice(0, 40);
          yield JSON.stringify(doc).slice(40);
        })(),
      );
    } finally {
      disk.shortWrites = false;
    }
    expect(file.load()).toEqual(doc);
    expect(disk.synced).toEqual([`${join(dir, 'doc.json')}.${process.pid}.tmp`, dir]);

    disk.synced.length = 0;
    file.save({ ...doc, name: 'again' });
    expect(file.load().name).toBe('again');
    expect(disk.synced).toEqual([`${join(dir, 'doc.json')}.${process.pid}.tmp`, dir]);
  });

  it('2.1 migrating a version-1 registry.json keeps the original, once, in registry.json.v1.bak, and says why each code was dropped', () => {
    const dir = tmp();
    const original = JSON.stringify({
      version: 1,
      registrations: [person('a', 'a@example.org'), person('b', 'b@example.org'), { ...person('b2', 'b@example.org'), eventId: 'ev2' }],
      accessCodes: { 'a@example.org': hashAccessCodeSync('code-of-a-1'), 'b@example.org': hashAccessCodeSync('code-of-b-1'), 'gone@example.org': hashAccessCodeSync('code-of-gone') },
    });
    writeFileSync(join(dir, 'registry.json'), original);
    const reg = new EmbeddedRegistry(dir);
    expect(reg.list()).toHaveLength(3);
    expect(reg.migration).toEqual({ migrated: 1, dropped: { noRegistration: ['gone@example.org'], severalRegistrations: ['b@example.org'] }, backup: join(dir, 'registry.json.v1.bak') });
    expect(readFileSync(join(dir, 'registry.json.v1.bak'), 'utf8')).toBe(original);
    expect(JSON.parse(readFileSync(join(dir, 'registry.json'), 'utf8'))).toMatchObject({ version: 2 });
    // Loaded again (now version 2): no migration, and the backup is left as it was.
    expect(new EmbeddedRegistry(dir).migration).toBeUndefined();
    // A later version-1 file never overwrites the first backup.
    writeFileSync(join(dir, 'registry.json'), JSON.stringify({ version: 1, registrations: [], accessCodes: {} }));
    expect(new EmbeddedRegistry(dir).migration?.backup).toBe(join(dir, 'registry.json.v1.bak'));
    expect(readFileSync(join(dir, 'registry.json.v1.bak'), 'utf8')).toBe(original);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataDirInUseError } from '../../store/data-dir-lock.js';
import { knownMigrations } from '../../store/migrate.js';
import { openStore, type Store } from '../../store/open-store.js';
import { PostgresProcess } from '../helpers/postgres-process.js';

// Versioned migrations run at start under a lock: nodes that open the same fresh PostgreSQL at once migrate
// it once; the embedded engine's directory is one process's at a time; a migration that fails leaves nothing
// half applied.

let postgres: PostgresProcess;
const dirs: string[] = [];
const stores: Store[] = [];
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'plenum-migrations-'));
  dirs.push(dir);
  return dir;
};

/** A fresh database on the shared server, and its URL. */
async function freshDatabase(name: string): Promise<string> {
  await postgres.withClient((c) => c.query(`create database ${name}`), 'postgres');
  return postgres.url.replace(/\/plenum$/, `/${name}`);
}

beforeAll(async () => {
  postgres = await PostgresProcess.start();
}, 60_000);
afterAll(async () => {
  for (const s of stores) await s.close().catch(() => undefined);
  await postgres?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('store: migrations', () => {
  it('three nodes opening a fresh PostgreSQL at once migrate it once; a fourth finds nothing to do', async () => {
    const databaseUrl = await freshDatabase('three_at_once');
    const known = knownMigrations();
    expect(known.length).toBeGreaterThan(0);
    const three = await Promise.all([1, 2, 3].map(() => openStore({ databaseUrl, dataDir: dataDir() })));
    stores.push(...three);
    for (const s of three) {
      expect(s.kind).toBe('postgres');
      expect(s.migration.current).toEqual(known);
    }
    // Each migration was applied by exactly one of them.
    const applied = three.flatMap((s) => s.migration.applied).sort();
    expect(applied).toEqual(known);
    const rows = await postgres.withClient(async (c) => (await c.query<{ name: string; n: number }>('select name, count(*)::int as n from plenum_migrations group by name order by name')).rows, 'three_at_once');
    expect(rows).toEqual(known.map((name) => ({ name, n: 1 })));

    const fourth = await openStore({ databaseUrl, dataDir: dataDir() });
    stores.push(fourth);
    expect(fourth.migration).toEqual({ applied: [], current: known });
  });

  it('the embedded engine refuses a second open of a data directory in use, and opens it once the first is closed', async () => {
    const dir = dataDir();
    const first = await openStore({ dataDir: dir });
    expect(first.kind).toBe('embedded');
    expect(first.migration.applied).toEqual(knownMigrations());
    const refused = await openStore({ dataDir: dir }).then(
      (s) => {
        stores.push(s);
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(DataDirInUseError);
    await first.close();
    const second = await openStore({ dataDir: dir });
    stores.push(second);
    // The same database, already migrated.
    expect(second.migration).toEqual({ applied: [], current: knownMigrations() });
  });

  it('a migration that fails halfway fails the open with a clear error, applies none of it, and runs once the conflict is gone', async () => {
    const databaseUrl = await freshDatabase('conflict_halfway');
    // The first migration creates `webhook_outbox` near its end, after `sessions`, `audit` and the rest.
    await postgres.withClient((c) => c.query('create table webhook_outbox (wrong text)'), 'conflict_halfway');
    await expect(openStore({ databaseUrl, dataDir: dataDir() })).rejects.toThrow(/database migration failed: .*webhook_outbox.*already exists/);
    const state = () =>
      postgres.withClient(async (c) => {
        const tables = (await c.query<{ table_name: string }>(`select table_name from information_schema.tables where table_schema = 'public'`)).rows.map((r) => r.table_name);
        const recorded = tables.includes('plenum_migrations') ? (await c.query<{ name: string }>('select name from plenum_migrations order by name')).rows.map((r) => r.name) : [];
        return { tables, recorded };
      }, 'conflict_halfway');
    const after = await state();
    // Nothing of the migration's earlier statements, and no migration recorded as applied.
    expect(after.tables).not.toContain('sessions');
    expect(after.tables).not.toContain('audit');
    expect(after.recorded).toEqual([]);

    await postgres.withClient((c) => c.query('drop table webhook_outbox'), 'conflict_halfway');
    const store = await openStore({ databaseUrl, dataDir: dataDir() });
    stores.push(store);
    expect(store.migration.applied).toEqual(knownMigrations());
    expect((await state()).recorded).toEqual(knownMigrations());
  });

  it('a migration run that fails fails the open with a clear error and leaves no half-applied schema', async () => {
    const databaseUrl = await freshDatabase('broken_migrations');
    // A table of that name that is not the migrator's: the run cannot record (or read) what it applied.
    await postgres.withClient((c) => c.query('create table plenum_migrations (wrong text)'), 'broken_migrations');
    await expect(openStore({ databaseUrl, dataDir: dataDir() })).rejects.toThrow(/database migration failed: column .* does not exist/);
    const tables = await postgres.withClient(
      async (c) => (await c.query<{ table_name: string }>(`select table_name from information_schema.tables where table_schema = 'public' order by table_name`)).rows.map((r) => r.table_name),
      'broken_migrations',
    );
    expect(tables).not.toContain('sessions');
    expect(tables).not.toContain('audit');
  });
});

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { DataDirLock } from './data-dir-lock.js';
import { EmbeddedEngine } from './embedded-engine.js';
import { migrateToLatest, type MigrationReport } from './migrate.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { Schema } from './schema.js';

export type Db = Kysely<Schema>;
export type StoreKind = 'embedded' | 'postgres';

/** The system of record, on whichever engine this deployment runs. Code above it only ever sees `db`. */
export interface Store {
  readonly kind: StoreKind;
  readonly db: Db;
  /** Where it is, for logs: a directory, or the server without its password. */
  readonly location: string;
  readonly migration: MigrationReport;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** postgres://… for a cluster's shared PostgreSQL; absent for the embedded engine. */
  databaseUrl?: string;
  /** The embedded engine keeps its files in `<dataDir>/database`. */
  dataDir: string;
  /** PostgreSQL connections per node. */
  poolSize?: number;
  /** Run the migrations (default). The CLI's `migrate` runs them on its own. */
  migrate?: boolean;
}

// int8 (bigint, bigserial) as a JS number, as PGlite returns it: ids and fencing tokens stay below 2^53.
const INT8 = 20;
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

export async function openStore(options: StoreOptions): Promise<Store> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options) : openEmbedded(options);
}

async function openPostgres(url: string, options: StoreOptions): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, types: pgTypes, connectionTimeoutMillis: 5000 });
  // An idle client whose server went away (a failover) is dropped by the pool; without a listener the error would kill the process.
  pool.on('error', () => undefined);
  // The same for a client checked out of the pool (a transaction between two queries) when its connection
  // ends: pg emits the error on the client, and the query in flight, if any, is rejected anyway.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  try {
    const migration = options.migrate === false ? { applied: [], current: [] } : await migrateToLatest(db as Kysely<unknown>);
    return { kind: 'postgres', db, location: redact(url), migration, close: () => db.destroy() };
  } catch (error) {
    await db.destroy();
    throw error;
  }
}

async function openEmbedded(options: StoreOptions): Promise<Store> {
  const dir = join(options.dataDir, 'database');
  await mkdir(dir, { recursive: true });
  // PGlite does not guard its directory: two processes on one would corrupt it.
  const lock = await DataDirLock.take(`${dir}.lock`);
  try {
    const engine = await EmbeddedEngine.start(dir);
    const db = new Kysely<Schema>({ dialect: new PGliteDialect(engine) });
    try {
      const migration = options.migrate === false ? { applied: [], current: [] } : await migrateToLatest(db as Kysely<unknown>);
      return {
        kind: 'embedded',
        db,
        location: dir,
        migration,
        close: async () => {
          await db.destroy();
          await lock.release();
        },
      };
    } catch (error) {
      await db.destroy();
      throw error;
    }
  } catch (error) {
    await lock.release();
    throw error;
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres (unparsable URL)';
  }
}

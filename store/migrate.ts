import { Migrator, type Kysely, type MigrationProvider } from 'kysely';
import { migrations } from './migrations/index.js';

const provider: MigrationProvider = { getMigrations: async () => migrations };

export interface MigrationReport {
  applied: string[];
  /** Every migration the database has now, in order. */
  current: string[];
}

/**
 * Brings the schema up to date. Kysely's migrator takes a PostgreSQL advisory lock for the whole run and applies
 * each migration in its own transaction, so nodes that start together migrate once: the first applies, the
 * others wait on the lock and then find nothing left to do.
 */
export async function migrateToLatest(db: Kysely<unknown>): Promise<MigrationReport> {
  const migrator = new Migrator({ db, provider, migrationTableName: 'plenum_migrations', migrationLockTableName: 'plenum_migration_lock' });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw new Error(`database migration failed: ${(error as Error).message ?? String(error)}`, { cause: error });
  const all = await migrator.getMigrations();
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName), current: all.filter((m) => m.executedAt).map((m) => m.name) };
}

/** The migrations this build knows, in order. */
export function knownMigrations(): string[] {
  return Object.keys(migrations).sort();
}

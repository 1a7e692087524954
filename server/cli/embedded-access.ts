// The backup and restore commands work on the embedded engine's files themselves, under the same lock a server
// takes: PGlite does not guard its directory, and a copy taken under a running server would be torn.
import { mkdir } from 'node:fs/promises';
import type { PGlite } from '@electric-sql/pglite';
import { DataDirInUseError, DataDirLock } from '../../store/data-dir-lock.js';
import { CliError, CliErrorCode } from './cli-error.js';
import { cliEnvironment, embeddedLockPath, inUse, type CliEnvironment } from './cli-store.js';

/** The environment, refusing PostgreSQL: its own tools back it up, with a recovery point PGlite cannot give. */
export function embeddedEnvironment(command: string): CliEnvironment {
  const env = cliEnvironment();
  if (env.databaseUrl) {
    throw new CliError(
      CliErrorCode.NOT_EMBEDDED,
      `${command} is for the embedded engine; PLENUM_DATABASE_URL is set: use PostgreSQL's own tools (pg_dump for a logical copy, pg_basebackup with WAL archiving for a recovery point)`,
    );
  }
  return env;
}

/** Runs `work` holding the embedded database's lock; a running server makes it E_DATA_DIR_IN_USE. */
export async function withEmbeddedLock<T>(dataDir: string, work: () => Promise<T>): Promise<T> {
  await mkdir(dataDir, { recursive: true });
  let lock: DataDirLock;
  try {
    lock = await DataDirLock.take(embeddedLockPath(dataDir));
  } catch (error) {
    if (error instanceof DataDirInUseError) throw inUse(error);
    throw error;
  }
  try {
    return await work();
  } finally {
    await lock.release();
  }
}

/** The migrations a database has, or [] for one that was never migrated. */
export async function migrationsOf(pglite: PGlite): Promise<string[]> {
  try {
    const { rows } = await pglite.query<{ name: string }>('select name from plenum_migrations order by name');
    return rows.map((r) => r.name);
  } catch {
    return [];
  }
}

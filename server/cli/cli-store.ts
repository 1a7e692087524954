// Where the CLI finds the system of record: the same environment variables as the server, read on their own so
// that a command needs none of the server's other settings (secrets, media ports).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { DataDirInUseError } from '../../store/data-dir-lock.js';
import { openStore, type Store } from '../../store/open-store.js';
import { CliError, CliErrorCode } from './cli-error.js';

const environment = z.object({
  PLENUM_DATA_DIR: z.string().min(1).default('data'),
  PLENUM_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'PLENUM_DATABASE_URL must be a postgres:// or postgresql:// URL')
    .optional(),
});

export interface CliEnvironment {
  /** Absolute, as the server resolves it. */
  dataDir: string;
  databaseUrl: string | undefined;
}

export function cliEnvironment(env: NodeJS.ProcessEnv = process.env): CliEnvironment {
  const parsed = environment.safeParse({ PLENUM_DATA_DIR: env.PLENUM_DATA_DIR || undefined, PLENUM_DATABASE_URL: env.PLENUM_DATABASE_URL || undefined });
  if (!parsed.success) throw new CliError(CliErrorCode.CONFIG, parsed.error.issues.map((i) => i.message).join('; '));
  return { dataDir: resolve(parsed.data.PLENUM_DATA_DIR), databaseUrl: parsed.data.PLENUM_DATABASE_URL };
}

/** The embedded engine's own directory inside the data directory (as store/open-store.ts lays it out). */
export function embeddedDir(dataDir: string): string {
  return join(dataDir, 'database');
}

/** The lock file a running server holds on the embedded database. */
export function embeddedLockPath(dataDir: string): string {
  return `${embeddedDir(dataDir)}.lock`;
}

export function embeddedDatabaseExists(dataDir: string): boolean {
  return existsSync(join(embeddedDir(dataDir), 'PG_VERSION'));
}

/** A lock held by a server becomes the CLI's "stop the server first". */
export function inUse(error: DataDirInUseError): CliError {
  return new CliError(CliErrorCode.DATA_DIR_IN_USE, `the embedded database ${error.path.replace(/\.lock$/, '')} is in use by process ${error.pid}; stop the server first`, 1, {
    cause: error,
  });
}

/**
 * Opens the store the server would open. `mustExist`: an embedded database that is not there yet is an error
 * (a read-only command must not create an empty one as a side effect).
 */
export async function openCliStore(env: CliEnvironment, options: { migrate: boolean; mustExist: boolean }): Promise<Store> {
  if (!env.databaseUrl && options.mustExist && !embeddedDatabaseExists(env.dataDir)) {
    throw new CliError(CliErrorCode.NO_DATABASE, `no embedded database in ${env.dataDir} (PLENUM_DATA_DIR); run \`plenum migrate\` or start the server once`);
  }
  try {
    return await openStore({ databaseUrl: env.databaseUrl, dataDir: env.dataDir, poolSize: 2, migrate: options.migrate });
  } catch (error) {
    if (error instanceof DataDirInUseError) throw inUse(error);
    if (error instanceof CliError) throw error;
    throw new CliError(CliErrorCode.DATABASE, `cannot open the database: ${(error as Error).message}`, 1, { cause: error });
  }
}

/** Progress on long steps goes to stderr, so stdout stays one JSON document. */
export function progress(command: string, message: string): void {
  process.stderr.write(`[plenum ${command}] ${message}\n`);
}

import { existsSync, openAsBlob } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { commandArgs } from '../cli-args.js';
import { CliError, CliErrorCode } from '../cli-error.js';
import { embeddedDir, progress } from '../cli-store.js';
import { embeddedEnvironment, migrationsOf, withEmbeddedLock } from '../embedded-access.js';
import type { Command } from './command.js';

const usage = 'plenum restore <file> [--force]';

/**
 * A backup back into the data directory. It is unpacked and opened beside the target first, so a bad archive
 * changes nothing; with --force an existing database is moved aside (database.replaced-<time>), never deleted.
 */
export const restore: Command = {
  name: 'restore',
  usage,
  summary: 'restore the embedded database from a backup into PLENUM_DATA_DIR (empty, or --force to move the current one aside)',
  async run(argv) {
    const { values, positionals } = commandArgs(argv, { force: { type: 'boolean', default: false } }, ['<file>'], usage);
    const file = resolve(positionals[0]!);
    const env = embeddedEnvironment('restore');
    if (!existsSync(file)) throw new CliError(CliErrorCode.FILE_NOT_FOUND, `${file} does not exist`);
    const dir = embeddedDir(env.dataDir);
    return withEmbeddedLock(env.dataDir, async () => {
      const occupied = existsSync(dir) && (await readdir(dir)).length > 0;
      if (occupied && !values.force) {
        throw new CliError(CliErrorCode.TARGET_NOT_EMPTY, `${dir} already holds a database; give --force to move it aside (it is kept, not deleted)`);
      }
      const staging = `${dir}.restoring-${process.pid}`;
      await rm(staging, { recursive: true, force: true });
      await mkdir(staging, { recursive: true });
      let migrations: string[];
      try {
        progress('restore', `unpacking ${file}`);
        const pglite = await PGlite.create(staging, { loadDataDir: await openAsBlob(file) });
        try {
          await pglite.query('select 1');
          migrations = await migrationsOf(pglite);
        } finally {
          await pglite.close();
        }
      } catch (error) {
        await rm(staging, { recursive: true, force: true });
        throw new CliError(CliErrorCode.BAD_BACKUP, `${file} is not a usable embedded database backup: ${(error as Error).message}`, 1, { cause: error });
      }
      // PGlite writes without fsync: the restored files reach the disk before they take the database's place.
      await syncTree(staging);
      let movedAside: string | null = null;
      if (existsSync(dir)) {
        if (occupied) {
          movedAside = `${dir}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
          progress('restore', `moving the current database aside to ${movedAside}`);
          await rename(dir, movedAside);
        } else await rm(dir, { recursive: true });
      }
      await rename(staging, dir);
      await syncPath(dirname(dir));
      progress('restore', `restored into ${dir}`);
      return { engine: 'embedded', file, database: dir, movedAside, migrations };
    });
  },
};

async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await syncTree(path);
    else if (entry.isFile()) await syncPath(path);
  }
  await syncPath(dir);
}

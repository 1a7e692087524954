import { existsSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { commandArgs } from '../cli-args.js';
import { CliError, CliErrorCode } from '../cli-error.js';
import { embeddedDatabaseExists, embeddedDir, progress } from '../cli-store.js';
import { embeddedEnvironment, migrationsOf, withEmbeddedLock } from '../embedded-access.js';
import type { Command } from './command.js';

const usage = 'plenum backup <file> [--force]';

/** The embedded database as one gzipped archive (PGlite's own dump), taken with the server stopped. */
export const backup: Command = {
  name: 'backup',
  usage,
  summary: 'write the embedded database to <file> (a .tar.gz); the server must be stopped',
  async run(argv) {
    const { values, positionals } = commandArgs(argv, { force: { type: 'boolean', default: false } }, ['<file>'], usage);
    const file = resolve(positionals[0]!);
    const env = embeddedEnvironment('backup');
    if (!embeddedDatabaseExists(env.dataDir)) throw new CliError(CliErrorCode.NO_DATABASE, `no embedded database in ${env.dataDir} (PLENUM_DATA_DIR): nothing to back up`);
    if (existsSync(file) && !values.force) throw new CliError(CliErrorCode.FILE_EXISTS, `${file} exists; give --force to replace it`);
    const dir = embeddedDir(env.dataDir);
    return withEmbeddedLock(env.dataDir, async () => {
      progress('backup', `opening ${dir}`);
      const pglite = await PGlite.create(dir);
      let migrations: string[];
      let dump: Blob;
      try {
        migrations = await migrationsOf(pglite);
        progress('backup', 'dumping');
        dump = await pglite.dumpDataDir('gzip');
      } finally {
        await pglite.close();
      }
      // Written beside the target and renamed when complete and synced: a crash never leaves half a backup under its name.
      const tmp = `${file}.${process.pid}.tmp`;
      const handle = await open(tmp, 'w');
      try {
        // PGlite builds the dump in memory; it goes to disk in one write.
        await handle.writeFile(Buffer.from(await dump.arrayBuffer()));
        await handle.sync();
      } catch (error) {
        await handle.close();
        await rm(tmp, { force: true });
        throw error;
      }
      await handle.close();
      await rename(tmp, file);
      progress('backup', `wrote ${dump.size} bytes`);
      return { engine: 'embedded', database: dir, file, bytes: dump.size, migrations };
    });
  },
};

import { commandArgs } from '../cli-args.js';
import { cliEnvironment, openCliStore, progress } from '../cli-store.js';
import type { Command } from './command.js';

const usage = 'plenum migrate';

/** Brings the schema up to date, under the migrator's lock (safe while other nodes start). */
export const migrate: Command = {
  name: 'migrate',
  usage,
  summary: 'apply the database migrations (PLENUM_DATABASE_URL, or the embedded engine in PLENUM_DATA_DIR)',
  async run(argv) {
    commandArgs(argv, {}, [], usage);
    const env = cliEnvironment();
    progress('migrate', env.databaseUrl ? 'migrating PostgreSQL' : `migrating the embedded database in ${env.dataDir}`);
    const store = await openCliStore(env, { migrate: true, mustExist: false });
    try {
      return { engine: store.kind, location: store.location, applied: store.migration.applied, current: store.migration.current };
    } finally {
      await store.close();
    }
  },
};

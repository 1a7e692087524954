// `npm run admin:reset-code`: gives the secretariat administrator (created on a first start without the
// demo) a new random access code and prints it. Reads PLENUM_DATA_DIR (default ./data) and
// PLENUM_DATABASE_URL, like the server. With PostgreSQL it works while the servers run (each sign-in reads
// the code from the database); the embedded database admits one process at a time, so stop the server first.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AccessCodeHasher } from '../../accreditation/access-code-hasher.js';
import { newAccessCode } from '../../accreditation/administrator.js';
import { DataDirInUseError } from '../../store/data-dir-lock.js';
import { openStore, type Store } from '../../store/open-store.js';

async function main(): Promise<number> {
  const dataDir = resolve(process.env.PLENUM_DATA_DIR || 'data');
  let store: Store;
  try {
    store = await openStore({ databaseUrl: process.env.PLENUM_DATABASE_URL || undefined, dataDir, poolSize: 1 });
  } catch (error) {
    if (!(error instanceof DataDirInUseError)) throw error;
    process.stderr.write(
      `The embedded database in ${dataDir} is in use by a running server (process ${error.pid}): stop the server first, then run npm run admin:reset-code again.\n`,
    );
    return 1;
  }
  try {
    const admin = await store.db.selectFrom('registrations').select(['event_id', 'person_id', 'email']).where('administrator', '=', true).executeTakeFirst();
    if (!admin) {
      const legacy = existsSync(join(dataDir, 'administrator.json')) ? ' administrator.json of an earlier version is there: start the server once, which imports it.' : '';
      process.stderr.write(
        `No administrator in the database (${store.location}). One is created on a first start without PLENUM_DEMO=true; check PLENUM_DATA_DIR and PLENUM_DATABASE_URL.${legacy}\n`,
      );
      return 1;
    }
    const code = newAccessCode();
    const hash = await new AccessCodeHasher(1).hash(code);
    await store.db
      .updateTable('registrations')
      .set({ access_code_hash: hash, updated_at: new Date() })
      .where('event_id', '=', admin.event_id)
      .where('person_id', '=', admin.person_id)
      .execute();
    process.stdout.write(`New access code for the administrator ${admin.email} (event ${admin.event_id}): ${code}\n`);
    process.stdout.write('The previous code no longer works. This code is not stored in clear anywhere; keep it safe.\n');
    return 0;
  } finally {
    await store.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`reset-admin-code failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

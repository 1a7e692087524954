// `npm run admin:reset-code`: gives the secretariat administrator (created on a first start without the
// demo) a new random access code and prints it. Reads PLENUM_DATA_DIR (default ./data), like the server.
// Works while the server runs: the server reads administrator.json on each of the administrator's sign-ins.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AccessCodeHasher } from '../../accreditation/access-code-hasher.js';
import { AdministratorFile, newAccessCode } from '../../accreditation/administrator.js';

async function main(): Promise<number> {
  const dataDir = resolve(process.env.PLENUM_DATA_DIR ?? 'data');
  const file = new AdministratorFile(dataDir);
  const current = file.loadSync();
  if (!current) {
    process.stderr.write(
      `No administrator in ${dataDir} (${file.path} is missing). One is created on a first start without PLENUM_DEMO=true; check PLENUM_DATA_DIR.\n`,
    );
    return 1;
  }
  const code = newAccessCode();
  file.save({ ...current, hash: await new AccessCodeHasher(1).hash(code) });
  process.stdout.write(`New access code for the administrator ${emailOf(dataDir, current) ?? current.personId} (event ${current.eventId}): ${code}\n`);
  process.stdout.write('The previous code no longer works. This code is not stored in clear anywhere; keep it safe.\n');
  return 0;
}

/** The administrator's sign-in e-mail, read from registry.json (read only: the server owns that file). */
function emailOf(dataDir: string, admin: { eventId: string; personId: string }): string | undefined {
  try {
    const data = JSON.parse(readFileSync(join(dataDir, 'registry.json'), 'utf8')) as { registrations?: Array<{ eventId: string; personId: string; email: string }> };
    return data.registrations?.find((r) => r.eventId === admin.eventId && r.personId === admin.personId)?.email;
  } catch {
    return undefined;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`reset-admin-code failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

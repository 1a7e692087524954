// The secretariat administrator a first start creates when the demo is off: one person of one event, whose
// access code is printed once and can be reset by `npm run admin:reset-code` (server/cli/reset-admin-code.ts).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { JsonFile } from './json-file.js';
import type { RegistrationInput } from './model.js';

export const ADMIN_EVENT_ID = 'main';
export const ADMIN_EVENT_TITLE = 'Main event';
export const ADMIN_PERSON_ID = 'administrator';

const fileSchema = z.object({
  version: z.literal(1),
  eventId: z.string(),
  personId: z.string(),
  /** scrypt hash of the access code (`salt:hash`, hex). */
  hash: z.string(),
});
export type AdministratorRecord = z.infer<typeof fileSchema>;

/**
 * administrator.json in the data directory. The administrator's code lives here rather than in
 * registry.json, and is read on every sign-in of that person, so the reset command takes effect on a
 * running server without racing the server's own writes of registry.json.
 */
export class AdministratorFile {
  private readonly file: JsonFile<typeof fileSchema>;

  constructor(dataDir: string) {
    this.file = new JsonFile(join(dataDir, 'administrator.json'), fileSchema);
  }

  get path(): string {
    return this.file.path;
  }

  exists(): boolean {
    return this.file.exists();
  }

  loadSync(): AdministratorRecord | undefined {
    return this.file.exists() ? this.file.load() : undefined;
  }

  async read(): Promise<AdministratorRecord | undefined> {
    try {
      const parsed = fileSchema.safeParse(JSON.parse(await readFile(this.file.path, 'utf8')));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  save(record: AdministratorRecord): void {
    this.file.save(record);
  }
}

/** A random access code, easy to type: five groups of four from an alphabet without look-alikes (~100 bits). */
export function newAccessCode(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(20);
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length]);
  return [0, 4, 8, 12, 16].map((i) => chars.slice(i, i + 4).join('')).join('-');
}

export function administratorRegistration(email: string): RegistrationInput {
  return {
    eventId: ADMIN_EVENT_ID,
    personId: ADMIN_PERSON_ID,
    name: 'Administrator',
    email,
    entity: { name: 'Secretariat', type: 'secretariat' },
    role: 'secretariat',
    status: 'approved',
  };
}

import { EventEmitter } from 'node:events';
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { parseCsv } from '../csv.js';
import { JsonFile } from '../json-file.js';
import { registration, type Registration, type RegistrationInput, type RegistrationStatus } from '../model.js';
import type { Registry, RegistryQuery } from './registry.js';

const fileSchema = z.object({
  version: z.literal(1),
  registrations: z.array(registration),
  /** scrypt hashes of embedded sign-in access codes, by e-mail. */
  accessCodes: z.record(z.string(), z.string()),
});
type RegistryFile = z.infer<typeof fileSchema>;

export const CSV_COLUMNS = [
  'event_id',
  'person_id',
  'name',
  'email',
  'entity_name',
  'entity_type',
  'country_code',
  'role',
  'languages',
  'status',
  'sessions',
  'access_code',
] as const;

export class CsvImportError extends Error {
  constructor(readonly lines: Array<{ line: number; message: string }>) {
    super(`the CSV has ${lines.length} invalid line(s); nothing was imported (line ${lines[0]?.line}: ${lines[0]?.message})`);
  }
}

type EmbeddedRegistryEvents = { changed: [Registration] };

/**
 * The default registry: registrations kept in the data directory (registry.json), managed through the
 * admin API and CSV imports. Emits `changed` on every write, which drives live revocation.
 */
export class EmbeddedRegistry extends EventEmitter<EmbeddedRegistryEvents> implements Registry {
  readonly kind = 'embedded';
  private readonly file: JsonFile<typeof fileSchema>;
  private data: RegistryFile;

  constructor(dataDir: string, seed?: () => { registrations: RegistrationInput[]; accessCodes: Record<string, string> }) {
    super();
    this.file = new JsonFile(join(dataDir, 'registry.json'), fileSchema);
    if (this.file.exists()) {
      this.data = this.file.load();
    } else {
      this.data = { version: 1, registrations: [], accessCodes: {} };
      if (seed) {
        const s = seed();
        for (const r of s.registrations) this.data.registrations.push(registration.parse(r));
        for (const [email, code] of Object.entries(s.accessCodes)) this.data.accessCodes[email.toLowerCase()] = hashCode(code);
      }
      this.file.save(this.data);
    }
  }

  async lookup(query: RegistryQuery): Promise<Registration | null> {
    return this.find(query) ?? null;
  }

  list(eventId?: string): Registration[] {
    return this.data.registrations.filter((r) => !eventId || r.eventId === eventId);
  }

  /** Adds or replaces the registration with the same event and person id. */
  upsert(input: RegistrationInput, accessCode?: string): Registration {
    const reg = registration.parse(input);
    this.put(reg, accessCode);
    this.file.save(this.data);
    this.emit('changed', reg);
    return reg;
  }

  setStatus(eventId: string, personId: string, status: RegistrationStatus): Registration | null {
    const current = this.find({ eventId, personId });
    if (!current) return null;
    return this.upsert({ ...current, status });
  }

  /** Checks an embedded sign-in; constant-time, and the same answer for an unknown e-mail as for a bad code. */
  checkAccessCode(email: string, code: string): boolean {
    const stored = this.data.accessCodes[email.toLowerCase()];
    const [salt, hash] = (stored ?? `${DUMMY_SALT}:${DUMMY_HASH}`).split(':') as [string, string];
    const candidate = scryptSync(code, Buffer.from(salt, 'hex'), 32);
    return timingSafeEqual(candidate, Buffer.from(hash, 'hex')) && stored !== undefined;
  }

  /**
   * Imports a CSV (columns: CSV_COLUMNS). All rows are validated first; one bad row imports nothing.
   * With `eventId`, every row must belong to that event (a secretariat imports only into its own).
   */
  importCsv(text: string, eventId?: string): { imported: number } {
    let rows: string[][];
    try {
      rows = parseCsv(text);
    } catch (error) {
      throw new CsvImportError([{ line: 1, message: (error as Error).message }]);
    }
    const [header, ...body] = rows;
    const columns = (header ?? []).map((h) => h.trim().toLowerCase());
    const missing = CSV_COLUMNS.filter((c) => c !== 'access_code' && c !== 'sessions' && c !== 'languages' && c !== 'country_code' && !columns.includes(c));
    if (missing.length > 0) throw new CsvImportError([{ line: 1, message: `missing column(s): ${missing.join(', ')}` }]);
    const errors: Array<{ line: number; message: string }> = [];
    const parsed: Array<{ reg: Registration; code?: string }> = [];
    body.forEach((cells, i) => {
      const get = (c: (typeof CSV_COLUMNS)[number]): string => (cells[columns.indexOf(c)] ?? '').trim();
      const input = {
        eventId: get('event_id'),
        personId: get('person_id'),
        name: get('name'),
        email: get('email'),
        entity: { name: get('entity_name'), type: get('entity_type'), countryCode: get('country_code') || undefined },
        role: get('role'),
        languages: get('languages') ? get('languages').split(';').map((p) => ({ from: p.split('>')[0]?.trim(), to: p.split('>')[1]?.trim() })) : undefined,
        status: get('status'),
        sessions: get('sessions') ? get('sessions').split(';').map((s) => s.trim()) : undefined,
      };
      const result = registration.safeParse(input);
      if (result.success && eventId && result.data.eventId !== eventId) {
        errors.push({ line: i + 2, message: `event_id is ${result.data.eventId}; this import is for ${eventId}` });
      } else if (result.success) parsed.push({ reg: result.data, code: get('access_code') || undefined });
      else errors.push({ line: i + 2, message: result.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ') });
    });
    if (errors.length > 0) throw new CsvImportError(errors);
    for (const { reg, code } of parsed) this.put(reg, code);
    this.file.save(this.data);
    for (const { reg } of parsed) this.emit('changed', reg);
    return { imported: parsed.length };
  }

  private find(query: RegistryQuery): Registration | undefined {
    const email = query.email?.toLowerCase();
    return this.data.registrations.find(
      (r) => r.eventId === query.eventId && (query.personId ? r.personId === query.personId : r.email === email),
    );
  }

  private put(reg: Registration, accessCode: string | undefined): void {
    const i = this.data.registrations.findIndex((r) => r.eventId === reg.eventId && r.personId === reg.personId);
    if (i >= 0) this.data.registrations[i] = reg;
    else this.data.registrations.push(reg);
    if (accessCode) this.data.accessCodes[reg.email] = hashCode(accessCode);
  }
}

function hashCode(code: string): string {
  const salt = randomBytes(16);
  return `${salt.toString('hex')}:${scryptSync(code, salt, 32).toString('hex')}`;
}

const DUMMY_SALT = '00'.repeat(16);
const DUMMY_HASH = '00'.repeat(32);

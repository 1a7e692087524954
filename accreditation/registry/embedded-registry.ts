import { EventEmitter } from 'node:events';
import { randomBytes, scryptSync } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { AccessCodeHasher } from '../access-code-hasher.js';
import { AdministratorFile } from '../administrator.js';
import { CoalescingWriter } from '../coalescing-writer.js';
import { parseCsvSliced } from '../csv.js';
import { PERSON_ID_PATTERN } from '../ids.js';
import { JsonFile } from '../json-file.js';
import { registration, type Registration, type RegistrationInput, type RegistrationStatus } from '../model.js';
import { SerialQueue } from '../serial-queue.js';
import { TimeSlices } from '../time-slices.js';
import { registrationKey as codeKey, RegistrationTable } from './registration-table.js';
import type { Registry, RegistryQuery } from './registry.js';

const codeEntry = z.object({ eventId: z.string(), personId: z.string(), hash: z.string() });
const fileV2 = z.object({
  version: z.literal(2),
  registrations: z.array(registration),
  /** scrypt hashes of embedded sign-in access codes, by event and person. */
  accessCodes: z.array(codeEntry),
});
/** Before: codes by e-mail across all events (one event's secretariat could set another event's person's code). */
const fileV1 = z.object({
  version: z.literal(1),
  registrations: z.array(registration),
  accessCodes: z.record(z.string(), z.string()),
});
const fileSchema = z.union([fileV2, fileV1]);
type RegistryFile = z.infer<typeof fileV2>;

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

/** Rows whose e-mail belongs to another registration (of another event, or another person); nothing was imported. */
export class CsvEmailInUseError extends CsvImportError {}

/** The e-mail is another registration's: of another event (allowed with the admin API key), or of another person of this one. */
export class EmailInUseError extends Error {
  constructor(
    readonly email: string,
    readonly otherEvent: boolean,
  ) {
    super(otherEvent ? `the e-mail ${email} belongs to a registration of another event` : `the e-mail ${email} belongs to another person of this event`);
    this.name = 'EmailInUseError';
  }
}

export interface RegistrySeed {
  registrations: RegistrationInput[];
  /** Plain codes, hashed on the first start. */
  accessCodes: Array<{ eventId: string; personId: string; code: string }>;
  /** The administrator whose code lives in administrator.json. */
  administrator?: { eventId: string; personId: string; code: string };
}

export interface EmbeddedRegistryOptions {
  hasher?: AccessCodeHasher;
  /** Events whose people may not sign in here (the demo event, when the demo is off). */
  signInDisabledEvents?: readonly string[];
}

export interface WriteOptions {
  /** The admin API key may give an e-mail a registration in a second event; a secretariat may not. */
  allowEmailOfOtherEvent?: boolean;
}

type EmbeddedRegistryEvents = { changed: [Registration] };
type CsvRow = { line: number; reg: Registration; code?: string };
/** registry.json is written in parts of about this many characters. */
const PART_CHARS = 1 << 20;

/**
 * The default registry: registrations kept in the data directory (registry.json), managed through the
 * admin API and CSV imports. Emits `changed` on every write, which drives live revocation. Access codes
 * belong to one registration (event and person), never to an e-mail across events.
 *
 * Nothing here holds the event loop for long, however large the registry or the import: writes that check
 * e-mails run one at a time (an import's checks yield mid-way, so a write in between could invalidate them),
 * each applies its change in one synchronous step (readers never see half an import), and registry.json is
 * rewritten asynchronously, serialised a slice at a time, one save at a time (writes meanwhile share the next).
 */
export class EmbeddedRegistry extends EventEmitter<EmbeddedRegistryEvents> implements Registry {
  readonly kind = 'embedded';
  readonly hasher: AccessCodeHasher;
  /** True when this start created the data file (first start). */
  readonly seeded: boolean;
  /** What loading an older file did to its e-mail-keyed access codes, and where the original was kept. */
  readonly migration: V1Migration | undefined;
  private readonly file: JsonFile<typeof fileSchema>;
  private readonly administratorFile: AdministratorFile;
  private readonly administrator: { eventId: string; personId: string } | undefined;
  private readonly signInDisabled: Set<string>;
  private table: RegistrationTable;
  private codes = new Map<string, string>();
  /** One per import under way: the status changes made since it started, to replay onto what it applies. */
  private readonly statusChangesDuringImports = new Set<Map<string, RegistrationStatus>>();
  private readonly writes = new SerialQueue();
  private readonly saver = new CoalescingWriter(() => this.file.saveParts(this.serialized()));

  constructor(dataDir: string, seed?: () => RegistrySeed, options: EmbeddedRegistryOptions = {}) {
    super();
    this.hasher = options.hasher ?? new AccessCodeHasher(2);
    this.signInDisabled = new Set(options.signInDisabledEvents ?? []);
    this.file = new JsonFile(join(dataDir, 'registry.json'), fileSchema);
    this.administratorFile = new AdministratorFile(dataDir);
    // Loading, migrating and seeding happen before the server listens, so they may be synchronous.
    let data: RegistryFile;
    if (this.file.exists()) {
      const loaded = this.file.load();
      this.seeded = false;
      if (loaded.version === 1) {
        const { file, migration } = migrateV1(loaded);
        data = file;
        // The rewrite drops codes and cannot be undone: the original stays beside it, once.
        this.migration = { ...migration, backup: this.file.backupOnce('.v1.bak') };
        this.file.save(data);
      } else data = loaded;
    } else {
      this.seeded = true;
      data = { version: 2, registrations: [], accessCodes: [] };
      if (seed) this.applySeed(data, seed());
      this.file.save(data);
    }
    this.table = new RegistrationTable(data.registrations);
    for (const c of data.accessCodes) this.codes.set(codeKey(c.eventId, c.personId), c.hash);
    const admin = this.administratorFile.loadSync();
    this.administrator = admin ? { eventId: admin.eventId, personId: admin.personId } : undefined;
  }

  async lookup(query: RegistryQuery): Promise<Registration | null> {
    return this.find(query) ?? null;
  }

  list(eventId?: string): Registration[] {
    return this.table.list(eventId);
  }

  hasEvent(eventId: string): boolean {
    return this.table.hasEvent(eventId);
  }

  /** Adds or replaces the registration with the same event and person id; hashes the code off the event loop. */
  async upsert(input: RegistrationInput, accessCode?: string, options: WriteOptions = {}): Promise<Registration> {
    const reg = registration.parse(input);
    this.checkEmail(reg, options);
    const hash = accessCode ? await this.hasher.hash(accessCode) : undefined;
    // Checked again, in turn with other writes: another may have taken the e-mail while the code was hashed.
    await this.writes.run(() => {
      this.checkEmail(reg, options);
      this.put(reg, hash);
      for (const changes of this.statusChangesDuringImports) changes.delete(codeKey(reg.eventId, reg.personId)); // this write supersedes them
    });
    await this.savedAndAnnounced([reg]);
    return reg;
  }

  /** Changes a registration's status (a revocation); resolves once it is saved. */
  async updateStatus(eventId: string, personId: string, status: RegistrationStatus): Promise<Registration | null> {
    const reg = this.withStatus(eventId, personId, status);
    if (!reg) return null;
    await this.savedAndAnnounced([reg]);
    return reg;
  }

  /**
   * Saves, then emits `changed` for each registration. A change is live in memory from the moment it is
   * made (rolling it back is not safe: other writes made meanwhile share the same save, and readers may have
   * acted on it), so `changed` is emitted even when the save fails: listeners (live revocation, the cache)
   * always follow memory. The error still reaches the caller; the next save writes the whole registry,
   * this change included.
   */
  private async savedAndAnnounced(changed: Registration[], slices?: TimeSlices): Promise<void> {
    try {
      await this.saver.request();
    } finally {
      if (slices) await slices.forEach(changed, (reg) => this.emit('changed', reg));
      else for (const reg of changed) this.emit('changed', reg);
    }
  }

  /**
   * updateStatus for tools and tests that read the file right after: saved before it returns, which holds
   * the event loop for as long as a save of the whole registry takes (the server uses updateStatus). While an
   * asynchronous save runs, it joins the next one instead, so two saves never race on the file.
   */
  setStatus(eventId: string, personId: string, status: RegistrationStatus): Registration | null {
    const reg = this.withStatus(eventId, personId, status);
    if (!reg) return null;
    if (this.saver.idle) this.file.save(this.fileContent());
    else void this.saver.request().catch(() => undefined); // a failed save is retried by the next write's
    this.emit('changed', reg);
    return reg;
  }

  /** A status touches no e-mail, so it needs no turn among the writes that check e-mails. */
  private withStatus(eventId: string, personId: string, status: RegistrationStatus): Registration | null {
    const current = this.table.get(eventId, personId);
    if (!current) return null;
    const reg = { ...current, status };
    this.put(reg, undefined);
    for (const changes of this.statusChangesDuringImports) changes.set(codeKey(eventId, personId), status);
    return reg;
  }

  /**
   * Checks an embedded sign-in. With `eventId`, only that event's registration of the e-mail; without, each
   * registration of the e-mail (one per event) in turn. The same work, and the same answer (null), for an
   * unknown e-mail as for a wrong code.
   */
  async checkAccessCode(email: string, code: string, eventId?: string): Promise<Registration | null> {
    const candidates = this.table
      .withEmail(email.toLowerCase())
      .filter((r) => (!eventId || r.eventId === eventId) && !this.signInDisabled.has(r.eventId) && this.hasCode(r));
    if (candidates.length === 0) {
      await this.hasher.verify(code, undefined);
      return null;
    }
    for (const r of candidates) {
      if (await this.hasher.verify(code, await this.storedHash(r.eventId, r.personId))) return r;
    }
    return null;
  }

  /**
   * Imports a CSV (columns: CSV_COLUMNS). All rows are validated first; one bad row imports nothing.
   * With `eventId`, every row must belong to that event (a secretariat imports only into its own).
   * Parsing, validation, the e-mail checks, the save and the `changed` events run in slices that yield to
   * the event loop; the rows are applied in one step, so no reader sees part of an import.
   */
  async importCsv(text: string, eventId?: string, options: WriteOptions = {}): Promise<{ imported: number }> {
    const slices = new TimeSlices();
    // Status changes (revocations) acknowledged while the import runs must survive it, also for people it replaces.
    const statusChanges = new Map<string, RegistrationStatus>();
    this.statusChangesDuringImports.add(statusChanges);
    let parsed: CsvRow[];
    try {
      parsed = await this.parseCsvRows(text, eventId, slices);
      await this.checkRows(parsed, options, slices);
      const hashes = await this.hashCodes(parsed);
      await this.writes.run(async () => {
        // Checked again, in turn with other writes: another may have taken an e-mail while the codes were hashed.
        await this.checkRows(parsed, options, slices);
        await this.applyAtOnce(parsed, hashes, statusChanges, slices);
      });
    } finally {
      this.statusChangesDuringImports.delete(statusChanges);
    }
    await this.savedAndAnnounced(
      parsed.map(({ reg }) => reg),
      slices,
    );
    return { imported: parsed.length };
  }

  /**
   * Hashes the rows' codes with at most the hasher's concurrency of them in flight, each awaited before the
   * next is queued: an import never fills the hasher's queue (which would refuse its own codes with
   * HasherBusyError), and sign-ins queued meanwhile take their turns between its hashes.
   */
  private async hashCodes(rows: CsvRow[]): Promise<Array<string | undefined>> {
    const hashes = new Array<string | undefined>(rows.length);
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (next < rows.length && !failed) {
        const i = next++;
        const code = rows[i]!.code;
        if (!code) continue;
        try {
          hashes[i] = await this.hasher.hash(code);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.hasher.maxConcurrent) }, worker));
    return hashes;
  }

  /**
   * Builds the registry with the import applied beside the live one, a slice at a time, then swaps it in in
   * one step: readers see all of the import or none of it (applying 40,000 rows in place would hold the
   * event loop, or, in slices, show half an import). Only status changes can happen meanwhile (other writes
   * wait their turn). Every status change made since the import started is replayed onto the copy, onto the
   * people the import replaces too (their imported row, with the status set meanwhile), so a revocation
   * acknowledged during an import is never undone by it.
   */
  private async applyAtOnce(rows: CsvRow[], hashes: Array<string | undefined>, statusChanges: ReadonlyMap<string, RegistrationStatus>, slices: TimeSlices): Promise<void> {
    const table = new RegistrationTable();
    const codes = new Map<string, string>();
    const administratorHashes: string[] = [];
    await slices.forEach(this.table.list(), (r) => table.put(r));
    await slices.forEach(this.codes, ([key, hash]) => codes.set(key, hash));
    await slices.forEach(rows, ({ reg }, i) => {
      table.put(reg);
      const hash = hashes[i];
      if (!hash) return;
      if (this.isAdministrator(reg.eventId, reg.personId)) administratorHashes.push(hash);
      else codes.set(codeKey(reg.eventId, reg.personId), hash);
    });
    // Synchronous from here to the swap: no status change can slip in between the replay and the swap.
    for (const [key, status] of statusChanges) {
      const [eventId, personId] = key.split('\u0000') as [string, string];
      const current = table.get(eventId, personId);
      if (current) table.put({ ...current, status });
    }
    this.table = table;
    this.codes = codes;
    const admin = this.administrator;
    if (admin && administratorHashes.length > 0) this.administratorFile.save({ version: 1, ...admin, hash: administratorHashes.at(-1)! });
  }


  private async parseCsvRows(text: string, eventId: string | undefined, slices: TimeSlices): Promise<CsvRow[]> {
    let rows: string[][];
    try {
      rows = await parseCsvSliced(text, slices);
    } catch (error) {
      throw new CsvImportError([{ line: 1, message: (error as Error).message }]);
    }
    const [header, ...body] = rows;
    const columns = (header ?? []).map((h) => h.trim().toLowerCase());
    const missing = CSV_COLUMNS.filter((c) => c !== 'access_code' && c !== 'sessions' && c !== 'languages' && c !== 'country_code' && !columns.includes(c));
    if (missing.length > 0) throw new CsvImportError([{ line: 1, message: `missing column(s): ${missing.join(', ')}` }]);
    const at = new Map(CSV_COLUMNS.map((c) => [c, columns.indexOf(c)]));
    const errors: Array<{ line: number; message: string }> = [];
    const parsed: CsvRow[] = [];
    await slices.forEach(body, (cells, i) => {
      const get = (c: (typeof CSV_COLUMNS)[number]): string => (cells[at.get(c)!] ?? '').trim();
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
      const code = get('access_code') || undefined;
      const result = registration.safeParse(input);
      if (result.success && eventId && result.data.eventId !== eventId) {
        errors.push({ line: i + 2, message: `event_id is ${result.data.eventId}; this import is for ${eventId}` });
      } else if (result.success && !PERSON_ID_PATTERN.test(result.data.personId)) {
        errors.push({ line: i + 2, message: 'person_id: letters, digits and . _ : @ + -; at most 128' });
      } else if (result.success && code !== undefined && (code.length < 8 || code.length > 128)) {
        errors.push({ line: i + 2, message: 'access_code: 8 to 128 characters' });
      } else if (result.success) parsed.push({ line: i + 2, reg: result.data, code });
      else errors.push({ line: i + 2, message: result.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ') });
    });
    if (errors.length > 0) throw new CsvImportError(errors);
    return parsed;
  }

  /** E-mails must not collide with other registrations, nor with each other within the file. Linear in the rows. */
  private async checkRows(rows: CsvRow[], options: WriteOptions, slices: TimeSlices): Promise<void> {
    const errors: Array<{ line: number; message: string }> = [];
    const seen = new Map<string, Registration>();
    const replacing = new Set<string>();
    await slices.forEach(rows, ({ reg }) => replacing.add(codeKey(reg.eventId, reg.personId)));
    await slices.forEach(rows, ({ line, reg }) => {
      const earlier = seen.get(`${reg.eventId}\u0000${reg.email}`);
      if (earlier && earlier.personId !== reg.personId) errors.push({ line, message: `email: ${reg.email} is another person's in this file` });
      seen.set(`${reg.eventId}\u0000${reg.email}`, reg);
      try {
        this.checkEmail(reg, options, replacing);
      } catch (error) {
        if (!(error instanceof EmailInUseError)) throw error;
        errors.push({ line, message: `email: ${error.message}` });
      }
    });
    if (errors.length > 0) throw new CsvEmailInUseError(errors);
  }

  /** Throws EmailInUseError when another registration (not replaced by this write) holds the e-mail. */
  private checkEmail(reg: Registration, options: WriteOptions, replacing: ReadonlySet<string> = new Set([codeKey(reg.eventId, reg.personId)])): void {
    for (const other of this.table.withEmail(reg.email)) {
      if (replacing.has(codeKey(other.eventId, other.personId))) continue;
      if (other.eventId === reg.eventId) throw new EmailInUseError(reg.email, false);
      if (!options.allowEmailOfOtherEvent) throw new EmailInUseError(reg.email, true);
    }
  }

  private find(query: RegistryQuery): Registration | undefined {
    if (query.personId) return this.table.get(query.eventId, query.personId);
    const email = query.email?.toLowerCase();
    return email === undefined ? undefined : this.table.withEmail(email).find((r) => r.eventId === query.eventId);
  }

  private isAdministrator(eventId: string, personId: string): boolean {
    return this.administrator?.eventId === eventId && this.administrator.personId === personId;
  }

  private hasCode(r: Registration): boolean {
    return this.isAdministrator(r.eventId, r.personId) || this.codes.has(codeKey(r.eventId, r.personId));
  }

  /** The administrator's hash is read from its file each time, so a reset applies to a running server. */
  private async storedHash(eventId: string, personId: string): Promise<string | undefined> {
    if (this.isAdministrator(eventId, personId)) return (await this.administratorFile.read())?.hash;
    return this.codes.get(codeKey(eventId, personId));
  }

  private put(reg: Registration, hash: string | undefined): void {
    this.table.put(reg);
    if (!hash) return;
    if (this.isAdministrator(reg.eventId, reg.personId)) this.administratorFile.save({ version: 1, eventId: reg.eventId, personId: reg.personId, hash });
    else this.codes.set(codeKey(reg.eventId, reg.personId), hash);
  }

  private fileContent(): RegistryFile {
    const accessCodes = [...this.codes].map(([key, hash]) => {
      const [eventId, personId] = key.split('\u0000') as [string, string];
      return { eventId, personId, hash };
    });
    return { version: 2, registrations: this.table.list(), accessCodes };
  }

  /**
   * registry.json's text in parts, one registration or code per line, serialised a slice at a time from the
   * state when the save starts (a registration is replaced, never changed in place, so the copy is enough).
   */
  private async *serialized(): AsyncGenerator<string> {
    const slices = new TimeSlices();
    const registrations = this.table.list();
    const codes = [...this.codes];
    let out = '{\n  "version": 2,\n  "registrations": [';
    for (let i = 0; i < registrations.length; i++) {
      out += `${i === 0 ? '' : ','}\n    ${JSON.stringify(registrations[i])}`;
      if (out.length >= PART_CHARS) {
        yield out;
        out = '';
      }
      if (slices.due()) await slices.next();
    }
    out += '\n  ],\n  "accessCodes": [';
    for (let i = 0; i < codes.length; i++) {
      const [key, hash] = codes[i]!;
      const [eventId, personId] = key.split('\u0000') as [string, string];
      out += `${i === 0 ? '' : ','}\n    ${JSON.stringify({ eventId, personId, hash })}`;
      if (out.length >= PART_CHARS) {
        yield out;
        out = '';
      }
      if (slices.due()) await slices.next();
    }
    yield `${out}\n  ]\n}\n`;
  }

  private applySeed(data: RegistryFile, s: RegistrySeed): void {
    for (const r of s.registrations) data.registrations.push(registration.parse(r));
    // Seeds run once, before the server listens; one hash per distinct code (the demo shares one public code).
    const hashes = new Map<string, string>();
    const hashOnce = (code: string): string => {
      let h = hashes.get(code);
      if (!h) hashes.set(code, (h = hashAccessCodeSync(code)));
      return h;
    };
    for (const c of s.accessCodes) data.accessCodes.push({ eventId: c.eventId, personId: c.personId, hash: hashOnce(c.code) });
    if (s.administrator) {
      const { eventId, personId, code } = s.administrator;
      this.administratorFile.save({ version: 1, eventId, personId, hash: hashAccessCodeSync(code) });
    }
  }
}

/** What migrating a version-1 file did: codes moved, codes dropped (by why), and the original's copy. */
export interface V1Migration {
  migrated: number;
  dropped: { noRegistration: string[]; severalRegistrations: string[] };
  backup: string;
}

/**
 * Version 1 kept codes by e-mail across events. A code moves to the one registration with that e-mail.
 * It is dropped when no registration has the e-mail (nobody to give it to), or when several do (ambiguous:
 * it may be the hijack this format allowed); the secretariat sets new ones.
 */
function migrateV1(v1: z.infer<typeof fileV1>): { file: RegistryFile; migration: Omit<V1Migration, 'backup'> } {
  const accessCodes: RegistryFile['accessCodes'] = [];
  const dropped: V1Migration['dropped'] = { noRegistration: [], severalRegistrations: [] };
  for (const [email, hash] of Object.entries(v1.accessCodes)) {
    const owners = v1.registrations.filter((r) => r.email === email.toLowerCase());
    if (owners.length === 1) accessCodes.push({ eventId: owners[0]!.eventId, personId: owners[0]!.personId, hash });
    else (owners.length === 0 ? dropped.noRegistration : dropped.severalRegistrations).push(email);
  }
  return { file: { version: 2, registrations: v1.registrations, accessCodes }, migration: { migrated: accessCodes.length, dropped } };
}

/** Synchronous scrypt: only for seeding on a first start and for the reset command, never while serving. */
export function hashAccessCodeSync(code: string): string {
  const salt = randomBytes(16);
  return `${salt.toString('hex')}:${scryptSync(code, salt, 32).toString('hex')}`;
}

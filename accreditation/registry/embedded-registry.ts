import { EventEmitter } from 'node:events';
import { randomBytes, scryptSync } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Db } from '../../store/open-store.js';
import { json, type Schema } from '../../store/schema.js';
import { isTransient } from '../../store/transient.js';
import { AccessCodeHasher } from '../access-code-hasher.js';
import { parseCsvSliced } from '../csv.js';
import { claimFirstStartStep, FirstStartStep, lockFirstStart } from '../first-start.js';
import { PERSON_ID_PATTERN } from '../ids.js';
import { registration, type Registration, type RegistrationInput, type RegistrationStatus } from '../model.js';
import { TimeSlices } from '../time-slices.js';
import { RegistryUnavailableError, type Registry, type RegistryQuery } from './registry.js';

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
  /** The secretariat administrator (a registration above): `npm run admin:reset-code` finds them by this mark. */
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
type Holder = { event_id: string; person_id: string; email: string };

/** Rows per INSERT of an import: well under PostgreSQL's 65,535 parameters, and short statements. */
export const WRITE_BATCH_ROWS = 500;
const UNIQUE_VIOLATION = '23505';
const EMAIL_INDEX = 'registrations_email';

/** The registration a row holds; the status column is the truth (a revocation sets only it). */
function fromRow(row: { registration: Record<string, unknown>; status: string }): Registration {
  return { ...(row.registration as Registration), status: row.status as RegistrationStatus };
}

/** Another registration of the event took the e-mail, as the unique (event_id, email) index says. */
export function isEmailTaken(error: unknown): boolean {
  const e = error as { code?: unknown; constraint?: unknown } | undefined;
  return e?.code === UNIQUE_VIOLATION && e.constraint === EMAIL_INDEX;
}

/**
 * The registry Plenum keeps itself (vs. a CRM behind RestRegistry): the `registrations` table of the system of
 * record, managed through the admin API and CSV imports, shared by every node. Emits `changed` after each of
 * this node's writes has committed, which drives live revocation here (other nodes learn through the bus).
 * Access codes belong to one registration (event and person), never to an e-mail across events.
 *
 * One e-mail is one person's within an event: the unique (event_id, email) index says so, also between two
 * nodes writing at once. E-mails across events are checked in the writing transaction.
 */
export class EmbeddedRegistry extends EventEmitter<EmbeddedRegistryEvents> implements Registry {
  readonly kind = 'embedded';
  readonly hasher: AccessCodeHasher;
  private readonly signInDisabled: Set<string>;

  constructor(
    private readonly db: Db,
    options: EmbeddedRegistryOptions = {},
    /** True when this start seeded the database (the first start of the system of record). */
    readonly seeded = false,
  ) {
    super();
    this.hasher = options.hasher ?? new AccessCodeHasher(2);
    this.signInDisabled = new Set(options.signInDisabledEvents ?? []);
  }

  /**
   * The registry, seeded first when the database has never been: by one node only, however many start at once
   * (`seeded` tells whether it was this one).
   */
  static async open(db: Db, seed?: () => RegistrySeed, options: EmbeddedRegistryOptions = {}): Promise<EmbeddedRegistry> {
    const hasher = options.hasher ?? new AccessCodeHasher(2);
    const seeded = seed ? await applySeed(db, hasher, seed) : false;
    return new EmbeddedRegistry(db, { ...options, hasher }, seeded);
  }

  /** One indexed query: by (event, person) or by (event, e-mail). */
  async lookup(query: RegistryQuery): Promise<Registration | null> {
    const base = this.db.selectFrom('registrations').select(['registration', 'status']).where('event_id', '=', query.eventId);
    let row;
    try {
      if (query.personId) row = await base.where('person_id', '=', query.personId).executeTakeFirst();
      else if (query.email !== undefined) row = await base.where('email', '=', query.email.toLowerCase()).executeTakeFirst();
    } catch (error) {
      // The database is away (restart, failover): the outage policy decides, as for a CRM that is down.
      if (isTransient(error)) throw new RegistryUnavailableError('the registry database did not answer', { cause: error });
      throw error;
    }
    return row ? fromRow(row) : null;
  }

  async list(eventId?: string): Promise<Registration[]> {
    let q = this.db.selectFrom('registrations').select(['registration', 'status']);
    if (eventId) q = q.where('event_id', '=', eventId);
    return (await q.orderBy('event_id').orderBy('person_id').execute()).map(fromRow);
  }

  async hasEvent(eventId: string): Promise<boolean> {
    return (await this.db.selectFrom('registrations').select('person_id').where('event_id', '=', eventId).limit(1).executeTakeFirst()) !== undefined;
  }

  /** Adds or replaces the registration with the same event and person id; hashes the code off the event loop. */
  async upsert(input: RegistrationInput, accessCode?: string, options: WriteOptions = {}): Promise<Registration> {
    const reg = registration.parse(input);
    await this.refuseTakenEmail(this.db, reg, options); // before spending a hash on a write that cannot succeed
    const hash = accessCode ? await this.hasher.hash(accessCode) : undefined;
    let saved: Registration;
    try {
      saved = await this.db.transaction().execute(async (tx) => {
        // Checked again: another write may have taken the e-mail while the code was hashed.
        await this.refuseTakenEmail(tx, reg, options);
        const [row] = await this.writeRows(tx, [{ reg, hash }]);
        return row!;
      });
    } catch (error) {
      if (isEmailTaken(error)) throw new EmailInUseError(reg.email, false);
      throw error;
    }
    this.emit('changed', saved);
    return saved;
  }

  /** Changes a registration's status (a revocation); resolves once it is committed. */
  async updateStatus(eventId: string, personId: string, status: RegistrationStatus): Promise<Registration | null> {
    const row = await this.db
      .updateTable('registrations')
      .set({ status, status_changed_at: sql<Date>`clock_timestamp()`, updated_at: sql<Date>`now()` })
      .where('event_id', '=', eventId)
      .where('person_id', '=', personId)
      .returning(['registration', 'status'])
      .executeTakeFirst();
    if (!row) return null;
    const reg = fromRow(row);
    this.emit('changed', reg);
    return reg;
  }

  /** updateStatus, under the name tools and tests have used. */
  setStatus(eventId: string, personId: string, status: RegistrationStatus): Promise<Registration | null> {
    return this.updateStatus(eventId, personId, status);
  }

  /**
   * Checks an embedded sign-in. With `eventId`, only that event's registration of the e-mail; without, each
   * registration of the e-mail (one per event) in turn. The same work, and the same answer (null), for an
   * unknown e-mail as for a wrong code.
   */
  async checkAccessCode(email: string, code: string, eventId?: string): Promise<Registration | null> {
    let q = this.db
      .selectFrom('registrations')
      .select(['event_id', 'registration', 'status', 'access_code_hash'])
      .where('email', '=', email.toLowerCase())
      .where('access_code_hash', 'is not', null);
    if (eventId) q = q.where('event_id', '=', eventId);
    const candidates = (await q.orderBy('event_id').execute()).filter((r) => !this.signInDisabled.has(r.event_id));
    if (candidates.length === 0) {
      await this.hasher.verify(code, undefined);
      return null;
    }
    for (const r of candidates) {
      if (await this.hasher.verify(code, r.access_code_hash ?? undefined)) return fromRow(r);
    }
    return null;
  }

  /**
   * Imports a CSV (columns: CSV_COLUMNS). All rows are validated first; one bad row imports nothing. With
   * `eventId`, every row must belong to that event (a secretariat imports only into its own). The rows are
   * written in one transaction, in batches: all of the import or none of it, for every reader on every node.
   * A status set on its own (a revocation) after the import began is kept over the file's.
   */
  async importCsv(text: string, eventId?: string, options: WriteOptions = {}): Promise<{ imported: number }> {
    const slices = new TimeSlices();
    const parsed = await this.parseCsvRows(text, eventId, slices);
    await refuseDuplicatesInFile(parsed, slices);
    const { rows } = await sql<{ began: string }>`select clock_timestamp()::text as began`.execute(this.db);
    const began = rows[0]!.began;
    // Before spending hashes on an import that cannot succeed (checked again in the transaction).
    if (parsed.some((r) => r.code)) await this.checkRows(this.db, parsed, options);
    const hashes = await this.hashCodes(parsed);
    let saved: Registration[];
    try {
      saved = await this.db.transaction().execute(async (tx) => {
        // Checked again: another write may have taken an e-mail while the codes were hashed.
        await this.checkRows(tx, parsed, options);
        // A person twice in the file: the last line is the one that counts (one statement may not write a row twice).
        const last = new Map(parsed.map(({ reg }, i) => [`${reg.eventId}\u0000${reg.personId}`, { reg, hash: hashes[i] }]));
        const rows = [...last.values()];
        const out: Registration[] = [];
        for (let i = 0; i < rows.length; i += WRITE_BATCH_ROWS) out.push(...(await this.writeRows(tx, rows.slice(i, i + WRITE_BATCH_ROWS), began)));
        return out;
      });
    } catch (error) {
      if (!isEmailTaken(error)) throw error;
      // Another node gave one of the e-mails to someone else after the check: name the lines if they are still taken.
      await this.checkRows(this.db, parsed, options);
      throw new CsvEmailInUseError([{ line: 1, message: 'an e-mail of this file was given to another person meanwhile; nothing was imported, try again' }]);
    }
    await slices.forEach(saved, (reg) => this.emit('changed', reg));
    return { imported: parsed.length };
  }

  /**
   * Inserts or replaces rows. A code is replaced only when one is given; `importBegan` keeps a status set on
   * its own since then. A PUT replaces the registration whole, status included, as an import begun after it would.
   */
  private async writeRows(tx: Transaction<Schema>, rows: Array<{ reg: Registration; hash: string | undefined }>, importBegan?: string): Promise<Registration[]> {
    const values = rows.map(({ reg, hash }) => ({
      event_id: reg.eventId,
      person_id: reg.personId,
      email: reg.email,
      registration: reg,
      status: reg.status,
      access_code_hash: hash ?? null,
    }));
    const saved = await tx
      .insertInto('registrations')
      .columns(['event_id', 'person_id', 'email', 'registration', 'status', 'access_code_hash'])
      // The batch as one JSON parameter: a few times faster than thousands of bound values, on both engines.
      .expression(
        sql`select x.event_id, x.person_id, x.email, x.registration, x.status, x.access_code_hash
            from jsonb_to_recordset(${JSON.stringify(values)}::jsonb)
              as x(event_id text, person_id text, email text, registration jsonb, status text, access_code_hash text)`,
      )
      .onConflict((oc) =>
        oc.columns(['event_id', 'person_id']).doUpdateSet((eb) => ({
          email: eb.ref('excluded.email'),
          registration: eb.ref('excluded.registration'),
          status: importBegan
            ? sql<string>`case when registrations.status_changed_at >= ${importBegan}::timestamptz then registrations.status else excluded.status end`
            : eb.ref('excluded.status'),
          status_changed_at: importBegan ? sql<Date | null>`registrations.status_changed_at` : null,
          access_code_hash: sql<string | null>`coalesce(excluded.access_code_hash, registrations.access_code_hash)`,
          updated_at: sql<Date>`now()`,
        })),
      )
      // Only what the write may have kept from the row (the status): the rest is what was written.
      .returning(['event_id', 'person_id', 'status'])
      .execute();
    const status = new Map(saved.map((row) => [`${row.event_id}\u0000${row.person_id}`, row.status as RegistrationStatus]));
    return rows.map(({ reg }) => ({ ...reg, status: status.get(`${reg.eventId}\u0000${reg.personId}`) ?? reg.status }));
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

  /** The rows' e-mails against the registrations already there; every line in conflict is named. */
  private async checkRows(db: Db | Transaction<Schema>, rows: CsvRow[], options: WriteOptions): Promise<void> {
    const errors: Array<{ line: number; message: string }> = [];
    for (let i = 0; i < rows.length; i += WRITE_BATCH_ROWS) {
      const batch = rows.slice(i, i + WRITE_BATCH_ROWS);
      const taken = await this.takenEmails(
        db,
        batch.map((r) => r.reg),
        options,
      );
      for (const { index, error } of taken) errors.push({ line: batch[index]!.line, message: `email: ${error.message}` });
    }
    if (errors.length > 0) throw new CsvEmailInUseError(errors);
  }

  private async refuseTakenEmail(db: Db | Transaction<Schema>, reg: Registration, options: WriteOptions): Promise<void> {
    const [taken] = await this.takenEmails(db, [reg], options);
    if (taken) throw taken.error;
  }

  /**
   * The registrations whose e-mail is held by another person of their event, or (unless allowed) by a
   * registration of another event. An e-mail moving between two people of one import is refused too: the
   * unique index is checked row by row.
   */
  private async takenEmails(db: Db | Transaction<Schema>, regs: Registration[], options: WriteOptions): Promise<Array<{ index: number; error: EmailInUseError }>> {
    if (regs.length === 0) return [];
    const emails = [...new Set(regs.map((r) => r.email))];
    const holders = await db
      .selectFrom('registrations')
      .select(['event_id', 'person_id', 'email'])
      .where(sql<boolean>`email = any(${emails}::text[])`)
      .execute();
    const byEmail = new Map<string, Holder[]>();
    for (const h of holders) byEmail.set(h.email, [...(byEmail.get(h.email) ?? []), h]);
    const taken: Array<{ index: number; error: EmailInUseError }> = [];
    regs.forEach((reg, index) => {
      const others = (byEmail.get(reg.email) ?? []).filter((o) => o.event_id !== reg.eventId || o.person_id !== reg.personId);
      if (others.some((o) => o.event_id === reg.eventId)) taken.push({ index, error: new EmailInUseError(reg.email, false) });
      else if (others.length > 0 && !options.allowEmailOfOtherEvent) taken.push({ index, error: new EmailInUseError(reg.email, true) });
    });
    return taken;
  }
}

/** Two people of one event with the same e-mail in one file. */
async function refuseDuplicatesInFile(rows: CsvRow[], slices: TimeSlices): Promise<void> {
  const errors: Array<{ line: number; message: string }> = [];
  const seen = new Map<string, Registration>();
  await slices.forEach(rows, ({ line, reg }) => {
    const key = `${reg.eventId}\u0000${reg.email}`;
    const earlier = seen.get(key);
    if (earlier && earlier.personId !== reg.personId) errors.push({ line, message: `email: ${reg.email} is another person's in this file` });
    seen.set(key, reg);
  });
  if (errors.length > 0) throw new CsvEmailInUseError(errors);
}

/**
 * Writes the seed if the registry was never seeded (nor imported from a previous version's files), in one
 * transaction: of nodes starting at once, one writes it and the others find it done. Returns whether this one did.
 */
async function applySeed(db: Db, hasher: AccessCodeHasher, seed: () => RegistrySeed): Promise<boolean> {
  const s = seed();
  // One hash per distinct code (the demo shares one public code), made before the transaction.
  const hashes = new Map<string, string>();
  for (const code of [...s.accessCodes.map((c) => c.code), ...(s.administrator ? [s.administrator.code] : [])]) {
    if (!hashes.has(code)) hashes.set(code, await hasher.hash(code));
  }
  const key = (eventId: string, personId: string): string => `${eventId}\u0000${personId}`;
  const codes = new Map(s.accessCodes.map((c) => [key(c.eventId, c.personId), hashes.get(c.code)!]));
  const admin = s.administrator ? key(s.administrator.eventId, s.administrator.personId) : undefined;
  if (s.administrator) codes.set(admin!, hashes.get(s.administrator.code)!);
  return db.transaction().execute(async (tx) => {
    await lockFirstStart(tx);
    if (!(await claimFirstStartStep(tx, FirstStartStep.registrySeeded))) return false;
    const rows = s.registrations.map((input) => {
      const reg = registration.parse(input);
      const k = key(reg.eventId, reg.personId);
      return { event_id: reg.eventId, person_id: reg.personId, email: reg.email, registration: json(reg), status: reg.status, access_code_hash: codes.get(k) ?? null, administrator: k === admin };
    });
    for (let i = 0; i < rows.length; i += WRITE_BATCH_ROWS) {
      await tx
        .insertInto('registrations')
        .values(rows.slice(i, i + WRITE_BATCH_ROWS))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    return true;
  });
}

/** Synchronous scrypt, in the stored format: for tests and tools that write data files, never while serving. */
export function hashAccessCodeSync(code: string): string {
  const salt = randomBytes(16);
  return `${salt.toString('hex')}:${scryptSync(code, salt, 32).toString('hex')}`;
}

// The data directory of a version that kept its records in files (registry.json, administrator.json,
// sessions.json, audit.jsonl), imported into the system of record once, on the first start against an empty
// database. Each imported file is then renamed to `<name>.imported`: never imported twice, never deleted.
import { existsSync } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { sql, type Transaction } from 'kysely';
import { z } from 'zod';
import type { Db } from '../store/open-store.js';
import { json, type Schema } from '../store/schema.js';
import { claimFirstStartStep, FirstStartStep, lockFirstStart } from './first-start.js';
import { readJsonLines } from './json-lines.js';
import { registration, sessionRules, type Registration } from './model.js';
import { WRITE_BATCH_ROWS } from './registry/embedded-registry.js';
import { meeting } from './session-directory.js';

export const LEGACY_FILES = ['registry.json', 'administrator.json', 'sessions.json', 'audit.jsonl'] as const;
export type LegacyFile = (typeof LEGACY_FILES)[number];
export const IMPORTED_SUFFIX = '.imported';

const registryV2 = z.object({
  version: z.literal(2),
  registrations: z.array(registration),
  /** scrypt hashes of embedded sign-in access codes, by event and person. */
  accessCodes: z.array(z.object({ eventId: z.string(), personId: z.string(), hash: z.string() })),
});
/** The first format: codes by e-mail across all events (one event's secretariat could set another event's person's code). */
const registryV1 = z.object({
  version: z.literal(1),
  registrations: z.array(registration),
  accessCodes: z.record(z.string(), z.string()),
});
const registryFile = z.union([registryV2, registryV1]);
const administratorFile = z.object({ version: z.literal(1), eventId: z.string(), personId: z.string(), hash: z.string() });
const sessionsFile = z.object({
  version: z.literal(1),
  events: z.array(z.object({ eventId: z.string(), title: z.string() })),
  meetings: z.array(meeting).default([]),
  sessions: z.array(sessionRules),
});
const auditLine = z.looseObject({ at: z.iso.datetime({ offset: true }), eventId: z.string(), sessionId: z.string(), decision: z.string(), personId: z.string().optional() });

/** What moving a version-1 registry's e-mail-keyed codes did: codes moved, and codes dropped (by why). */
export interface V1Migration {
  migrated: number;
  dropped: { noRegistration: string[]; severalRegistrations: string[] };
}

export interface LegacyImportReport {
  /** The files imported, each now renamed to `<file>.imported`. */
  files: string[];
  events: number;
  meetings: number;
  sessions: number;
  registrations: number;
  accessCodes: number;
  administrator: boolean;
  auditRecords: number;
  /** Lines of audit.jsonl that were not records (a line torn by a crash): not imported. */
  auditLinesSkipped: number;
  registryV1?: V1Migration;
}

export type LegacyImportOutcome =
  | { kind: 'none' }
  | { kind: 'imported'; report: LegacyImportReport }
  /** The files were left where they are: the database already holds records (another node's, or an earlier import). */
  | { kind: 'skipped'; files: string[] };

/** A file of the data directory that cannot be read as the format it names: the server must not start over it. */
export class LegacyFileError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path} cannot be imported: ${reason}; fix or move it away, then start again`);
    this.name = 'LegacyFileError';
  }
}

export async function importLegacyData(db: Db, dataDir: string): Promise<LegacyImportOutcome> {
  const present = LEGACY_FILES.filter((f) => existsSync(join(dataDir, f)));
  if (present.length === 0) return { kind: 'none' };
  const paths = present.map((f) => join(dataDir, f));
  const data = await readLegacy(dataDir, new Set(present));
  const outcome = await db.transaction().execute(async (tx): Promise<'imported' | 'skipped' | 'rename-only'> => {
    await lockFirstStart(tx);
    const done = await tx.selectFrom('settings').select('value').where('key', '=', FirstStartStep.legacyImported).executeTakeFirst();
    // This node imported them and stopped before renaming them: only the renaming is left.
    if (done) return sameFiles((done.value as { files?: unknown }).files, paths) && !paths.some((p) => existsSync(`${p}${IMPORTED_SUFFIX}`)) ? 'rename-only' : 'skipped';
    if (!(await isEmpty(tx))) return 'skipped';
    await writeLegacy(tx, data);
    await claimFirstStartStep(tx, FirstStartStep.legacyImported, { files: paths });
    if (data.sessions) await claimFirstStartStep(tx, FirstStartStep.sessionsSeeded, { from: 'sessions.json' });
    if (data.registrations) await claimFirstStartStep(tx, FirstStartStep.registrySeeded, { from: 'registry.json' });
    return 'imported';
  });
  if (outcome === 'skipped') return { kind: 'skipped', files: paths };
  for (const path of paths) await rename(path, await importedName(path));
  return { kind: 'imported', report: { ...data.report, files: paths } };
}

interface LegacyData {
  events?: Array<{ eventId: string; title: string }>;
  meetings?: Array<z.infer<typeof meeting>>;
  sessions?: Array<z.infer<typeof sessionRules>>;
  registrations?: Array<{ reg: Registration; hash: string | undefined; administrator: boolean }>;
  audit?: Array<z.infer<typeof auditLine>>;
  report: Omit<LegacyImportReport, 'files'>;
}

async function readLegacy(dataDir: string, present: ReadonlySet<LegacyFile>): Promise<LegacyData> {
  const report: LegacyImportReport = { files: [], events: 0, meetings: 0, sessions: 0, registrations: 0, accessCodes: 0, administrator: false, auditRecords: 0, auditLinesSkipped: 0 };
  const data: LegacyData = { report };
  if (present.has('sessions.json')) {
    const file = await readJson(join(dataDir, 'sessions.json'), sessionsFile);
    const events = new Map(file.events.map((e) => [e.eventId, e]));
    for (const x of [...file.meetings, ...file.sessions]) if (!events.has(x.eventId)) events.set(x.eventId, { eventId: x.eventId, title: x.eventId });
    data.events = [...events.values()];
    data.meetings = file.meetings;
    data.sessions = file.sessions;
    Object.assign(report, { events: events.size, meetings: file.meetings.length, sessions: file.sessions.length });
  }
  if (present.has('registry.json')) {
    const file = await readJson(join(dataDir, 'registry.json'), registryFile);
    const { codes, migration } = file.version === 1 ? migrateV1(file) : { codes: file.accessCodes, migration: undefined };
    const key = (eventId: string, personId: string): string => `${eventId}\u0000${personId}`;
    const hashes = new Map(codes.map((c) => [key(c.eventId, c.personId), c.hash]));
    const admin = present.has('administrator.json') ? await readJson(join(dataDir, 'administrator.json'), administratorFile) : undefined;
    data.registrations = file.registrations.map((reg) => {
      const administrator = admin !== undefined && admin.eventId === reg.eventId && admin.personId === reg.personId;
      return { reg, administrator, hash: administrator ? admin.hash : hashes.get(key(reg.eventId, reg.personId)) };
    });
    report.registrations = data.registrations.length;
    report.accessCodes = data.registrations.filter((r) => r.hash && !r.administrator).length;
    report.administrator = data.registrations.some((r) => r.administrator);
    if (migration) report.registryV1 = migration;
  }
  if (present.has('audit.jsonl')) {
    const lines = await readJsonLines<unknown>(join(dataDir, 'audit.jsonl'));
    data.audit = [];
    for (const line of lines) {
      const parsed = auditLine.safeParse(line);
      if (parsed.success) data.audit.push(parsed.data);
      else report.auditLinesSkipped += 1;
    }
    report.auditRecords = data.audit.length;
  }
  return data;
}

async function writeLegacy(tx: Transaction<Schema>, data: LegacyData): Promise<void> {
  const batches = async <T>(rows: T[] | undefined, write: (batch: T[]) => Promise<unknown>): Promise<void> => {
    for (let i = 0; i < (rows?.length ?? 0); i += WRITE_BATCH_ROWS) await write(rows!.slice(i, i + WRITE_BATCH_ROWS));
  };
  await batches(data.events, (b) => tx.insertInto('events').values(b.map((e) => ({ event_id: e.eventId, title: e.title }))).execute());
  await batches(data.meetings, (b) => tx.insertInto('meetings').values(b.map((m) => ({ event_id: m.eventId, meeting_id: m.meetingId, title: m.title }))).execute());
  await batches(data.sessions, (b) =>
    tx
      .insertInto('sessions')
      .values(b.map((s) => ({ session_id: s.sessionId, event_id: s.eventId, rules: json(s), status: s.status, revision: 1 })))
      .execute(),
  );
  await batches(data.registrations, (b) =>
    tx
      .insertInto('registrations')
      .values(
        b.map(({ reg, hash, administrator }) => ({
          event_id: reg.eventId,
          person_id: reg.personId,
          email: reg.email,
          registration: json(reg),
          status: reg.status,
          access_code_hash: hash ?? null,
          administrator,
        })),
      )
      .execute(),
  );
  await batches(data.audit, (b) =>
    tx
      .insertInto('audit')
      .values(
        b.map(({ at, ...record }) => ({
          at: new Date(at),
          event_id: record.eventId,
          session_id: record.sessionId,
          person_id: record.personId ?? null,
          decision: record.decision,
          record: json(record),
        })),
      )
      .execute(),
  );
}

/**
 * Version 1 kept codes by e-mail across events. A code moves to the one registration with that e-mail. It is
 * dropped when no registration has the e-mail (nobody to give it to), or when several do (ambiguous: it may be
 * the hijack this format allowed); the secretariat sets new ones.
 */
function migrateV1(v1: z.infer<typeof registryV1>): { codes: Array<{ eventId: string; personId: string; hash: string }>; migration: V1Migration } {
  const codes: Array<{ eventId: string; personId: string; hash: string }> = [];
  const dropped: V1Migration['dropped'] = { noRegistration: [], severalRegistrations: [] };
  for (const [email, hash] of Object.entries(v1.accessCodes)) {
    const owners = v1.registrations.filter((r) => r.email === email.toLowerCase());
    if (owners.length === 1) codes.push({ eventId: owners[0]!.eventId, personId: owners[0]!.personId, hash });
    else (owners.length === 0 ? dropped.noRegistration : dropped.severalRegistrations).push(email);
  }
  return { codes, migration: { migrated: codes.length, dropped } };
}

async function readJson<S extends z.ZodType>(path: string, schema: S): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new LegacyFileError(path, (error as Error).message);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new LegacyFileError(path, parsed.error.issues[0]?.message ?? 'not the expected format');
  return parsed.data;
}

/** No records yet: what a first start finds before it seeds anything. */
async function isEmpty(tx: Transaction<Schema>): Promise<boolean> {
  for (const table of ['events', 'sessions', 'registrations', 'audit'] as const) {
    if (await tx.selectFrom(table).select(sql<number>`1`.as('one')).limit(1).executeTakeFirst()) return false;
  }
  return true;
}

function sameFiles(recorded: unknown, paths: string[]): boolean {
  return Array.isArray(recorded) && paths.every((p) => recorded.includes(p));
}

/** `<path>.imported`, or, if a file of that name is already there, one with the time added: nothing is overwritten. */
/** `<path>.imported`, or with a timestamp when that name is taken (an earlier upgrade's leftovers). */
export async function importedName(path: string): Promise<string> {
  const name = `${path}${IMPORTED_SUFFIX}`;
  return existsSync(name) ? `${name}.${new Date().toISOString().replace(/[:.]/g, '-')}` : name;
}

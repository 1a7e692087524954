// The room records a file-based version kept per node in its data directory: attendance marks
// (`attendance/<session>.jsonl`), caption transcripts (`transcripts/<session>/<language>.jsonl`) and the floor
// (`floor/<session>.json`). Imported into the system of record once, on the first start, after the
// accreditation files (attendance needs each session's event from `sessions`). Each imported directory is then
// renamed to `<dir>.imported`: never imported twice, never deleted.
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sql, type Transaction } from 'kysely';
import { z } from 'zod';
import { claimFirstStartStep, FirstStartStep, lockFirstStart } from '../../accreditation/first-start.js';
import { IMPORTED_SUFFIX, importedName, LegacyFileError } from '../../accreditation/legacy-import.js';
import { WRITE_BATCH_ROWS } from '../../accreditation/registry/embedded-registry.js';
import type { Db } from '../../store/open-store.js';
import { json, type NewRow, type Schema } from '../../store/schema.js';
import type { Logger } from '../logger.js';

export const LEGACY_ROOM_DIRS = ['attendance', 'transcripts', 'floor'] as const;

/** Rows of the import: older than any live owner's epoch, so they never stand in a live owner's way. */
export const IMPORTED_NODE_ID = 'imported';
export const IMPORTED_EPOCH = 0;
/** `closed_by` of an interval the earlier version left open (it stopped without a leave mark: a crash). */
export const IMPORTED_OPEN = 'imported-open';

// The earlier version's formats, frozen here: the live schemas may change, these files will not.
const attendanceMark = z.object({
  at: z.number(),
  kind: z.enum(['join', 'leave']),
  personId: z.string(),
  name: z.string(),
  entity: z.string(),
  entityType: z.string(),
  role: z.string(),
});
const captionLine = z.object({ at: z.number(), by: z.string(), text: z.string() });
const floorEntry = z.object({ id: z.string(), name: z.string(), entity: z.string(), kind: z.enum(['speaker', 'point_of_order']), requestedAt: z.number() });
const floorSnapshot = z.object({
  queue: z.array(floorEntry),
  speaker: floorEntry.extend({ since: z.number(), limitMs: z.number(), warningMs: z.number() }).nullable(),
});
/** The earlier version's rule for session ids and language codes in its file names. */
const SAFE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
/** A floor file is one small snapshot; anything this big is not one. */
const FLOOR_FILE_MAX_BYTES = 16 * 1024 * 1024;

export interface LegacyRoomRecordsReport {
  /** The directories imported, each now renamed to `<dir>.imported`. */
  directories: string[];
  attendanceIntervals: number;
  /** Intervals still open at the end of their file, closed at its last mark (`closed_by` = imported-open). */
  intervalsLeftOpen: number;
  /** Joins of someone already present (a second connection), ignored as the earlier version did. */
  joinsWhilePresent: number;
  transcriptLines: number;
  floorSnapshots: number;
  /** Lines that were not JSON (torn by a crash), by file: not imported. */
  tornLines: Record<string, number>;
  /** Sessions named by files but not in the database: their files were not imported (they stay in `<dir>.imported`). */
  sessionsNotFound: string[];
  /** Files left by an interrupted save of the floor (`*.tmp`): the snapshot beside them is the saved one. */
  ignoredFiles: string[];
}

export type LegacyRoomRecordsOutcome =
  | { kind: 'none' }
  | { kind: 'imported'; report: LegacyRoomRecordsReport }
  /** Imported by an earlier start that stopped before renaming: only the renaming was left. */
  | { kind: 'renamed'; directories: string[] }
  /** Left where they are: the database already holds room records, or another node imported its own. */
  | { kind: 'skipped'; directories: string[] };

export async function importLegacyRoomRecords(db: Db, dataDir: string): Promise<LegacyRoomRecordsOutcome> {
  const paths = LEGACY_ROOM_DIRS.map((d) => join(dataDir, d)).filter((p) => existsSync(p));
  if (paths.length === 0) return { kind: 'none' };
  for (const path of paths) if (!(await stat(path)).isDirectory()) throw new LegacyFileError(path, 'not a directory');
  const outcome = await db.transaction().execute(async (tx): Promise<LegacyRoomRecordsReport | 'renamed' | 'skipped'> => {
    await lockFirstStart(tx);
    const done = await tx.selectFrom('settings').select('value').where('key', '=', FirstStartStep.roomRecordsImported).executeTakeFirst();
    if (done) {
      const recorded = (done.value as { directories?: unknown }).directories;
      const same = Array.isArray(recorded) && paths.every((p) => recorded.includes(p));
      return same && !paths.some((p) => existsSync(`${p}${IMPORTED_SUFFIX}`)) ? 'renamed' : 'skipped';
    }
    if (!(await noRoomRecords(tx))) return 'skipped';
    const report = await new RoomRecordsImport(tx).run(dataDir, paths);
    await claimFirstStartStep(tx, FirstStartStep.roomRecordsImported, { directories: paths });
    return report;
  });
  if (outcome === 'skipped') return { kind: 'skipped', directories: paths };
  for (const path of paths) await rename(path, await importedName(path));
  return outcome === 'renamed' ? { kind: 'renamed', directories: paths } : { kind: 'imported', report: outcome };
}

/** What the first start took over (or left) of the earlier version's room records, in the log. */
export function reportLegacyRoomRecords(outcome: LegacyRoomRecordsOutcome, log: Logger | undefined): void {
  if (outcome.kind === 'skipped') {
    log?.warn({ directories: outcome.directories }, 'room records of an earlier version were NOT imported: the database already holds room records (they are left as they are)');
  } else if (outcome.kind === 'renamed') {
    log?.warn({ directories: outcome.directories }, 'room records of an earlier version were imported by an earlier start; each directory was renamed to <dir>.imported');
  } else if (outcome.kind === 'imported') {
    const r = outcome.report;
    log?.warn(
      { ...r },
      `imported the room records of an earlier version (${r.attendanceIntervals} attendance intervals, ${r.transcriptLines} transcript lines, ${r.floorSnapshots} floors); each directory was renamed to <dir>.imported`,
    );
    if (r.intervalsLeftOpen > 0) {
      log?.warn({ intervalsLeftOpen: r.intervalsLeftOpen }, `attendance intervals left open by the earlier version (it stopped without closing them) were closed at their file's last mark, closed by '${IMPORTED_OPEN}'`);
    }
    const torn = Object.values(r.tornLines).reduce((a, b) => a + b, 0);
    if (torn > 0) log?.warn({ tornLines: r.tornLines }, `${torn} torn lines (not JSON, cut by a crash) were skipped`);
    if (r.sessionsNotFound.length > 0) {
      log?.warn({ sessionsNotFound: r.sessionsNotFound }, 'room records of sessions that are not in the database were not imported (they stay in the <dir>.imported directories)');
    }
  }
}

/** A room record row not yet inserted; `id` once it is (while its interval is still open). */
interface PendingInterval {
  row?: NewRow<'attendance'>;
  id?: number;
}

/** One import, inside the first-start transaction: reads each file by lines and inserts a batch at a time. */
class RoomRecordsImport {
  private readonly report: LegacyRoomRecordsReport = {
    directories: [],
    attendanceIntervals: 0,
    intervalsLeftOpen: 0,
    joinsWhilePresent: 0,
    transcriptLines: 0,
    floorSnapshots: 0,
    tornLines: {},
    sessionsNotFound: [],
    ignoredFiles: [],
  };
  /** Each session's event, or null when the session is not in the database. */
  private readonly events = new Map<string, string | null>();

  constructor(private readonly tx: Transaction<Schema>) {}

  async run(dataDir: string, paths: string[]): Promise<LegacyRoomRecordsReport> {
    this.report.directories = paths;
    const present = new Set(paths);
    const dir = (name: (typeof LEGACY_ROOM_DIRS)[number]): string | undefined => (present.has(join(dataDir, name)) ? join(dataDir, name) : undefined);
    const attendance = dir('attendance');
    if (attendance) for (const { path, name } of await entries(attendance, '.jsonl', 'an attendance file (<session>.jsonl)')) await this.attendanceFile(path, name);
    const transcripts = dir('transcripts');
    if (transcripts) {
      for (const session of await readdir(transcripts, { withFileTypes: true }).then(sorted)) {
        const sessionDir = join(transcripts, session.name);
        if (!session.isDirectory() || !SAFE.test(session.name)) throw new LegacyFileError(sessionDir, 'not a transcripts directory of a session (transcripts/<session>/)');
        for (const { path, name } of await entries(sessionDir, '.jsonl', 'a transcript (<language>.jsonl)')) await this.transcriptFile(path, session.name, name);
      }
    }
    const floor = dir('floor');
    if (floor) for (const { path, name } of await entries(floor, '.json', 'a floor file (<session>.json)', this.report.ignoredFiles)) await this.floorFile(path, name);
    return this.report;
  }

  /**
   * Marks to intervals as the earlier version derived them: a join while present is ignored, a leave closes
   * the open interval. Joins are inserted a batch at a time (a leave that comes before its join's batch is
   * written just fills the row in); leaves of intervals already written are applied a batch at a time.
   */
  private async attendanceFile(path: string, sessionId: string): Promise<void> {
    const eventId = await this.eventOf(sessionId);
    if (eventId === null) return;
    const open = new Map<string, PendingInterval>();
    let joins: Array<NewRow<'attendance'>> = [];
    let closes: Array<{ id: number; at: Date; by: string }> = [];
    let last: Date | undefined;
    const flushJoins = async (): Promise<void> => {
      if (joins.length === 0) return;
      const batch = joins;
      joins = [];
      const rows = await this.tx
        .insertInto('attendance')
        .values(batch)
        .returning(['id', 'person_id', 'left_at'])
        .execute();
      // Still open: at most one row per person in a batch (a join while present is ignored), so the person finds it.
      for (const r of rows) {
        const pending = r.left_at === null ? open.get(r.person_id) : undefined;
        if (pending?.row) Object.assign(pending, { row: undefined, id: r.id });
      }
      this.report.attendanceIntervals += rows.length;
    };
    const flushCloses = async (): Promise<void> => {
      if (closes.length === 0) return;
      const batch = closes;
      closes = [];
      const leftAt = sql<Date>`case id ${sql.join(
        batch.map((c) => sql`when ${c.id} then cast(${c.at.toISOString()} as timestamptz)`),
        sql` `,
      )} end`;
      const closedBy = sql<string>`case id ${sql.join(
        batch.map((c) => sql`when ${c.id} then cast(${c.by} as text)`),
        sql` `,
      )} end`;
      await this.tx
        .updateTable('attendance')
        .set({ left_at: leftAt, closed_by: closedBy })
        .where('id', 'in', batch.map((c) => c.id))
        .execute();
    };
    const close = async (pending: PendingInterval, at: Date, by: string): Promise<void> => {
      if (pending.row) Object.assign(pending.row, { left_at: at, closed_by: by });
      else closes.push({ id: pending.id!, at, by });
      if (closes.length >= WRITE_BATCH_ROWS) await flushCloses();
    };

    for await (const value of this.jsonLines(path)) {
      const parsed = attendanceMark.safeParse(value.json);
      if (!parsed.success) throw new LegacyFileError(path, `line ${value.line} is not an attendance mark (${parsed.error.issues[0]?.message ?? 'wrong format'})`);
      const m = parsed.data;
      const at = new Date(m.at);
      last = !last || at > last ? at : last;
      if (m.kind === 'join') {
        if (open.has(m.personId)) {
          this.report.joinsWhilePresent += 1;
          continue;
        }
        const row: NewRow<'attendance'> = {
          event_id: eventId,
          session_id: sessionId,
          person_id: m.personId,
          name: m.name,
          entity: m.entity,
          entity_type: m.entityType,
          role: m.role,
          presence: 'participant',
          node_id: IMPORTED_NODE_ID,
          epoch: IMPORTED_EPOCH,
          joined_at: at,
          left_at: null,
          closed_by: null,
        };
        open.set(m.personId, { row });
        joins.push(row);
        if (joins.length >= WRITE_BATCH_ROWS) await flushJoins();
      } else {
        const pending = open.get(m.personId);
        if (!pending) continue; // a leave without a join: the earlier version ignored it too
        open.delete(m.personId);
        await close(pending, at, 'leave');
      }
    }
    // The earlier version stopped without closing these (a crash): they end at the file's last mark.
    for (const pending of open.values()) await close(pending, last!, IMPORTED_OPEN);
    this.report.intervalsLeftOpen += open.size;
    open.clear();
    await flushJoins();
    await flushCloses();
  }

  private async transcriptFile(path: string, sessionId: string, language: string): Promise<void> {
    if ((await this.eventOf(sessionId)) === null) return;
    let batch: Array<NewRow<'transcripts'>> = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      // One multi-row insert keeps the lines' order in their ids, which is the order the transcript is read in.
      await this.tx.insertInto('transcripts').values(batch).execute();
      this.report.transcriptLines += batch.length;
      batch = [];
    };
    for await (const value of this.jsonLines(path)) {
      const parsed = captionLine.safeParse(value.json);
      if (!parsed.success) throw new LegacyFileError(path, `line ${value.line} is not a caption line (${parsed.error.issues[0]?.message ?? 'wrong format'})`);
      batch.push({ session_id: sessionId, language, at: new Date(parsed.data.at), by_person: parsed.data.by, text: parsed.data.text });
      if (batch.length >= WRITE_BATCH_ROWS) await flush();
    }
    await flush();
  }

  private async floorFile(path: string, sessionId: string): Promise<void> {
    if ((await this.eventOf(sessionId)) === null) return;
    if ((await stat(path)).size > FLOOR_FILE_MAX_BYTES) throw new LegacyFileError(path, 'too large for a floor snapshot');
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new LegacyFileError(path, (error as Error).message);
    }
    const parsed = floorSnapshot.safeParse(raw);
    if (!parsed.success) throw new LegacyFileError(path, `not a floor snapshot (${parsed.error.issues[0]?.message ?? 'wrong format'})`);
    // A plain row, no fence: the first live owner's save is an upsert over it at its own epoch.
    await this.tx.insertInto('floor_state').values({ session_id: sessionId, snapshot: json(parsed.data), epoch: IMPORTED_EPOCH }).execute();
    this.report.floorSnapshots += 1;
  }

  /** The file's JSON values, a line at a time (a file of any size in bounded memory); torn lines are counted. */
  private async *jsonLines(path: string): AsyncGenerator<{ json: unknown; line: number }> {
    const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Number.POSITIVE_INFINITY });
    let line = 0;
    let whole = 0;
    let torn = 0;
    try {
      for await (const text of lines) {
        line += 1;
        if (text.trim() === '') continue;
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          torn += 1; // a line cut by a crash (the next append may have been written after it)
          continue;
        }
        whole += 1;
        yield { json: value, line };
      }
    } catch (error) {
      throw new LegacyFileError(path, (error as Error).message);
    } finally {
      lines.close();
    }
    if (torn > 0) this.report.tornLines[path] = torn;
    // Not one line is JSON: this is not a JSON-lines file at all, not a torn one.
    if (torn > 0 && whole === 0) throw new LegacyFileError(path, 'no line is a JSON record');
  }

  private async eventOf(sessionId: string): Promise<string | null> {
    if (!this.events.has(sessionId)) {
      const row = await this.tx.selectFrom('sessions').select('event_id').where('session_id', '=', sessionId).executeTakeFirst();
      this.events.set(sessionId, row?.event_id ?? null);
      if (!row) this.report.sessionsNotFound.push(sessionId);
    }
    return this.events.get(sessionId)!;
  }
}

/**
 * The files of a directory named `<id><ext>`, sorted; anything else stops the import, naming it (nothing is
 * dropped unseen), except `*.tmp` files of an interrupted save, listed in `ignored` when it is given.
 */
async function entries(dir: string, ext: string, what: string, ignored?: string[]): Promise<Array<{ path: string; name: string }>> {
  const out: Array<{ path: string; name: string }> = [];
  for (const entry of sorted(await readdir(dir, { withFileTypes: true }))) {
    const path = join(dir, entry.name);
    const name = entry.name.slice(0, -ext.length);
    if (entry.isFile() && entry.name.endsWith(ext) && SAFE.test(name)) out.push({ path, name });
    else if (ignored && entry.isFile() && entry.name.endsWith('.tmp')) ignored.push(path);
    else throw new LegacyFileError(path, `not ${what}`);
  }
  return out;
}

function sorted<T extends { name: string }>(list: T[]): T[] {
  return list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** No room records yet: nothing recorded by a live room, nor by an earlier import. */
async function noRoomRecords(tx: Transaction<Schema>): Promise<boolean> {
  for (const table of ['attendance', 'transcripts', 'floor_state'] as const) {
    if (await tx.selectFrom(table).select(sql<number>`1`.as('one')).limit(1).executeTakeFirst()) return false;
  }
  return true;
}

// Recordings in the system of record: the recording, its files and the meeting index's marks. Every node
// reads and writes the same rows, so the node that takes a room over after a failover continues the same
// recording, and any node serves its files and index.
import { randomBytes } from 'node:crypto';
import type { Db } from '../../store/open-store.js';
import { json } from '../../store/schema.js';
import type { MarkData, MarkKind, RecordingFileKind, RecordingFileRecord, RecordingMark, RecordingRecord, RecordingStatus } from './recording-model.js';

/** The session already has a recording under way: one at a time. */
export class RecordingActiveError extends Error {}

const DAY_MS = 86_400_000;

type RecordingRow = {
  recording_id: string;
  event_id: string;
  session_id: string;
  status: string;
  started_by: string;
  started_at: Date;
  stopped_at: Date | null;
  stopped_by: string | null;
  retention_days: number | null;
  expires_at: Date | null;
};

type FileRow = {
  recording_id: string;
  channel: string;
  part: number;
  kind: string;
  file_name: string;
  media_type: string;
  start_ms: number;
  end_ms: number | null;
  bytes: number;
};

type MarkRow = { id: number; recording_id: string; at_ms: number; end_ms: number | null; kind: string; data: unknown };

const date = (d: Date | string | null): Date | null => (d === null ? null : new Date(d));
const num = (n: number | string | null): number | null => (n === null ? null : Number(n));

const toRecording = (r: RecordingRow): RecordingRecord => ({
  recordingId: r.recording_id,
  eventId: r.event_id,
  sessionId: r.session_id,
  status: r.status as RecordingStatus,
  startedBy: r.started_by,
  startedAt: new Date(r.started_at),
  stoppedAt: date(r.stopped_at),
  stoppedBy: r.stopped_by,
  retentionDays: r.retention_days,
  expiresAt: date(r.expires_at),
});

const toFile = (r: FileRow): RecordingFileRecord => ({
  recordingId: r.recording_id,
  channel: r.channel,
  part: Number(r.part),
  kind: r.kind as RecordingFileKind,
  fileName: r.file_name,
  mediaType: r.media_type as RecordingFileRecord['mediaType'],
  startMs: Number(r.start_ms),
  endMs: num(r.end_ms),
  bytes: Number(r.bytes),
});

const toMark = (r: MarkRow): RecordingMark => ({
  id: Number(r.id),
  recordingId: r.recording_id,
  atMs: Number(r.at_ms),
  endMs: num(r.end_ms),
  data: r.data as MarkData,
});

const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === '23505';

/** A new recording id: `r_` and 32 random hex digits (recording-model.ts `recordingId`). */
export const newRecordingId = (): string => `r_${randomBytes(16).toString('hex')}`;

export class RecordingStore {
  constructor(private readonly db: Db) {}

  /** Starts the session's recording; RecordingActiveError when it has one under way (the unique index decides). */
  async start(input: { eventId: string; sessionId: string; startedBy: string; retentionDays: number | null }): Promise<RecordingRecord> {
    try {
      const row = await this.db
        .insertInto('recordings')
        .values({
          recording_id: newRecordingId(),
          event_id: input.eventId,
          session_id: input.sessionId,
          status: 'recording',
          started_by: input.startedBy,
          retention_days: input.retentionDays,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toRecording(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw new RecordingActiveError('this session is already being recorded');
      throw error;
    }
  }

  async active(sessionId: string): Promise<RecordingRecord | undefined> {
    const row = await this.db.selectFrom('recordings').selectAll().where('session_id', '=', sessionId).where('status', '=', 'recording').executeTakeFirst();
    return row && toRecording(row);
  }

  async get(recordingId: string): Promise<RecordingRecord | undefined> {
    const row = await this.db.selectFrom('recordings').selectAll().where('recording_id', '=', recordingId).executeTakeFirst();
    return row && toRecording(row);
  }

  /** The session's recordings, newest first. */
  async listForSession(sessionId: string): Promise<RecordingRecord[]> {
    const rows = await this.db.selectFrom('recordings').selectAll().where('session_id', '=', sessionId).orderBy('started_at', 'desc').orderBy('recording_id').execute();
    return rows.map(toRecording);
  }

  /**
   * Stops a recording under way: stopped_at, and expires_at from its retention. Undefined when it is not
   * under way (already stopped, or unknown), so two nodes stopping at once stop it once.
   */
  async stop(recordingId: string, by: string, at = new Date()): Promise<RecordingRecord | undefined> {
    const current = await this.get(recordingId);
    if (!current || current.status !== 'recording') return undefined;
    const expiresAt = current.retentionDays === null ? null : new Date(at.getTime() + current.retentionDays * DAY_MS);
    const row = await this.db
      .updateTable('recordings')
      .set({ status: 'stopped', stopped_at: at, stopped_by: by, expires_at: expiresAt })
      .where('recording_id', '=', recordingId)
      .where('status', '=', 'recording')
      .returningAll()
      .executeTakeFirst();
    return row && toRecording(row);
  }

  /** Records a file, or updates its start, end and size (a recorder reports as it writes). */
  async upsertFile(file: RecordingFileRecord): Promise<void> {
    await this.db
      .insertInto('recording_files')
      .values({
        recording_id: file.recordingId,
        channel: file.channel,
        part: file.part,
        kind: file.kind,
        file_name: file.fileName,
        media_type: file.mediaType,
        start_ms: file.startMs,
        end_ms: file.endMs,
        bytes: file.bytes,
      })
      .onConflict((oc) => oc.columns(['recording_id', 'channel', 'part']).doUpdateSet({ start_ms: file.startMs, end_ms: file.endMs, bytes: file.bytes }))
      .execute();
  }

  /** The recording's files, by channel and part. */
  async files(recordingId: string): Promise<RecordingFileRecord[]> {
    const rows = await this.db.selectFrom('recording_files').selectAll().where('recording_id', '=', recordingId).orderBy('channel').orderBy('part').execute();
    return rows.map(toFile);
  }

  async file(recordingId: string, channel: string, part: number): Promise<RecordingFileRecord | undefined> {
    const row = await this.db.selectFrom('recording_files').selectAll().where('recording_id', '=', recordingId).where('channel', '=', channel).where('part', '=', part).executeTakeFirst();
    return row && toFile(row);
  }

  /** Adds an entry to the meeting index; its id, to end a span later. */
  async addMark(mark: RecordingMark): Promise<number> {
    const row = await this.db
      .insertInto('recording_marks')
      .values({ recording_id: mark.recordingId, at_ms: mark.atMs, end_ms: mark.endMs, kind: mark.data.kind, data: json(mark.data) })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  /** Ends a span (a floor turn, a gap) that is still open; an ended one keeps its end. */
  async endMark(id: number, endMs: number): Promise<void> {
    await this.db.updateTable('recording_marks').set({ end_ms: endMs }).where('id', '=', id).where('end_ms', 'is', null).execute();
  }

  /**
   * Ends every span of this kind left open (at stop, or by a new owner after a failover: the old owner's
   * floor turn ended when its recording did). Instants have no end and are not spans: only kinds that are
   * spans should be passed; a span begun after `endMs` is left alone. Returns how many were ended.
   */
  async endOpenMarks(recordingId: string, kind: MarkKind, endMs: number): Promise<number> {
    const rows = await this.db
      .updateTable('recording_marks')
      .set({ end_ms: endMs })
      .where('recording_id', '=', recordingId)
      .where('kind', '=', kind)
      .where('end_ms', 'is', null)
      .where('at_ms', '<=', endMs)
      .returning('id')
      .execute();
    return rows.length;
  }

  /** The meeting index's entries in time order (ties in the order they were written). */
  async marks(recordingId: string): Promise<RecordingMark[]> {
    const rows = await this.db.selectFrom('recording_marks').selectAll().where('recording_id', '=', recordingId).orderBy('at_ms').orderBy('id').execute();
    return rows.map(toMark);
  }

  /**
   * One language's final caption lines of the session between two times (the recording's start and its
   * stop, or now), in the order they were published.
   */
  async captionLines(sessionId: string, language: string, from: Date, to: Date): Promise<Array<{ at: Date; text: string }>> {
    const rows = await this.db
      .selectFrom('transcripts')
      .select(['at', 'text'])
      .where('session_id', '=', sessionId)
      .where('language', '=', language)
      .where('at', '>=', from)
      .where('at', '<=', to)
      .orderBy('at')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ at: new Date(r.at), text: r.text }));
  }

  /** Stopped recordings whose retention has run out, on any session. */
  async expired(now = new Date()): Promise<RecordingRecord[]> {
    const rows = await this.db.selectFrom('recordings').selectAll().where('status', '=', 'stopped').where('expires_at', '<=', now).orderBy('expires_at').execute();
    return rows.map(toRecording);
  }

  /** Marks a stopped recording's files as deleted; its rows (index, file list) stay as the record of what was. */
  async markExpired(recordingId: string): Promise<void> {
    await this.db.updateTable('recordings').set({ status: 'expired' }).where('recording_id', '=', recordingId).where('status', '=', 'stopped').execute();
  }
}

// The secretariat's API for recordings: start and stop a session's recording, list its recordings, read a
// recording's index (JSON, WebVTT chapters, captions per language) and download its files, each download in
// the audit trail. Under `/api/admin/events/:eventId/sessions/:sessionId/recording(s)`.
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { AuditLog } from '../../accreditation/audit-log.js';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { Accreditation } from '../accreditation/accreditation-setup.js';
import type { Logger } from '../logger.js';
import { captionsVtt, chaptersVtt, indexJson } from '../recording/meeting-index.js';
import { recordingChannel, recordingId, type RecordingFileRecord, type RecordingRecord } from '../recording/recording-model.js';
import { recordingFolder } from '../recording/recording-paths.js';
import { RecordingActiveError, type RecordingStore } from '../recording/recording-store.js';
import { answerStoreErrors, parseOr400, route, sendError } from './http-errors.js';
import { idFormats } from './id-params.js';
import { secretariatOnly, sessionOfEvent } from './secretariat-auth.js';

export interface RecordingSessionRef {
  eventId: string;
  sessionId: string;
}

export interface RecordingRoutesDeps {
  accreditation: Accreditation;
  store: RecordingStore;
  /** Where files are kept: recordings under `recordings/<recordingId>/`. */
  storageDir: string;
  /** The trail a download is written to before it is served. */
  audit: AuditLog;
  adminApiKey?: string;
  /** Tells the session's room owner its recording started or stopped (it starts or stops its recorders); never throws. */
  recordingChanged?: (ref: RecordingSessionRef, recording: RecordingRecord) => Promise<void>;
  /** Whether this server can record at all (GStreamer installed): a start is refused otherwise, not left idle. */
  canRecord?: () => Promise<boolean>;
  log: Logger;
}

/** What a downloaded file may do in a browser that opens it anyway: nothing (as documents). */
export const RECORDING_CSP = "sandbox; default-src 'none'";

const recordingParams = z.object({ recordingId }).loose();
/** A caption language, as the transcripts store it (`en`, `zh-Hans`...). */
const captionParams = z.object({ recordingId, language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/) }).loose();
/** A file's part: a small non-negative integer, written as such (no sign, no leading zeros). */
const fileParams = z.object({ recordingId, channel: recordingChannel, part: z.string().regex(/^(0|[1-9]\d{0,5})$/).transform(Number) }).loose();
/** What a stored file name may be: one path segment, nothing hidden. */
const SAFE_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

/** The recording as the API shows it (no storage paths). */
export function recordingView(recording: RecordingRecord, files: readonly RecordingFileRecord[], fileUrl: (f: RecordingFileRecord) => string) {
  const index = indexJson(recording, files, [], fileUrl);
  return { ...index.recording, files: index.files };
}

export function recordingRoutes(deps: RecordingRoutesDeps): Router {
  const { store, log } = deps;
  const sessions = deps.accreditation.service.sessions;
  const storageDir = resolve(deps.storageDir);

  /** The session of the URL, only when it belongs to the URL's event. */
  const sessionRef = (req: Request): RecordingSessionRef => {
    const s = sessionOfEvent(sessions, req.params.eventId, req.params.sessionId);
    return { eventId: s.eventId, sessionId: s.sessionId };
  };
  const actorOf = (res: Response): string => String(res.locals.actor);
  const base = (ref: RecordingSessionRef) => `/api/admin/events/${ref.eventId}/sessions/${ref.sessionId}/recordings`;
  const fileUrl = (ref: RecordingSessionRef) => (f: RecordingFileRecord) => `${base(ref)}/${f.recordingId}/files/${f.channel}/${f.part}`;
  /** The recording, only if it is this session's: another session's id finds nothing. */
  const recordingOf = async (ref: RecordingSessionRef, id: string): Promise<RecordingRecord> => {
    const recording = await store.get(id);
    if (!recording || recording.sessionId !== ref.sessionId || recording.eventId !== ref.eventId) throw new ProtocolError(ErrorCode.NOT_FOUND, `no recording ${id} in this session`);
    return recording;
  };
  /** The recording's length on its own clock: to its stop, or to now while it is under way. */
  const lengthMs = (r: RecordingRecord) => Math.max(0, (r.stoppedAt ?? new Date()).getTime() - r.startedAt.getTime());
  const changed = async (ref: RecordingSessionRef, recording: RecordingRecord) => {
    try {
      await deps.recordingChanged?.(ref, recording);
    } catch (error) {
      // Its contract is never to throw; if it does, the row is written and the owner catches up on its own.
      log.warn({ err: (error as Error).message, recordingId: recording.recordingId }, 'telling the room of a recording change failed');
    }
  };

  // ---- start and stop -----------------------------------------------------------------------------------
  const control = guardedRouter(deps);
  control.post(
    '/start',
    route(async (req, res) => {
      const ref = sessionRef(req);
      if (deps.canRecord && !(await deps.canRecord())) return sendError(res, ErrorCode.UNAVAILABLE, 'this server cannot record: GStreamer is not installed (see PLENUM_GST_LAUNCH)');
      const retentionDays = sessions.get(ref.sessionId)?.recording?.retentionDays ?? null;
      let recording: RecordingRecord;
      try {
        recording = await store.start({ ...ref, startedBy: actorOf(res), retentionDays });
      } catch (error) {
        if (error instanceof RecordingActiveError) return sendError(res, ErrorCode.RECORDING_ACTIVE, 'this session is already being recorded: stop it first');
        throw error;
      }
      log.info({ ...ref, recordingId: recording.recordingId, by: recording.startedBy }, 'recording started');
      await changed(ref, recording);
      res.status(201).json({ recording: recordingView(recording, [], fileUrl(ref)) });
    }),
  );
  control.post(
    '/stop',
    route(async (req, res) => {
      const ref = sessionRef(req);
      const active = await store.active(ref.sessionId);
      const recording = active && active.eventId === ref.eventId ? await store.stop(active.recordingId, actorOf(res)) : undefined;
      if (!recording) return sendError(res, ErrorCode.RECORDING_NOT_ACTIVE, 'this session has no recording under way');
      // Spans nobody closed (the owner gone, or its recorder not yet told) end with the recording.
      const endMs = lengthMs(recording);
      await store.endOpenMarks(recording.recordingId, 'floor', endMs);
      await store.endOpenMarks(recording.recordingId, 'gap', endMs);
      log.info({ ...ref, recordingId: recording.recordingId, by: actorOf(res) }, 'recording stopped');
      await changed(ref, recording);
      res.json({ recording: recordingView(recording, await store.files(recording.recordingId), fileUrl(ref)) });
    }),
  );
  control.use(answerStoreErrors(log, 'the recordings'));

  // ---- recordings, their index and files ----------------------------------------------------------------
  const archive = guardedRouter(deps);
  archive.get(
    '/',
    route(async (req, res) => {
      const ref = sessionRef(req);
      const recordings = await store.listForSession(ref.sessionId);
      const mine = recordings.filter((r) => r.eventId === ref.eventId);
      res.json({ sessionId: ref.sessionId, recordings: await Promise.all(mine.map(async (r) => recordingView(r, await store.files(r.recordingId), fileUrl(ref)))) });
    }),
  );
  archive.get(
    '/:recordingId',
    route(async (req, res) => {
      const ref = sessionRef(req);
      const { recordingId: id } = parseOr400(recordingParams, req.params);
      const recording = await recordingOf(ref, id);
      const [files, marks] = await Promise.all([store.files(id), store.marks(id)]);
      res.setHeader('Cache-Control', 'private, no-store');
      res.json(indexJson(recording, files, marks, fileUrl(ref)));
    }),
  );
  archive.get(
    '/:recordingId/chapters.vtt',
    route(async (req, res) => {
      const ref = sessionRef(req);
      const { recordingId: id } = parseOr400(recordingParams, req.params);
      const recording = await recordingOf(ref, id);
      sendVtt(res, chaptersVtt(await store.marks(id), lengthMs(recording)));
    }),
  );
  archive.get(
    '/:recordingId/captions/:language.vtt',
    route(async (req, res) => {
      const ref = sessionRef(req);
      const { recordingId: id, language } = parseOr400(captionParams, req.params);
      const recording = await recordingOf(ref, id);
      const to = recording.stoppedAt ?? new Date();
      const lines = await store.captionLines(ref.sessionId, language, recording.startedAt, to);
      sendVtt(res, captionsVtt(lines, recording.startedAt, lengthMs(recording)));
    }),
  );
  archive.get(
    '/:recordingId/files/:channel/:part',
    route(async (req, res) => {
      const ref = sessionRef(req);
      const { recordingId: id, channel, part } = parseOr400(fileParams, req.params);
      const recording = await recordingOf(ref, id);
      if (recording.status === 'expired') throw new ProtocolError(ErrorCode.NOT_FOUND, `recording ${id} has expired: its files were deleted`);
      const file = await store.file(id, channel, part);
      if (!file) throw new ProtocolError(ErrorCode.NOT_FOUND, `no file ${channel}/${part} in recording ${id}`);
      // The path comes from the stored row, never from the URL; and even the row must name one plain file.
      const folder = recordingFolder(storageDir, id);
      if (!SAFE_FILE_NAME.test(file.fileName) || basename(file.fileName) !== file.fileName) {
        log.error({ recordingId: id, channel, part }, 'a recording file row names an unsafe file; refused');
        throw new ProtocolError(ErrorCode.NOT_FOUND, `no file ${channel}/${part} in recording ${id}`);
      }
      const onDisk = await stat(resolve(folder, file.fileName)).catch(() => undefined);
      if (!onDisk?.isFile()) throw new ProtocolError(ErrorCode.NOT_FOUND, `the file ${channel}/${part} of recording ${id} is not in the storage directory`);
      const actor = actorOf(res);
      // Recorded before a byte is served (every request, ranges included: each one reads the recording).
      await deps.audit.append({
        eventId: ref.eventId,
        sessionId: ref.sessionId,
        ...(actor !== 'admin-api-key' && { personId: actor }),
        decision: 'recording-download',
        reasons: [],
        source: 'secretariat',
        actor,
        recordingId: id,
        recordingChannel: channel,
        recordingPart: part,
      });
      const extension = file.mediaType === 'video/webm' ? 'webm' : 'ogg';
      const name = [ref.sessionId, id, channel, String(part)].map((p) => p.replace(/[^A-Za-z0-9._-]/g, '_')).join('-');
      await new Promise<void>((done) => {
        res.sendFile(
          file.fileName,
          {
            root: folder,
            dotfiles: 'deny',
            cacheControl: false,
            headers: {
              // The type recorded with the file, never guessed from its name; send() keeps a type already set.
              'Content-Type': file.mediaType,
              'Content-Disposition': `attachment; filename="${name}.${extension}"`,
              'X-Content-Type-Options': 'nosniff',
              'Content-Security-Policy': RECORDING_CSP,
              'Cache-Control': 'private, no-store',
              'Cross-Origin-Resource-Policy': 'same-origin',
            },
          },
          (error?: Error) => {
            if (error && !res.headersSent) sendError(res, ErrorCode.NOT_FOUND, `the file ${channel}/${part} of recording ${id} could not be read`);
            else if (error && (error as { code?: string }).code !== 'ECONNABORTED') log.warn({ err: error.message, recordingId: id, channel, part }, 'recording download cut short');
            done();
          },
        );
      });
    }),
  );
  archive.use(answerStoreErrors(log, 'the recordings'));

  const router = express.Router();
  router.use('/api/admin/events/:eventId/sessions/:sessionId/recording', control);
  router.use('/api/admin/events/:eventId/sessions/:sessionId/recordings', archive);
  return router;
}

/**
 * A router for one session's recording URLs: the event and session ids checked for their format first, then
 * the event's secretariat (or the admin API key).
 */
function guardedRouter(deps: RecordingRoutesDeps): Router {
  const router = express.Router({ mergeParams: true });
  router.use(idFormats(['eventId', 'sessionId']));
  router.use(secretariatOnly(deps.accreditation.service, deps.adminApiKey));
  return router;
}


function sendVtt(res: Response, vtt: string): void {
  res.setHeader('Content-Type', 'text/vtt; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'private, no-store');
  res.send(vtt);
}

/** A database that cannot answer becomes UNAVAILABLE (its error text kept in the log). */

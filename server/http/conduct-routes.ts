import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { personId as personIdFormat } from '../../accreditation/ids.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { QuorumView } from '../../protocol/signaling.js';
import type { Accreditation } from '../accreditation/accreditation-setup.js';
import type { FloorForwarding } from '../cluster/floor-forwarding.js';
import type { ConductService } from '../conduct/conduct-service.js';
import type { TranscriptStore } from '../interpretation/transcript-store.js';
import type { Logger } from '../logger.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { isTransient } from '../../store/transient.js';
import { setAttachment } from './attachment.js';
import { parseOr400, route, sendError } from './http-errors.js';
import { secretariatRouter, sessionOfEvent } from './secretariat-auth.js';

export interface ConductRoutesDeps {
  accreditation: Accreditation;
  transcripts: TranscriptStore;
  conduct: ConductService;
  rooms: RoomRegistry;
  /** Floor commands, applied on the node serving the room. */
  floor: FloorForwarding;
  adminApiKey?: string;
  /** Where a download cut short by the database is told. */
  log?: Logger;
}

const lifecycleBody = z.object({ action: z.enum(['open', 'suspend', 'resume', 'close']) }).strict();
const lockBody = z.object({ locked: z.boolean() }).strict();
const speakerBody = z.object({ personId: personIdFormat, kind: z.enum(['speaker', 'point_of_order']).default('speaker') }).strict();
const meetingBody = z.object({ title: z.string().trim().min(1).max(200) }).strict();
const channelLanguage = z.object({ language: z.string().regex(/^(floor|[a-z]{2,3}(-[A-Za-z0-9]{2,8})?)$/, '"floor" or a language code') });
const attendanceQuery = z
  .object({
    format: z.enum(['json', 'csv']).default('json'),
    presence: z.enum(['participant', 'listener']).default('participant'),
    limit: z.coerce.number().int().positive().max(10_000).default(1000),
    cursor: z.string().regex(/^\d{1,15}$/).optional(),
  })
  .strict();

/** The secretariat's REST API for conduct: meetings, the session lifecycle, the floor, attendance, quorum. */
export function conductRoutes(deps: ConductRoutesDeps): Router {
  const { conduct, rooms } = deps;
  const sessions = deps.accreditation.service.sessions;
  const admin = secretariatRouter(deps.accreditation.service, deps.adminApiKey, { json: true });

  const sessionOf = (eventId: unknown, sessionId: unknown) => sessionOfEvent(sessions, eventId, sessionId);

  admin.get(
    '/meetings',
    route((req, res) => {
      res.json({ meetings: sessions.meetings(String(req.params.eventId)) });
    }),
  );
  admin.put(
    '/meetings/:meetingId',
    route(async (req, res) => {
      const body = parseOr400(meetingBody, req.body);
      res.json({ meeting: await sessions.upsertMeeting({ meetingId: String(req.params.meetingId), eventId: String(req.params.eventId), title: body.title }) });
    }),
  );
  admin.post(
    '/sessions/:sessionId/lifecycle',
    route(async (req, res) => {
      const s = sessionOf(req.params.eventId, req.params.sessionId);
      const { action } = parseOr400(lifecycleBody, req.body);
      res.json({ sessionId: s.sessionId, status: await conduct.transition(s.sessionId, action) });
    }),
  );
  admin.post(
    '/sessions/:sessionId/lock',
    route(async (req, res) => {
      const s = sessionOf(req.params.eventId, req.params.sessionId);
      const { locked } = parseOr400(lockBody, req.body);
      res.json({ sessionId: s.sessionId, locked: (await sessions.upsert({ ...s, locked })).locked });
    }),
  );
  admin.get(
    '/sessions/:sessionId/floor',
    route(async (req, res) => {
      const s = sessionOf(req.params.eventId, req.params.sessionId);
      const room = rooms.get(s.sessionId);
      res.json(room ? room.view().floor : { controlled: s.floorControl, speaker: null, queue: [], ...(await conduct.storedFloor(s.sessionId)) });
    }),
  );
  admin.post(
    '/sessions/:sessionId/speakers',
    route(async (req, res) => {
      const s = sessionOf(req.params.eventId, req.params.sessionId);
      const body = parseOr400(speakerBody, req.body);
      // The event goes along: the node serving the room checks it again.
      res.json({ sessionId: s.sessionId, floor: await deps.floor.addSpeaker({ eventId: s.eventId, sessionId: s.sessionId, ...body }) });
    }),
  );
  admin.get(
    '/sessions/:sessionId/attendance',
    route(async (req, res) => {
      const s = sessionOf(req.params.eventId, req.params.sessionId);
      const q = parseOr400(attendanceQuery, req.query);
      // CSV is the whole record, streamed as read from the database a page at a time; JSON is paged.
      if (q.format === 'csv') await streamCsv(res, s.sessionId, conduct.attendance.csv(s.sessionId, q.presence), deps.log);
      else res.json(await conduct.attendance.page(s.sessionId, q));
    }),
  );
  admin.get(
    '/sessions/:sessionId/attendance/summary',
    route(async (req, res) => {
      const s = sessionOf(req.params.eventId, req.params.sessionId);
      res.json(await conduct.attendance.summary(s.sessionId));
    }),
  );
  admin.get(
    '/sessions/:sessionId/quorum',
    route(async (req, res) => {
      const s = sessionOf(req.params.eventId, req.params.sessionId);
      // The room here counts who is present now; edge listeners (and a room served by another node) are
      // counted from the open intervals in the database.
      const room = rooms.get(s.sessionId);
      const present = await conduct.attendance.entitiesPresent(s.sessionId, room ? 'listener' : undefined);
      res.json(mergeQuorum(room?.quorum() ?? { byType: {}, total: 0 }, present));
    }),
  );

  admin.get(
    '/sessions/:sessionId/transcripts/:language',
    route(async (req, res) => {
      const s = sessionOf(req.params.eventId, req.params.sessionId);
      const { language } = parseOr400(channelLanguage, { language: req.params.language });
      setAttachment(res, 'text/plain; charset=utf-8', ['transcript', s.sessionId, language], 'txt');
      res.send(await deps.transcripts.read(s.sessionId, language));
    }),
  );

  // A database that cannot answer (down, restarting, failing over), in a route or in the secretariat check:
  // UNAVAILABLE (503, worth a retry) with a generic message. Its error text (SQLSTATE, tables, addresses)
  // stays in the server's log.
  admin.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!isTransient(error) || res.headersSent) return next(error);
    deps.log?.warn({ err: (error as Error).message }, 'the system of record did not answer an admin request');
    sendError(res, ErrorCode.UNAVAILABLE, 'the meeting records are unavailable; try again shortly');
  });

  const router = express.Router();
  router.use('/api/admin/events/:eventId', admin);
  return router;
}

/**
 * Sends CSV chunks as they come, waiting for the client to take each (a session with thousands of
 * listeners is never held whole in memory). The first chunk is read before any header goes out, so a
 * database that cannot answer still gets a proper error; a failure later cuts the download short.
 */
async function streamCsv(res: Response, sessionId: string, chunks: AsyncIterator<string>, log?: Logger): Promise<void> {
  const first = await chunks.next();
  setAttachment(res, 'text/csv; charset=utf-8', ['attendance', sessionId], 'csv');
  if (first.done) return void res.end();
  try {
    for (let chunk: IteratorResult<string> = first; !chunk.done; chunk = await chunks.next()) {
      if (res.destroyed) return void (await chunks.return?.());
      if (!res.write(chunk.value)) await new Promise((resolve) => (res.once('drain', resolve), res.once('close', resolve)));
    }
    res.end();
  } catch (error) {
    // Headers are gone: all that is left is to cut the download (the client sees an incomplete body).
    log?.warn({ err: (error as Error).message, sessionId }, 'attendance download cut short');
    res.destroy();
  }
}

/** Adds entities present elsewhere (edges, the database) to a quorum view, each entity once. */
function mergeQuorum(view: QuorumView, present: Array<{ entity: string; entityType: string }>): QuorumView {
  const byType: QuorumView['byType'] = {};
  for (const [type, b] of Object.entries(view.byType)) byType[type] = { entities: [...b.entities], count: b.count };
  // A set per type: thousands of edge listeners' entities stay linear.
  const seen = new Map(Object.entries(byType).map(([type, b]) => [type, new Set(b.entities)]));
  for (const { entity, entityType } of present) {
    const bucket = (byType[entityType] ??= { entities: [], count: 0 });
    const known = seen.get(entityType) ?? seen.set(entityType, new Set()).get(entityType)!;
    if (known.has(entity)) continue;
    known.add(entity);
    bucket.entities.push(entity);
    bucket.count += 1;
  }
  return { byType, total: Object.values(byType).reduce((n, b) => n + b.count, 0) };
}

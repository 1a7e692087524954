// The secretariat's API for votes: the session's votes with their results, the results as CSV or JSON, and
// who casts an entity's vote besides its head of delegation.
import express, { type Router } from 'express';
import { z } from 'zod';
import { formatCsv } from '../../accreditation/csv.js';
import { personId as personIdFormat } from '../../accreditation/ids.js';
import { RegistryUnavailableError } from '../../accreditation/registry/registry.js';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { Accreditation } from '../accreditation/accreditation-setup.js';
import type { VoteRecord } from '../votes/vote-store.js';
import { voteView, type VoteService } from '../votes/vote-service.js';
import { setAttachment } from './attachment.js';
import { parseOr400, route } from './http-errors.js';
import { secretariatRouter, sessionOfEvent } from './secretariat-auth.js';

export interface VoteRoutesDeps {
  accreditation: Accreditation;
  votes: VoteService;
  adminApiKey?: string;
}

const voteIdParam = z.object({ voteId: z.string().uuid() });
const resultsQuery = z.object({ format: z.enum(['json', 'csv']).default('json') }).strict();
const designationBody = z.object({ entity: z.string().trim().min(1).max(200), personId: personIdFormat }).strict();

/** One line per entity (recorded vote, roll-call) or per candidate (secret ballot). */
function resultsCsv(vote: VoteRecord): string {
  const r = vote.result!;
  if (r.kind === 'secret') {
    return formatCsv(['candidate', 'votes', 'elected'], [...r.byCandidate.map((c) => [c.candidate, c.votes, r.elected.includes(c.candidate) ? 'yes' : r.tied.includes(c.candidate) ? 'tied' : 'no']), ['(abstentions)', r.abstentions, '']]);
  }
  return formatCsv(['entity', 'entityType', 'position'], [...r.byEntity.map((v) => [v.entity, v.entityType, v.position]), ...r.notVoting.map((e) => [e, '', 'not voting'])]);
}

export function voteRoutes(deps: VoteRoutesDeps): Router {
  const { store } = deps.votes;
  const sessions = deps.accreditation.service.sessions;
  const admin = secretariatRouter(deps.accreditation.service, deps.adminApiKey, { json: true });

  const sessionOf = (eventId: unknown, sessionId: unknown) => sessionOfEvent(sessions, eventId, sessionId);

  admin.get(
    '/sessions/:sessionId/votes',
    route(async (req, res) => {
      const s = sessionOf(req.params.eventId, req.params.sessionId);
      const votes = await store.list(s.eventId, s.sessionId);
      res.json({ votes: await Promise.all(votes.map(async (v) => voteView(v, await store.castCount(v.voteId)))) });
    }),
  );
  admin.get(
    '/sessions/:sessionId/votes/:voteId/results',
    route(async (req, res) => {
      const s = sessionOf(req.params.eventId, req.params.sessionId);
      const { voteId } = parseOr400(voteIdParam, { voteId: req.params.voteId });
      const { format } = parseOr400(resultsQuery, req.query);
      // Looked up under this event and session: another session's vote id finds nothing.
      const vote = await store.get(s.eventId, s.sessionId, voteId);
      if (!vote) throw new ProtocolError(ErrorCode.NOT_FOUND, `no vote ${voteId} in this session`);
      if (vote.status !== 'closed' || !vote.result) throw new ProtocolError(ErrorCode.INVALID_STATE, 'the vote is still open: results come when it closes');
      if (format === 'csv') {
        setAttachment(res, 'text/csv; charset=utf-8', ['vote', s.sessionId, voteId], 'csv');
        res.send(resultsCsv(vote));
      } else {
        res.json({ vote: voteView(vote, await store.castCount(voteId)) });
      }
    }),
  );
  admin.put(
    '/vote-designations',
    route(async (req, res) => {
      const eventId = String(req.params.eventId);
      const body = parseOr400(designationBody, req.body);
      // Only a delegate of that entity, registered and approved for this event, may be designated.
      const { registration } = await deps.accreditation.service.registry.lookup({ eventId, personId: body.personId }).catch((error: unknown) => {
        if (error instanceof RegistryUnavailableError) throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the registration registry cannot be reached; try again shortly');
        throw error;
      });
      if (!registration || registration.status !== 'approved') throw new ProtocolError(ErrorCode.NOT_FOUND, `no approved registration ${body.personId} for this event`);
      if (registration.entity.name !== body.entity) throw new ProtocolError(ErrorCode.BAD_REQUEST, `${body.personId} represents ${registration.entity.name}, not ${body.entity}`);
      await store.designate(eventId, body.entity, body.personId, String(res.locals.actor));
      res.json({ eventId, ...body });
    }),
  );

  const router = express.Router();
  router.use('/api/admin/events/:eventId', admin);
  return router;
}

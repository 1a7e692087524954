import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import * as ids from '../../accreditation/ids.js';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import { isTransient } from '../../store/transient.js';
import type { Accreditation } from '../accreditation/accreditation-setup.js';
import { DELIVERY_STATES, type WebhookDeliveries } from '../conduct/webhook-deliveries.js';
import type { Logger } from '../logger.js';
import { parseOr400, route, sendError } from './http-errors.js';
import { secretariatRouter } from './secretariat-auth.js';

export interface WebhookRoutesDeps {
  accreditation: Accreditation;
  deliveries: WebhookDeliveries;
  /** Whether outgoing webhooks are configured (PLENUM_WEBHOOK_URL); rows queued earlier are shown either way. */
  configured: boolean;
  adminApiKey?: string;
  log?: Logger;
}

const webhooksQuery = z
  .object({
    sessionId: ids.sessionId.optional(),
    state: z.enum(DELIVERY_STATES).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    /** A page's `nextCursor`: the deliveries older than its last one. */
    cursor: z.coerce.number().int().positive().optional(),
  })
  .strict();

/** The secretariat's view of the outgoing webhooks of its event: counts by state and the latest deliveries. */
export function webhookRoutes(deps: WebhookRoutesDeps): Router {
  const sessions = deps.accreditation.service.sessions;
  const admin = secretariatRouter(deps.accreditation.service, deps.adminApiKey);

  admin.get(
    '/webhooks',
    route(async (req, res) => {
      const q = parseOr400(webhooksQuery, req.query);
      const eventId = String(req.params.eventId);
      // Only this event's sessions are ever read: another event's session id is NOT_FOUND, as elsewhere.
      const own = sessions.list(eventId).map((s) => s.sessionId);
      if (q.sessionId !== undefined && !own.includes(q.sessionId)) throw new ProtocolError(ErrorCode.NOT_FOUND, `no session ${q.sessionId} in this event`);
      const page = await deps.deliveries.page({ sessionIds: q.sessionId ? [q.sessionId] : own, state: q.state, limit: q.limit, before: q.cursor });
      res.json({ configured: deps.configured, ...page });
    }),
  );

  admin.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!isTransient(error) || res.headersSent) return next(error);
    deps.log?.warn({ err: (error as Error).message }, 'the system of record did not answer a webhook view');
    sendError(res, ErrorCode.UNAVAILABLE, 'the meeting records are unavailable; try again shortly');
  });

  const router = express.Router();
  router.use('/api/admin/events/:eventId', admin);
  return router;
}

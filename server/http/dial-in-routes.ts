// The secretariat's API for personal dial-in PINs (docs/DIAL-IN.md): issue a person's PIN (shown once),
// say whether they have one, revoke it; and list who has one. Under `/api/admin/events/:eventId/…`.
// A PIN is never logged, audited or stored in clear: only its keyed hash is kept.
import express, { type Request, type Response, type Router } from 'express';
import type { AuditLog } from '../../accreditation/audit-log.js';
import type { DialInPinStatus, DialInPinStore } from '../../accreditation/dial-in/dial-in-pin-store.js';
import { RegistryUnavailableError } from '../../accreditation/registry/registry.js';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { Accreditation } from '../accreditation/accreditation-setup.js';
import type { Logger } from '../logger.js';
import { answerStoreErrors, route, sendError } from './http-errors.js';
import { idFormats } from './id-params.js';
import { secretariatOnly } from './secretariat-auth.js';

export interface DialInRoutesDeps {
  accreditation: Accreditation;
  adminApiKey?: string;
  log: Logger;
}

/** A PIN's status as the API shows it. */
const statusView = (s: DialInPinStatus) => ({ personId: s.personId, issuedAt: s.issuedAt.toISOString(), issuedBy: s.issuedBy });

export function dialInRoutes(deps: DialInRoutesDeps): Router {
  const { log } = deps;
  const service = deps.accreditation.service;
  const audit: AuditLog = service.audit;
  const pinsOf = (): DialInPinStore => {
    if (!service.dialIn) throw new ProtocolError(ErrorCode.NOT_SUPPORTED, 'dial-in PINs are not configured on this server');
    return service.dialIn.pins;
  };
  const actorOf = (res: Response): string => String(res.locals.actor);
  const ids = (req: Request) => ({ eventId: String(req.params.eventId), personId: String(req.params.personId) });
  const noStore = (res: Response) => res.setHeader('Cache-Control', 'private, no-store');
  const auditPin = (eventId: string, personId: string, decision: 'dial-in-pin-issue' | 'dial-in-pin-revoke', actor: string) =>
    audit.append({ eventId, sessionId: '', personId, decision, reasons: [], source: 'secretariat', actor });

  // ---- one person's PIN -----------------------------------------------------------------------------------
  const person = guardedRouter(deps, ['eventId', 'personId']);
  person.post(
    '/',
    route(async (req, res) => {
      const pins = pinsOf();
      const { eventId, personId } = ids(req);
      // Only a person registered for this event (the embedded registry or the CRM, through the cache).
      const { registration } = await service.registry.lookup({ eventId, personId }).catch((error: unknown) => {
        if (error instanceof RegistryUnavailableError) throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the registration registry cannot be reached; try again shortly');
        throw error;
      });
      if (!registration) throw new ProtocolError(ErrorCode.NOT_FOUND, `no registration ${personId} in this event`);
      const issued = await pins.issue(eventId, personId, actorOf(res));
      await auditPin(eventId, personId, 'dial-in-pin-issue', issued.issuedBy);
      log.info({ eventId, personId, by: issued.issuedBy }, 'dial-in PIN issued');
      noStore(res);
      res.status(201).json({ eventId, ...statusView(issued), pin: issued.pin });
    }),
  );
  person.get(
    '/',
    route(async (req, res) => {
      const { eventId, personId } = ids(req);
      const status = await pinsOf().status(eventId, personId);
      noStore(res);
      res.json(status ? { eventId, issued: true, ...statusView(status) } : { eventId, personId, issued: false });
    }),
  );
  person.delete(
    '/',
    route(async (req, res) => {
      const { eventId, personId } = ids(req);
      if (!(await pinsOf().revoke(eventId, personId))) return sendError(res, ErrorCode.NOT_FOUND, `${personId} has no dial-in PIN in this event`);
      await auditPin(eventId, personId, 'dial-in-pin-revoke', actorOf(res));
      log.info({ eventId, personId, by: actorOf(res) }, 'dial-in PIN revoked');
      res.status(204).end();
    }),
  );
  person.use(answerStoreErrors(log, 'dial-in PINs'));

  // ---- who has one ----------------------------------------------------------------------------------------
  const event = guardedRouter(deps, ['eventId']);
  event.get(
    '/',
    route(async (req, res) => {
      const eventId = String(req.params.eventId);
      noStore(res);
      res.json({ eventId, pins: (await pinsOf().list(eventId)).map(statusView) });
    }),
  );
  event.use(answerStoreErrors(log, 'dial-in PINs'));

  const router = express.Router();
  // Only its own paths: no other route of the event is guarded twice.
  router.use('/api/admin/events/:eventId/people/:personId/dial-in-pin', person);
  router.use('/api/admin/events/:eventId/dial-in-pins', event);
  return router;
}

/** A router for these URLs: ids checked for their format first, then the event's secretariat (or the admin API key). */
function guardedRouter(deps: DialInRoutesDeps, names: Array<'eventId' | 'personId'>): Router {
  const router = express.Router({ mergeParams: true });
  router.use(idFormats(names));
  router.use(secretariatOnly(deps.accreditation.service, deps.adminApiKey));
  return router;
}

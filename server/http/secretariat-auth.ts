import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import { AccreditationService } from '../../accreditation/accreditation-service.js';
import { conductingRoles, type SessionRules } from '../../accreditation/model.js';
import type { SessionDirectory } from '../../accreditation/session-directory.js';
import { RegistryUnavailableError } from '../../accreditation/registry/registry.js';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import { sendError } from './http-errors.js';
import { validateIdParams, validId } from './id-params.js';

export function bearer(req: Request): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7) : undefined;
}

export function sameSecret(a: string, b: string): boolean {
  // Hash first so lengths never leak and timingSafeEqual gets equal-length inputs.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * Admits a request to `/…/events/:eventId/…` from the event's secretariat (an identity token of a person
 * approved as secretariat or chair for that event) or from automation holding the admin API key. The actor
 * is left in `res.locals.actor`. Everything that can be checked without the registry is checked first
 * (the id's format, an identity bound to another event, an event this server does not know), so a signed-in
 * person cannot make the server look up, and cache, answers for ids of their choosing.
 */
export function secretariatOnly(service: AccreditationService, adminApiKey: string | undefined): RequestHandler {
  const authorise = async (req: Request, locals: Record<string, unknown>): Promise<void> => {
    const eventId = req.params.eventId;
    if (!validId('eventId', eventId)) throw new ProtocolError(ErrorCode.BAD_REQUEST, 'eventId: not a valid id');
    const key = req.header('x-api-key');
    if (key && adminApiKey && sameSecret(key, adminApiKey)) {
      locals.actor = 'admin-api-key';
      return;
    }
    const token = bearer(req);
    if (!token) throw new ProtocolError(ErrorCode.UNAUTHENTICATED, 'an identity token (Authorization: Bearer) or an admin API key is required');
    const identity = await service.identity.verify(token).catch(() => {
      throw new ProtocolError(ErrorCode.UNAUTHENTICATED, 'the identity token is not valid');
    });
    if (!AccreditationService.mayActFor(identity, eventId) || !(await service.knownEvent(eventId))) {
      throw new ProtocolError(ErrorCode.FORBIDDEN, 'only the secretariat of this event may do this');
    }
    const { registration: reg } = await service.registry.lookup({ eventId, email: identity.email, personId: identity.personId }).catch((error: unknown) => {
      if (error instanceof RegistryUnavailableError) throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the registration registry cannot be reached; try again shortly');
      throw error;
    });
    if (!reg || reg.status !== 'approved' || !conductingRoles.includes(reg.role)) {
      throw new ProtocolError(ErrorCode.FORBIDDEN, 'only the secretariat of this event may do this');
    }
    locals.actor = reg.personId;
  };
  return (req: Request, res: Response, next: NextFunction) => {
    authorise(req, res.locals).then(
      () => next(),
      (error: unknown) => (error instanceof ProtocolError ? sendError(res, error.code, error.message) : next(error)),
    );
  };
}

/**
 * The session of an admin URL `/events/:eventId/sessions/:sessionId`, only if it belongs to that event: a
 * secretariat never reaches another event's session by its id (NOT_FOUND, as if it did not exist).
 */
export function sessionOfEvent(sessions: SessionDirectory, eventId: unknown, sessionId: unknown): SessionRules {
  const s = sessions.get(String(sessionId));
  if (!s || s.eventId !== String(eventId)) throw new ProtocolError(ErrorCode.NOT_FOUND, `no session ${String(sessionId)} in this event`);
  return s;
}

/**
 * A router for `/api/admin/events/:eventId/…`: the event's secretariat (or the admin API key) only, path ids
 * checked for their format before any handler runs, and small JSON bodies when `json` is set.
 */
export function secretariatRouter(service: AccreditationService, adminApiKey: string | undefined, { json = false }: { json?: boolean } = {}): Router {
  const admin = express.Router({ mergeParams: true });
  if (json) admin.use(express.json({ limit: '16kb' }));
  admin.use(secretariatOnly(service, adminApiKey));
  validateIdParams(admin);
  return admin;
}

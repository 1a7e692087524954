import express, { type Request, type Router } from 'express';
import { z } from 'zod';
import { AUDIT_DECISIONS, AUDIT_PAGE_MAX, auditToCsv, type AuditRecord } from '../../accreditation/audit-log.js';
import { HasherBusyError } from '../../accreditation/access-code-hasher.js';
import { AccreditationService } from '../../accreditation/accreditation-service.js';
import * as ids from '../../accreditation/ids.js';
import { CsvEmailInUseError, CsvImportError, EmailInUseError } from '../../accreditation/registry/embedded-registry.js';
import { DialInNumberInUseError, SessionOfOtherEventError } from '../../accreditation/session-directory.js';
import { registration, registrationStatus, sessionRulesObject, DenyReason } from '../../accreditation/model.js';
import { verifyWebhook } from '../../accreditation/webhook-signature.js';
import { IdentityError } from '../../accreditation/identity/identity.js';
import { RegistryUnavailableError } from '../../accreditation/registry/registry.js';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { Accreditation } from '../accreditation/accreditation-setup.js';
import type { RevocationMonitor } from '../accreditation/revocation-monitor.js';
import type { JoinTokenService } from '../auth/join-token.js';
import type { Logger } from '../logger.js';
import { setAttachment } from './attachment.js';
import { parseOr400, route, sendError } from './http-errors.js';
import { addressKey, AttemptLimiter } from './sign-in-limiter.js';
import { bearer, secretariatRouter } from './secretariat-auth.js';

export interface AccreditationRoutesDeps {
  accreditation: Accreditation;
  monitor: RevocationMonitor;
  tokens: JoinTokenService;
  adminApiKey?: string;
  webhookSecret?: string;
  signInFailuresPerMinute: number;
  signInAttemptsPerMinutePerAddress: number;
  log: Logger;
}

const signInBody = z.object({ email: z.string().email().max(254), accessCode: z.string().min(1).max(128), eventId: ids.eventId.optional() }).strict();
const joinBody = z.object({ identityToken: z.string().min(1).max(16_384), sessionId: ids.sessionId }).strict();
const auditQuery = z
  .object({
    sessionId: ids.sessionId.optional(),
    personId: ids.personId.optional(),
    decision: z.enum(AUDIT_DECISIONS).optional(),
    since: z.coerce.date().optional(),
    /** Records per page (JSON), or at most this many in all (CSV). */
    limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).optional(),
    /** A page's `nextCursor`: the records older than the last one of that page. */
    cursor: z.coerce.number().int().positive().optional(),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();
const webhookBody = z.object({ eventId: ids.eventId, personId: ids.personId });
const revokeBody = z.object({ status: registrationStatus.exclude(['approved', 'pending']).default('revoked') }).strict();

/** Sign-in, join decisions, the secretariat's admin API (registry, sessions, audit) and the CRM webhook. */
export function accreditationRoutes(deps: AccreditationRoutesDeps): Router {
  const { accreditation, monitor, tokens, log } = deps;
  const { service, embedded, signIn } = accreditation;
  const router = express.Router();

  // The webhook is verified over its raw bytes, so it is parsed here rather than by the JSON parser.
  router.post(
    '/api/registry/webhook',
    express.raw({ type: '*/*', limit: '16kb' }),
    route(async (req, res) => {
      if (!deps.webhookSecret) throw new ProtocolError(ErrorCode.ROUTE_NOT_FOUND, 'not found');
      const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      if (!verifyWebhook(deps.webhookSecret, raw, req.header('x-plenum-signature'))) {
        throw new ProtocolError(ErrorCode.UNAUTHENTICATED, 'bad or missing webhook signature');
      }
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        throw new ProtocolError(ErrorCode.BAD_REQUEST, 'the body is not valid JSON');
      }
      const body = parseOr400(webhookBody, json);
      const removed = await monitor.personChanged(body.eventId, body.personId, 'webhook');
      res.status(202).json({ accepted: true, removed });
    }),
  );

  router.use(express.json({ limit: '16kb' }));

  // Brute force and CPU exhaustion on access codes. Both limits are checked before any hashing: per client
  // address (every attempt holds a token until it succeeds, so random e-mails are limited too), and per
  // address and e-mail (10 failures a minute by default). The hashing itself runs off the event loop.
  const byAddress = new AttemptLimiter(deps.signInAttemptsPerMinutePerAddress);
  const byAddressAndEmail = new AttemptLimiter(deps.signInFailuresPerMinute);
  router.post(
    '/api/auth/sign-in',
    route(async (req, res) => {
      if (!signIn || !embedded) throw new ProtocolError(ErrorCode.ROUTE_NOT_FOUND, 'the embedded sign-in is off');
      const body = parseOr400(signInBody, req.body);
      const email = body.email.toLowerCase();
      const address = addressKey(req.ip);
      const key = `${address}|${email}`;
      // Both tokens are taken before any hashing, so parallel attempts cannot all pass a check made before
      // the first of them fails; a success (or an attempt that never got to hash) gives them back.
      if (!byAddress.take(address)) throw new ProtocolError(ErrorCode.RATE_LIMITED, 'too many sign-in attempts from this address; wait a minute');
      if (!byAddressAndEmail.take(key)) {
        byAddress.giveBack(address);
        throw new ProtocolError(ErrorCode.RATE_LIMITED, 'too many failed sign-in attempts; wait a minute');
      }
      let person;
      try {
        person = await embedded.checkAccessCode(email, body.accessCode, body.eventId);
      } catch (error) {
        byAddress.giveBack(address);
        byAddressAndEmail.giveBack(key);
        if (error instanceof HasherBusyError) {
          res.setHeader('Retry-After', '5');
          throw new ProtocolError(ErrorCode.UNAVAILABLE, 'too many sign-ins at once; try again in a few seconds');
        }
        throw error;
      }
      if (!person) throw new ProtocolError(ErrorCode.UNAUTHENTICATED, 'unknown e-mail or wrong access code');
      byAddress.giveBack(address);
      byAddressAndEmail.giveBack(key);
      res.json({
        identityToken: signIn.issue({ eventId: person.eventId, personId: person.personId, email, name: person.name }),
        name: person.name,
        eventId: person.eventId,
      });
    }),
  );

  router.post(
    '/api/join',
    route(async (req, res) => {
      const body = parseOr400(joinBody, req.body);
      const d = await service.decideJoin(body.identityToken, body.sessionId);
      if (d.decision === 'deny') {
        const [reason] = d.reasons;
        if (reason === DenyReason.IDENTITY_INVALID) return sendError(res, ErrorCode.UNAUTHENTICATED, 'the identity token is not valid', { decision: 'deny', reasons: d.reasons });
        if (reason === DenyReason.REGISTRY_UNAVAILABLE) {
          res.setHeader('Retry-After', '10');
          return sendError(res, ErrorCode.UNAVAILABLE, 'the registration registry cannot be reached; try again shortly', { decision: 'deny', reasons: d.reasons });
        }
        return sendError(res, ErrorCode.NOT_ACCREDITED, `not admitted: ${d.reasons.join(', ')}`, { decision: 'deny', reasons: d.reasons });
      }
      const r = d.registration!;
      const session = d.session!;
      const joinToken = tokens.issue(r.personId, {
        room: session.sessionId,
        event: session.eventId,
        person: r.personId,
        name: r.name,
        role: r.role,
        entity: { name: r.entity.name, type: r.entity.type, countryCode: r.entity.countryCode },
        publish: { floor: d.grants!.publishFloor, booths: d.grants!.booths, captions: d.grants!.captions },
        subscribe: d.grants!.subscribe,
        moderate: d.grants!.moderate,
        lobby: d.decision === 'lobby',
        accreditation: { status: r.status, source: d.source },
      });
      res.json({
        decision: d.decision,
        reasons: d.reasons,
        joinToken,
        session: { sessionId: session.sessionId, eventId: session.eventId, title: session.title, languages: session.languages },
        participant: { personId: r.personId, name: r.name, role: r.role, entity: r.entity },
        grants: d.grants,
      });
    }),
  );

  const requireIdentity = async (req: Request) => {
    const token = bearer(req);
    if (!token) throw new ProtocolError(ErrorCode.UNAUTHENTICATED, 'an identity token is required (Authorization: Bearer)');
    return service.identity.verify(token).catch(() => {
      throw new ProtocolError(ErrorCode.UNAUTHENTICATED, 'the identity token is not valid');
    });
  };

  router.get(
    '/api/events',
    route(async (req, res) => {
      const identity = await requireIdentity(req);
      // An identity bound to one event (embedded sign-in) sees that event only.
      res.json({ events: service.sessions.events().filter((e) => AccreditationService.mayActFor(identity, e.eventId)) });
    }),
  );

  router.get(
    '/api/events/:eventId/sessions',
    route(async (req, res) => {
      const eventId = String(req.params.eventId);
      if (!ids.EVENT_ID_PATTERN.test(eventId)) throw new ProtocolError(ErrorCode.BAD_REQUEST, 'eventId: not a valid id');
      const token = bearer(req)!;
      const identity = await requireIdentity(req);
      // An identity bound to another event learns nothing of this one, not even that it exists.
      const event = AccreditationService.mayActFor(identity, eventId) ? service.sessions.event(eventId) : undefined;
      if (!event) throw new ProtocolError(ErrorCode.NOT_FOUND, `no event ${eventId}`);
      const accessible = await service.accessibleSessions(token, eventId).catch((error: unknown) => {
        if (error instanceof IdentityError) throw new ProtocolError(ErrorCode.UNAUTHENTICATED, 'the identity token is not valid');
        if (error instanceof RegistryUnavailableError) throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the registration registry cannot be reached; try again shortly');
        throw error;
      });
      res.json({
        event,
        // The person's own registration for the event (status, role, entity), so a pending or refused person
        // learns why the list is empty.
        accreditation: accessible.accreditation,
        // Only the sessions this person is accredited for, earliest first.
        sessions: accessible.sessions
          .sort((a, b) => (a.session.startsAt ?? '').localeCompare(b.session.startsAt ?? ''))
          .map(({ session: s, access }) => ({
          access,
          sessionId: s.sessionId,
          meetingId: s.meetingId,
          title: s.title,
          status: s.status,
          startsAt: s.startsAt,
          endsAt: s.endsAt,
          lobby: s.lobby,
          languages: s.languages,
          })),
      });
    }),
  );

  // ---- secretariat admin API ------------------------------------------------------------------------
  const admin = secretariatRouter(service, deps.adminApiKey);
  // Only automation (the admin API key) may give an e-mail a registration in a second event.
  const writeOptions = (res: { locals: Record<string, unknown> }) => ({ allowEmailOfOtherEvent: res.locals.actor === 'admin-api-key' });
  const writeErrors = (res: Parameters<typeof sendError>[0], error: unknown): void => {
    if (error instanceof CsvEmailInUseError) return sendError(res, ErrorCode.EMAIL_IN_USE, error.message, { lines: error.lines.slice(0, 100) });
    if (error instanceof CsvImportError) return sendError(res, ErrorCode.CSV_INVALID, error.message, { lines: error.lines.slice(0, 100) });
    if (error instanceof EmailInUseError) return sendError(res, ErrorCode.EMAIL_IN_USE, error.message);
    if (error instanceof HasherBusyError) {
      res.setHeader('Retry-After', '5');
      return sendError(res, ErrorCode.UNAVAILABLE, error.message);
    }
    throw error;
  };

  const requireEmbedded = () => {
    if (!embedded) throw new ProtocolError(ErrorCode.NOT_SUPPORTED, 'registrations are held by the CRM; change them there');
    return embedded;
  };

  admin.get(
    '/registrations',
    route(async (req, res) => {
      res.json({ registrations: await requireEmbedded().list(String(req.params.eventId)) });
    }),
  );
  admin.put(
    '/registrations/:personId',
    route(async (req, res) => {
      const reg = requireEmbedded();
      const body = parseOr400(registration.omit({ eventId: true, personId: true }).extend({ accessCode: z.string().min(8).max(128).optional() }).strict(), req.body);
      const { accessCode, ...rest } = body;
      try {
        const saved = await reg.upsert({ ...rest, eventId: String(req.params.eventId), personId: String(req.params.personId) }, accessCode, writeOptions(res));
        res.json({ registration: saved });
      } catch (error) {
        writeErrors(res, error);
      }
    }),
  );
  admin.post(
    '/registrations/:personId/revoke',
    route(async (req, res) => {
      const body = parseOr400(revokeBody, req.body ?? {});
      const saved = await requireEmbedded().updateStatus(String(req.params.eventId), String(req.params.personId), body.status);
      if (!saved) throw new ProtocolError(ErrorCode.NOT_FOUND, `no registration ${String(req.params.personId)} for this event`);
      res.json({ registration: saved });
    }),
  );
  admin.post(
    '/registrations/import',
    express.text({ type: ['text/csv', 'text/plain'], limit: '5mb' }),
    route(async (req, res) => {
      const reg = requireEmbedded();
      if (typeof req.body !== 'string') throw new ProtocolError(ErrorCode.BAD_REQUEST, 'send the CSV as text/csv');
      try {
        res.json(await reg.importCsv(req.body, String(req.params.eventId), writeOptions(res)));
      } catch (error) {
        writeErrors(res, error);
      }
    }),
  );
  admin.get(
    '/audit',
    route(async (req, res) => {
      const { cursor, format, limit, ...filter } = parseOr400(auditQuery, req.query);
      const query = { ...filter, eventId: String(req.params.eventId), before: cursor };
      if (format === 'json') {
        const page = await service.audit.query({ ...query, limit });
        res.json({ records: page.records, nextCursor: page.nextCursor ?? null });
        return;
      }
      // The export pages through the trail (all of it, or `limit` records), oldest first as a ledger reads.
      const records: AuditRecord[] = [];
      for (let before = query.before; ; ) {
        const page = await service.audit.query({ ...query, before, limit: AUDIT_PAGE_MAX });
        records.push(...page.records);
        if (page.nextCursor === undefined || (limit !== undefined && records.length >= limit)) break;
        before = page.nextCursor;
      }
      setAttachment(res, 'text/csv; charset=utf-8', ['audit', String(req.params.eventId)], 'csv');
      res.send(auditToCsv(records.slice(0, limit).reverse()));
    }),
  );
  admin.get(
    '/sessions',
    route((req, res) => {
      res.json({ sessions: service.sessions.list(String(req.params.eventId)) });
    }),
  );
  admin.put(
    '/sessions/:sessionId',
    route(async (req, res) => {
      const input = parseOr400(sessionRulesObject.omit({ sessionId: true, eventId: true }), req.body);
      try {
        res.json({ session: await service.sessions.upsert({ ...input, sessionId: String(req.params.sessionId), eventId: String(req.params.eventId) }) });
      } catch (error) {
        // A session id belongs to one event: another event's secretariat may not take it over.
        if (error instanceof SessionOfOtherEventError) throw new ProtocolError(ErrorCode.ID_IN_USE, error.message);
        // A dial-in number leads to one session: the PBX could not tell two apart.
        if (error instanceof DialInNumberInUseError) throw new ProtocolError(ErrorCode.ID_IN_USE, error.message);
        throw error;
      }
    }),
  );
  router.use('/api/admin/events/:eventId', admin);

  log.debug('accreditation routes mounted');
  return router;
}

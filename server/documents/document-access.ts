// Who may read a session's documents: the accreditation decision of /api/join, and the document's audience.
import { AccreditationService } from '../../accreditation/accreditation-service.js';
import type { AuditSource } from '../../accreditation/audit-log.js';
import { IdentityError } from '../../accreditation/identity/identity.js';
import { conductingRoles, type SessionRules } from '../../accreditation/model.js';
import { decide } from '../../accreditation/policy.js';
import { RegistryUnavailableError } from '../../accreditation/registry/registry.js';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { DocumentAudience } from './document-model.js';

/** The person (or automation) reading documents, with what their audit record needs. */
export interface DocumentReader {
  /** The secretariat and the chair see every document. */
  conducting: boolean;
  role?: string;
  entityType?: string;
  personId?: string;
  email?: string;
  name?: string;
  entity?: string;
  /** The secretariat's person id, or `admin-api-key`. */
  actor?: string;
  source: AuditSource;
}

/** Whether a reader is in a document's audience. */
export function mayRead(reader: DocumentReader, audience: DocumentAudience): boolean {
  if (reader.conducting || audience === 'everyone') return true;
  if (audience === 'interpreters') return reader.role === 'interpreter';
  return reader.entityType === 'member_state';
}

/** A secretariat request, already admitted by secretariatOnly (its actor in `res.locals.actor`). */
export function secretariatReader(actor: string): DocumentReader {
  return actor === 'admin-api-key' ? { conducting: true, actor, source: 'secretariat' } : { conducting: true, actor, personId: actor, source: 'secretariat' };
}

/**
 * A participant, by their identity token, for one session: admitted as /api/join would admit them (the
 * registration's status, the sessions it lists, the session's roles and entity types), except that the
 * session's lifecycle and lock do not matter: documents are read before a meeting opens and after it
 * closes, and a person held in the lobby is accredited all the same. Nothing is written to the audit
 * trail here (a listing is not an access to a document; the download is recorded).
 */
export async function participantReader(service: AccreditationService, identityToken: string, sessionId: string): Promise<{ session: SessionRules; reader: DocumentReader }> {
  const identity = await service.identity.verify(identityToken).catch((error: unknown) => {
    if (error instanceof IdentityError) throw new ProtocolError(ErrorCode.UNAUTHENTICATED, 'the identity token is not valid');
    throw error;
  });
  const session = service.sessions.get(sessionId);
  // An identity bound to another event learns nothing of this session, not even that it exists.
  if (!session || !AccreditationService.mayActFor(identity, session.eventId)) throw new ProtocolError(ErrorCode.NOT_FOUND, `no session ${sessionId}`);
  const lookup = await service.registry.lookup({ eventId: session.eventId, email: identity.email, personId: identity.personId }).catch((error: unknown) => {
    if (error instanceof RegistryUnavailableError) throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the registration registry cannot be reached; try again shortly');
    throw error;
  });
  const registration = lookup.registration;
  const decision = decide(registration, { ...session, status: 'open', locked: false });
  if (decision.decision === 'deny' || !registration) throw new ProtocolError(ErrorCode.NOT_ACCREDITED, `not admitted to this session: ${decision.reasons.join(', ')}`);
  return {
    session,
    reader: {
      conducting: conductingRoles.includes(registration.role),
      role: registration.role,
      entityType: registration.entity.type,
      personId: registration.personId,
      email: registration.email,
      name: registration.name,
      entity: registration.entity.name,
      source: lookup.source,
    },
  };
}

import type { AuditLog, AuditSource } from './audit-log.js';
import type { DialInAccess } from './dial-in/dial-in-access.js';
import { IdentityError, type Identity, type IdentityVerifier } from './identity/identity.js';
import { DenyReason, type PolicyDecision, type Registration, type SessionRules } from './model.js';
import { decide } from './policy.js';
import type { CachingRegistry } from './registry/caching-registry.js';
import { RegistryUnavailableError } from './registry/registry.js';
import type { SessionDirectory } from './session-directory.js';
import { isTransient } from '../store/transient.js';

/** What a person may see of their own registration: never another person's, never the CRM's raw record. */
export type PersonAccreditation = Pick<Registration, 'status' | 'role' | 'entity'>;

export interface JoinDecision extends PolicyDecision {
  session: SessionRules | undefined;
  identity?: Identity;
  registration?: Registration;
  source: AuditSource;
  /** `dial-in`: a phone caller, admitted by their dial-in PIN (no identity token). */
  via?: 'dial-in';
}

/** A fresh decision for someone already admitted, with what it was made from. */
export interface Reassessment extends PolicyDecision {
  session?: SessionRules;
  registration: Registration | null;
  source: AuditSource;
}

export interface PersonRef {
  eventId: string;
  personId: string;
}

/**
 * Who may enter: verifies the identity, looks the person up in the registry (through the cache and the
 * outage policy), applies the session's policy and appends the decision to the audit trail before answering.
 */
export class AccreditationService {
  constructor(
    readonly identity: IdentityVerifier,
    readonly registry: CachingRegistry,
    readonly sessions: SessionDirectory,
    readonly audit: AuditLog,
    /** Events the server knows (sessions, or embedded registrations); others are never looked up. */
    private readonly eventExists: (eventId: string) => Promise<boolean> = async (eventId) => sessions.event(eventId) !== undefined,
    /** Personal dial-in PINs and the limit on wrong ones: needed by decidePhoneJoin only. */
    readonly dialIn?: DialInAccess,
  ) {}

  knownEvent(eventId: string): Promise<boolean> {
    return this.eventExists(eventId);
  }

  /** An identity bound to one event (embedded sign-in) acts for that event only. */
  static mayActFor(identity: Identity, eventId: string): boolean {
    return identity.eventId === undefined || identity.eventId === eventId;
  }

  async decideJoin(identityToken: string, sessionId: string): Promise<JoinDecision> {
    const session = this.sessions.get(sessionId);
    let identity: Identity;
    try {
      identity = await this.identity.verify(identityToken);
    } catch (error) {
      if (!(error instanceof IdentityError)) throw error;
      // Unverified identities are not audited per person (anyone could flood the trail); they are counted in logs.
      return { decision: 'deny', reasons: [DenyReason.IDENTITY_INVALID], session, source: 'none' };
    }
    if (!session) return this.record({ decision: 'deny', reasons: [DenyReason.SESSION_NOT_FOUND], session, identity, source: 'none' }, sessionId, '');
    if (!AccreditationService.mayActFor(identity, session.eventId)) {
      return this.record({ decision: 'deny', reasons: [DenyReason.IDENTITY_OTHER_EVENT], session, identity, source: 'none' }, sessionId, session.eventId);
    }

    let lookup;
    try {
      lookup = await this.registry.lookup({ eventId: session.eventId, email: identity.email, personId: identity.personId });
    } catch (error) {
      if (!(error instanceof RegistryUnavailableError)) throw error;
      return this.record({ decision: 'deny', reasons: [DenyReason.REGISTRY_UNAVAILABLE], session, identity, source: 'unavailable' }, sessionId, session.eventId);
    }
    const policy = decide(lookup.registration, session);
    return this.record({ ...policy, session, identity, registration: lookup.registration ?? undefined, source: lookup.source }, sessionId, session.eventId);
  }

  /**
   * A phone caller who keyed `pin` for `sessionId` (the session their dial-in number leads to): the PIN names a
   * person of the session's event, whose registration goes through the same decide() and the same audit as a
   * web join, marked `via: 'dial-in'`. A wrong PIN is denied (PIN_INVALID) and audited without a person; past
   * the configured wrong PINs per session lately, PINs are refused unchecked (PIN_ATTEMPTS_EXCEEDED).
   */
  async decidePhoneJoin(pin: string, sessionId: string): Promise<JoinDecision> {
    if (!this.dialIn) throw new Error('dial-in PINs are not configured');
    const { pins, attempts } = this.dialIn;
    const session = this.sessions.get(sessionId);
    const phone = { session, via: 'dial-in' as const };
    if (!session) return this.record({ decision: 'deny', reasons: [DenyReason.SESSION_NOT_FOUND], ...phone, source: 'none' }, sessionId, '');
    if (!attempts.begin(sessionId)) return this.record({ decision: 'deny', reasons: [DenyReason.PIN_ATTEMPTS_EXCEEDED], ...phone, source: 'none' }, sessionId, session.eventId);

    let personId: string | undefined;
    try {
      personId = await pins.personOf(session.eventId, pin);
    } catch (error) {
      attempts.end(sessionId, false);
      if (!isTransient(error)) throw error;
      return this.record({ decision: 'deny', reasons: [DenyReason.REGISTRY_UNAVAILABLE], ...phone, source: 'unavailable' }, sessionId, session.eventId);
    }
    attempts.end(sessionId, personId === undefined);
    if (!personId) return this.record({ decision: 'deny', reasons: [DenyReason.PIN_INVALID], ...phone, source: 'none' }, sessionId, session.eventId);

    let lookup;
    try {
      lookup = await this.registry.lookup({ eventId: session.eventId, personId });
    } catch (error) {
      if (!(error instanceof RegistryUnavailableError)) throw error;
      return this.record({ decision: 'deny', reasons: [DenyReason.REGISTRY_UNAVAILABLE], ...phone, source: 'unavailable' }, sessionId, session.eventId);
    }
    const policy = decide(lookup.registration, session);
    return this.record({ ...policy, ...phone, registration: lookup.registration ?? undefined, source: lookup.source }, sessionId, session.eventId);
  }

  /**
   * The sessions of an event this person is accredited for, whatever their lifecycle status (the events
   * page shows scheduled and closed ones too). Reads through the cache; writes no audit record.
   */
  /**
   * The person's accreditation for an event (their registration's status, role and entity; null when not
   * registered) and the sessions it lets them enter, directly or through the lobby.
   */
  async accessibleSessions(
    identityToken: string,
    eventId: string,
  ): Promise<{ accreditation: PersonAccreditation | null; sessions: Array<{ session: SessionRules; access: 'allow' | 'lobby' }> }> {
    const identity = await this.identity.verify(identityToken);
    if (!AccreditationService.mayActFor(identity, eventId) || !(await this.knownEvent(eventId))) return { accreditation: null, sessions: [] };
    const { registration } = await this.registry.lookup({ eventId, email: identity.email, personId: identity.personId });
    const sessions: Array<{ session: SessionRules; access: 'allow' | 'lobby' }> = [];
    for (const session of this.sessions.list(eventId)) {
      const d = decide(registration, { ...session, status: 'open', locked: false });
      if (d.decision !== 'deny') sessions.push({ session, access: d.decision });
    }
    const accreditation = registration ? { status: registration.status, role: registration.role, entity: registration.entity } : null;
    return { accreditation, sessions };
  }

  /**
   * Re-checks an admitted person against a fresh registry answer. Returns undefined when the registry
   * cannot answer: only a definite answer revokes, so a CRM blip never empties a meeting.
   */
  async revalidate(person: PersonRef, sessionId: string): Promise<PolicyDecision | undefined> {
    const session = this.sessions.get(sessionId);
    if (!session) return { decision: 'deny', reasons: [DenyReason.SESSION_NOT_FOUND] };
    try {
      const { registration } = await this.registry.lookup({ eventId: person.eventId, personId: person.personId }, { fresh: true });
      return decide(registration, session);
    } catch (error) {
      if (error instanceof RegistryUnavailableError) return undefined;
      throw error;
    }
  }

  /**
   * Like `revalidate`, with the registration behind the decision and where the answer came from, so a
   * caller can rebuild the person's grants (a resume, a live grant change). Undefined when the registry
   * cannot answer. Writes no audit record.
   */
  async reassess(person: PersonRef, sessionId: string): Promise<Reassessment | undefined> {
    const session = this.sessions.get(sessionId);
    if (!session) return { decision: 'deny', reasons: [DenyReason.SESSION_NOT_FOUND], registration: null, source: 'none' };
    try {
      const { registration, source } = await this.registry.lookup({ eventId: person.eventId, personId: person.personId }, { fresh: true });
      return { ...decide(registration, session), session, registration, source };
    } catch (error) {
      if (error instanceof RegistryUnavailableError) return undefined;
      throw error;
    }
  }

  private async record(d: JoinDecision, sessionId: string, eventId: string): Promise<JoinDecision> {
    const r = d.registration;
    await this.audit.append({
      eventId,
      sessionId,
      personId: r?.personId ?? d.identity?.personId,
      email: r?.email ?? d.identity?.email,
      name: r?.name ?? d.identity?.name,
      entity: r?.entity.name,
      role: r?.role,
      decision: d.decision,
      reasons: d.reasons,
      source: d.source,
      ...(d.via && { via: d.via }),
    });
    return d;
  }
}

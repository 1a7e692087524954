import type { AccreditationService } from '../../accreditation/accreditation-service.js';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { RemovalRecord } from '../rooms/removal-record.js';
import { grantsFromDecision } from './grants-from-decision.js';
import { DEV_MODE_STATUS, type JoinClaims, type JoinGrants } from './join-token.js';

export type ResumeOutagePolicy = { kind: 'fail-closed' } | { kind: 'grace'; graceMs: number };

export interface Admitted {
  grants: JoinGrants;
  /** When the registry last gave a definite answer for this person (ms), for the grace window of later resumes. */
  confirmedAt?: number;
}

/**
 * Who a verified token lets in, and with which grants.
 * - A join token: its grants (the accreditation decision was just made by `/api/join`). Someone the
 *   secretariat removed from this room waits in the lobby instead: the secretariat decides again.
 * - A resume token: refused for a removed person; otherwise the accreditation decision is made again from
 *   a fresh registry answer and the grants are rebuilt from it (`lobby` sends them to the lobby, `deny`
 *   refuses, a demotion takes `moderate` away). While the registry cannot answer, the outage policy
 *   decides: fail-closed refuses; grace admits with the token's grants only within the grace window
 *   counted from the last definite answer.
 */
export class ConnectionAdmission {
  constructor(
    private readonly service: AccreditationService,
    private readonly removals: RemovalRecord,
    private readonly outage: ResumeOutagePolicy,
    private readonly now: () => number = Date.now,
  ) {}

  async admit(claims: JoinClaims): Promise<Admitted> {
    const { grants } = claims;
    const removed = await this.removals.isRemoved(grants.room, grants.person);
    if (claims.kind === 'join') {
      const definite = grants.accreditation.source === 'live' || grants.accreditation.source === 'cache';
      return { grants: { ...structuredClone(grants), lobby: grants.lobby || removed }, confirmedAt: definite ? claims.issuedAt * 1000 : undefined };
    }
    if (removed) throw new ProtocolError(ErrorCode.REMOVED, 'the secretariat removed you from this session');
    // Dev-mode grants have no registry behind them.
    if (grants.accreditation.status === DEV_MODE_STATUS) return { grants: structuredClone(grants), confirmedAt: claims.confirmedAt };
    return this.resume(claims);
  }

  private async resume(claims: JoinClaims): Promise<Admitted> {
    const { grants } = claims;
    const answer = await this.service.reassess({ eventId: grants.event, personId: grants.person }, grants.room);
    if (!answer) {
      const since = claims.confirmedAt;
      if (this.outage.kind === 'grace' && since !== undefined && this.now() - since <= this.outage.graceMs) {
        return { grants: structuredClone(grants), confirmedAt: since };
      }
      throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the registry cannot confirm your accreditation now; try again shortly');
    }
    const r = answer.registration;
    await this.service.audit.append({
      eventId: grants.event,
      sessionId: grants.room,
      personId: grants.person,
      name: r?.name ?? grants.name,
      entity: r?.entity.name ?? grants.entity.name,
      role: r?.role ?? grants.role,
      decision: answer.decision,
      reasons: ['RESUME', ...answer.reasons],
      source: answer.source,
    });
    if (answer.decision === 'deny' || !r || !answer.session) {
      throw new ProtocolError(ErrorCode.NOT_ACCREDITED, `not admitted: ${answer.reasons.join(', ')}`);
    }
    const next = grantsFromDecision(r, answer.session, answer, answer.source);
    // A grace answer is not a confirmation: the window keeps counting from the last definite one.
    return { grants: next, confirmedAt: answer.source === 'grace' ? claims.confirmedAt : this.now() };
  }
}

import type { AccreditationService } from '../../accreditation/accreditation-service.js';
import type { AuditSource } from '../../accreditation/audit-log.js';
import { CloseReason } from '../../protocol/errors.js';
import { grantsFromDecision } from '../auth/grants-from-decision.js';
import { DEV_MODE_STATUS, type JoinGrants } from '../auth/join-token.js';
import type { Logger } from '../logger.js';
import type { RoomRegistry } from '../rooms/room-registry.js';

const REASON_TEXT: Record<string, string> = {
  REGISTRATION_REVOKED: 'your accreditation was revoked',
  REGISTRATION_WITHDRAWN: 'your registration was withdrawn',
  REGISTRATION_REJECTED: 'your registration was rejected',
  REGISTRATION_PENDING: 'your registration is no longer approved',
  NOT_REGISTERED: 'you are no longer registered for this event',
  NOT_REGISTERED_FOR_SESSION: 'you are no longer registered for this session',
  ROLE_NOT_ADMITTED: 'your role is no longer admitted to this session',
  ENTITY_NOT_ADMITTED: 'your entity is no longer admitted to this session',
  SESSION_CLOSED: 'the session is closed',
  SESSION_NOT_FOUND: 'the session no longer exists',
};

type GrantChange = Pick<JoinGrants, 'role' | 'publish' | 'subscribe' | 'moderate'>;

/**
 * Live revalidation: re-checks admitted people (and lobby waiters) when the registry says something changed
 * (admin change, CRM webhook) and periodically. Whoever is no longer accredited is removed and told why;
 * whoever is still admitted gets the grants the new answer gives (a demotion takes `moderate` away at once).
 */
export class RevocationMonitor {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  /** Tells the other nodes that a person changed here (set by the composition root: StoreChanges). */
  announce: ((eventId: string, personId: string) => void) | undefined;

  constructor(
    private readonly service: AccreditationService,
    private readonly rooms: RoomRegistry,
    private readonly log: Logger,
  ) {}

  start(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => void this.checkAll(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * One person of one event changed in the registry. A change learnt here is announced to the other nodes;
   * one they announced (`fromOtherNode`) is not announced again.
   */
  async personChanged(eventId: string, personId: string, source: AuditSource, fromOtherNode = false): Promise<number> {
    this.service.registry.invalidate(eventId, { personId });
    if (!fromOtherNode) this.announce?.(eventId, personId);
    return this.recheck((g) => g.event === eventId && g.person === personId, source);
  }

  /** A session's rules changed (booths, admitted roles...): everyone in its room here, against them. */
  sessionChanged(sessionId: string): Promise<number> {
    return this.recheck((g) => g.room === sessionId, 'secretariat');
  }

  /** Everyone present, against fresh registry answers (coalesced per person). */
  checkAll(): Promise<void> {
    this.sweeping ??= this.recheck(() => true, 'revalidation')
      .then(() => undefined)
      .catch((error: unknown) => this.log.error({ err: error }, 'revalidation failed'))
      .finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async recheck(predicate: (g: JoinGrants) => boolean, source: AuditSource): Promise<number> {
    const match = (g: JoinGrants): boolean => g.accreditation.status !== DEV_MODE_STATUS && predicate(g);
    const targets: Array<{ grants: JoinGrants; remove: (message: string) => void; change: (next: GrantChange) => void }> = [];
    for (const room of this.rooms.all) {
      for (const p of room.participants.values()) {
        if (match(p.grants)) {
          targets.push({
            grants: p.grants,
            remove: (m) => room.remove(p, CloseReason.ACCREDITATION_REVOKED, m),
            change: (next) => {
              const before = new Set(p.grants.publish.booths);
              room.changeGrants(p, next);
              // A booth given now (the secretariat assigned them) takes them in, as a live assignment does.
              for (const language of next.publish.booths) if (!before.has(language) && room.interpretation.booths.has(language)) room.interpretation.assign(p, language);
            },
          });
        }
      }
      for (const w of room.lobby.values()) {
        // A waiter has no media yet: the new grants apply once admitted.
        if (match(w.grants)) targets.push({ grants: w.grants, remove: (m) => w.remove(CloseReason.ACCREDITATION_REVOKED, m), change: (next) => Object.assign(w.grants, next) });
      }
    }
    let removed = 0;
    await Promise.all(
      targets.map(async ({ grants, remove, change }) => {
        const decision = await this.service.reassess({ eventId: grants.event, personId: grants.person }, grants.room);
        if (!decision) return;
        if (decision.decision !== 'deny' && decision.registration && decision.session) {
          const next = grantsFromDecision(decision.registration, decision.session, decision, decision.source);
          // While the role stays, booths are only added here: those the secretariat assigned live are unknown
          // to the registry (a booth taken away there applies from the next join or resume). A changed role
          // (an interpreter demoted) keeps only the booths the new decision gives.
          const booths = next.role === grants.role ? [...new Set([...next.publish.booths, ...grants.publish.booths])] : next.publish.booths;
          change({ role: next.role, publish: { ...next.publish, booths }, subscribe: next.subscribe, moderate: next.moderate });
          return;
        }
        if (decision.decision !== 'deny') return;
        const message = `Removed: ${decision.reasons.map((r) => REASON_TEXT[r] ?? r).join('; ')}.`;
        remove(message);
        removed += 1;
        this.log.info({ person: grants.person, room: grants.room, reasons: decision.reasons }, 'accreditation revoked; participant removed');
        await this.service.audit.append({
          eventId: grants.event,
          sessionId: grants.room,
          personId: grants.person,
          name: grants.name,
          role: grants.role,
          entity: grants.entity.name,
          decision: 'revoke',
          reasons: decision.reasons,
          source,
        });
      }),
    );
    return removed;
  }
}

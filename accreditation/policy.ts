import { conductingRoles, DenyReason, type PolicyDecision, type Registration, type SessionRules } from './model.js';

const STATUS_REASON = {
  pending: DenyReason.REGISTRATION_PENDING,
  rejected: DenyReason.REGISTRATION_REJECTED,
  withdrawn: DenyReason.REGISTRATION_WITHDRAWN,
  revoked: DenyReason.REGISTRATION_REVOKED,
} as const;

const STATUS_DENIAL = {
  scheduled: DenyReason.SESSION_NOT_OPEN,
  suspended: DenyReason.SESSION_SUSPENDED,
  closed: DenyReason.SESSION_CLOSED,
} as const;

/**
 * Maps a registration to a decision for one session. Pure: the same inputs give the same decision, so
 * revalidation can re-run it at any time.
 */
export function decide(registration: Registration | null, session: SessionRules): PolicyDecision {
  if (!registration) return deny(DenyReason.NOT_REGISTERED);
  if (registration.eventId !== session.eventId) return deny(DenyReason.NOT_REGISTERED);
  if (registration.status !== 'approved') return deny(STATUS_REASON[registration.status]);

  const conducting = conductingRoles.includes(registration.role);
  if (!conducting) {
    const reasons: DenyReason[] = [];
    if (session.status !== 'open') reasons.push(STATUS_DENIAL[session.status]);
    if (session.locked) reasons.push(DenyReason.SESSION_LOCKED);
    if (registration.sessions && !registration.sessions.includes(session.sessionId)) reasons.push(DenyReason.NOT_REGISTERED_FOR_SESSION);
    if (session.roles && !session.roles.includes(registration.role)) reasons.push(DenyReason.ROLE_NOT_ADMITTED);
    if (session.entityTypes && !session.entityTypes.includes(registration.entity.type)) reasons.push(DenyReason.ENTITY_NOT_ADMITTED);
    if (reasons.length > 0) return { decision: 'deny', reasons };
  }

  // Booths: the targets of the interpreter's language pairs, plus any the secretariat assigned, that the session has.
  const assigned = session.interpreters.filter((a) => a.personId === registration.personId).map((a) => a.language);
  const pairs = registration.role === 'interpreter' ? (registration.languages ?? []).map((p) => p.to) : [];
  const booths = [...new Set([...pairs, ...assigned])].filter((l) => session.languages.includes(l) || session.signLanguages.includes(l));
  const grants = {
    publishFloor: session.speakerRoles.includes(registration.role),
    booths,
    captions: registration.role === 'captioner' || session.captioners.includes(registration.personId),
    subscribe: true,
    moderate: conducting,
  };
  // Interpreters are staff of the session: the lobby is for delegations and observers.
  if (session.lobby && !conducting && registration.role !== 'interpreter') {
    return { decision: 'lobby', reasons: ['LOBBY_REQUIRED'], grants };
  }
  return { decision: 'allow', reasons: ['ADMITTED'], grants };
}

/** Why a publication into a channel is refused: no floor grant, not one's booth, or the wrong media for it. */
export type PublishRefusal = 'NO_FLOOR_GRANT' | 'NOT_YOUR_BOOTH' | 'WRONG_MEDIA';

/**
 * Whether someone with these grants may publish `kind` into `channel`: the floor needs the floor grant; a
 * booth needs that booth among the grants, and carries audio (a spoken language) or video (a sign
 * language, the signer's camera), never the other. Null: allowed.
 */
export function publishRefusal(
  grants: { floor: boolean; booths: readonly string[] },
  channel: string,
  kind: 'audio' | 'video',
  signLanguages: readonly string[],
): PublishRefusal | null {
  if (channel === 'floor') return grants.floor ? null : 'NO_FLOOR_GRANT';
  if (!grants.booths.includes(channel)) return 'NOT_YOUR_BOOTH';
  return (kind === 'video') === signLanguages.includes(channel) ? null : 'WRONG_MEDIA';
}

function deny(reason: DenyReason): PolicyDecision {
  return { decision: 'deny', reasons: [reason] };
}

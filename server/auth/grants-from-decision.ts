import type { PolicyDecision, Registration, SessionRules } from '../../accreditation/model.js';
import type { JoinGrants } from './join-token.js';

/**
 * The grants an accreditation decision gives one person in one session: the same mapping for a join
 * token, a resume and a live change (revalidation). Call it only for `allow` or `lobby` decisions.
 */
export function grantsFromDecision(registration: Registration, session: SessionRules, decision: PolicyDecision, source: string): JoinGrants {
  const g = decision.grants ?? { publishFloor: false, booths: [], captions: false, subscribe: false, moderate: false };
  return {
    room: session.sessionId,
    event: session.eventId,
    person: registration.personId,
    name: registration.name,
    role: registration.role,
    entity: { name: registration.entity.name, type: registration.entity.type, countryCode: registration.entity.countryCode },
    publish: { floor: g.publishFloor, booths: [...g.booths], captions: g.captions },
    subscribe: g.subscribe,
    moderate: g.moderate,
    lobby: decision.decision === 'lobby',
    accreditation: { status: registration.status, source },
  };
}

/**
 * What a phone caller may do (server/dial-in): speak on the floor and hear the server's mix. Booths and
 * captions need the web pages, and they receive no media of their own (subscribe: false).
 */
export function phoneGrants<G extends Pick<JoinGrants, 'publish' | 'subscribe'>>(grants: G): G {
  return { ...grants, publish: { floor: grants.publish.floor, booths: [], captions: false }, subscribe: false };
}

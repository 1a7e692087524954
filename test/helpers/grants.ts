import type { JoinGrants } from '../../server/auth/join-token.js';

/** Join grants for tests that issue tokens directly (signed with the server's real secret). */
export function grants(overrides: Partial<JoinGrants> = {}): JoinGrants {
  return {
    room: 'room-1',
    event: 'event-1',
    person: 'person-1',
    name: 'Test Person',
    role: 'delegate',
    entity: { name: 'Kenya', type: 'member_state', countryCode: 'KE' },
    publish: { floor: true, booths: [], captions: false },
    subscribe: true,
    moderate: false,
    lobby: false,
    accreditation: { status: 'approved', source: 'live' },
    ...overrides,
  };
}

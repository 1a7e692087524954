import { describe, expect, it } from 'vitest';
import { registration, sessionRules, type RegistrationInput, type SessionRulesInput } from '../../accreditation/model.js';
import { decide } from '../../accreditation/policy.js';

const session = (o: Partial<SessionRulesInput> = {}) =>
  sessionRules.parse({ sessionId: 's1', eventId: 'e1', title: 'S', open: true, lobby: false, languages: ['en', 'fr', 'es'], ...o });
const person = (o: Partial<RegistrationInput> = {}) =>
  registration.parse({
    personId: 'p1',
    eventId: 'e1',
    name: 'Amina',
    email: 'Amina@Example.org',
    entity: { name: 'Kenya', type: 'member_state', countryCode: 'KE' },
    role: 'delegate',
    status: 'approved',
    ...o,
  });

describe('accreditation policy', () => {
  it('admits an approved delegate to an open session with the floor and subscription', () => {
    expect(decide(person(), session())).toEqual({
      decision: 'allow',
      reasons: ['ADMITTED'],
      grants: { publishFloor: true, booths: [], captions: false, subscribe: true, moderate: false },
    });
  });

  it('denies the unregistered, another event, and every non-approved status with its own reason', () => {
    expect(decide(null, session()).reasons).toEqual(['NOT_REGISTERED']);
    expect(decide(person({ eventId: 'other' }), session()).reasons).toEqual(['NOT_REGISTERED']);
    for (const [status, reason] of [
      ['pending', 'REGISTRATION_PENDING'],
      ['rejected', 'REGISTRATION_REJECTED'],
      ['withdrawn', 'REGISTRATION_WITHDRAWN'],
      ['revoked', 'REGISTRATION_REVOKED'],
    ] as const) {
      const d = decide(person({ status }), session());
      expect(d).toEqual({ decision: 'deny', reasons: [reason] });
    }
  });

  it('applies session rules: closed, entity types, roles, per-person session lists', () => {
    expect(decide(person(), session({ open: false })).reasons).toEqual(['SESSION_CLOSED']);
    const msOnly = session({ entityTypes: ['member_state'] });
    expect(decide(person(), msOnly).decision).toBe('allow');
    expect(decide(person({ entity: { name: 'Acme', type: 'sector_member' } }), msOnly).reasons).toEqual(['ENTITY_NOT_ADMITTED']);
    expect(decide(person({ role: 'observer' }), session({ roles: ['delegate', 'head_of_delegation'] })).reasons).toEqual(['ROLE_NOT_ADMITTED']);
    expect(decide(person({ sessions: ['s2'] }), session()).reasons).toEqual(['NOT_REGISTERED_FOR_SESSION']);
    expect(decide(person({ sessions: ['s1'] }), session()).decision).toBe('allow');
  });

  it('always admits the secretariat and the chair, with moderation, even to closed sessions, never via the lobby', () => {
    for (const role of ['secretariat', 'chair'] as const) {
      const d = decide(person({ role, entity: { name: 'Secretariat', type: 'secretariat' } }), session({ open: false, lobby: true, entityTypes: ['member_state'] }));
      expect(d.decision).toBe('allow');
      expect(d.grants?.moderate).toBe(true);
    }
  });

  it('sends delegations and observers to the lobby when the session has one, but not interpreters', () => {
    expect(decide(person(), session({ lobby: true }))).toMatchObject({ decision: 'lobby', reasons: ['LOBBY_REQUIRED'] });
    expect(decide(person({ role: 'interpreter', languages: [{ from: 'en', to: 'fr' }] }), session({ lobby: true })).decision).toBe('allow');
  });

  it('lets observers listen only, and interpreters publish only into the booths of their target languages that the session has', () => {
    expect(decide(person({ role: 'observer' }), session()).grants).toEqual({ publishFloor: false, booths: [], captions: false, subscribe: true, moderate: false });
    expect(decide(person({ role: 'captioner' }), session()).grants).toMatchObject({ publishFloor: false, captions: true });
    // The secretariat assigns booths and captioning per session, beyond what the registration says.
    const assigned = session({ interpreters: [{ personId: 'p1', language: 'es' }], captioners: ['p1'] });
    expect(decide(person({ role: 'interpreter', languages: [{ from: 'en', to: 'fr' }] }), assigned).grants).toMatchObject({ booths: ['fr', 'es'], captions: true });
    const interpreter = person({ role: 'interpreter', languages: [{ from: 'en', to: 'fr' }, { from: 'fr', to: 'ar' }, { from: 'es', to: 'fr' }] });
    expect(decide(interpreter, session()).grants).toEqual({ publishFloor: false, booths: ['fr'], captions: false, subscribe: true, moderate: false });
  });
});

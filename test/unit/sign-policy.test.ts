import { describe, expect, it } from 'vitest';
import { registration, sessionRules, type RegistrationInput, type SessionRulesInput } from '../../accreditation/model.js';
import { decide, publishRefusal } from '../../accreditation/policy.js';

// Sign-language channels in the accreditation policy: a signer assigned to International Sign gets that
// booth, and may publish video into it and nothing else (no audio into it, no video into a spoken booth or
// the floor).

const session = (o: Partial<SessionRulesInput> = {}) =>
  sessionRules.parse({ sessionId: 's1', eventId: 'e1', title: 'S', open: true, lobby: false, languages: ['en', 'fr'], signLanguages: ['ils'], ...o });
const interpreter = (o: Partial<RegistrationInput> = {}) =>
  registration.parse({
    personId: 'signer-1',
    eventId: 'e1',
    name: 'Noor',
    email: 'noor@example.org',
    entity: { name: 'Secretariat interpretation service', type: 'secretariat' },
    role: 'interpreter',
    status: 'approved',
    ...o,
  });

describe('sign-language channels in the policy', () => {
  it('a session declares them next to its languages; a code must look like one', () => {
    expect(session().signLanguages).toEqual(['ils']);
    expect(sessionRules.parse({ sessionId: 's', eventId: 'e', title: 'S', lobby: false }).signLanguages).toEqual([]);
    expect(() => session({ signLanguages: ['International Sign'] })).toThrow();
  });

  it('an interpreter assigned to a sign channel gets that booth, not the floor', () => {
    const grants = decide(interpreter(), session({ interpreters: [{ personId: 'signer-1', language: 'ils' }] })).grants!;
    expect(grants.booths).toEqual(['ils']);
    expect(grants.publishFloor).toBe(false);
    // A sign channel the session does not have is not granted.
    expect(decide(interpreter(), session({ signLanguages: [], interpreters: [{ personId: 'signer-1', language: 'ils' }] })).grants!.booths).toEqual([]);
  });

  it('the signer may publish video into the sign channel only', () => {
    const grants = decide(interpreter({ languages: [{ from: 'en', to: 'fr' }] }), session({ interpreters: [{ personId: 'signer-1', language: 'ils' }] })).grants!;
    expect(grants.booths.sort()).toEqual(['fr', 'ils']);
    const publish = { floor: grants.publishFloor, booths: grants.booths };
    const signs = ['ils'];
    expect(publishRefusal(publish, 'ils', 'video', signs)).toBeNull();
    expect(publishRefusal(publish, 'ils', 'audio', signs)).toBe('WRONG_MEDIA');
    // Their spoken booth takes their microphone, never their camera.
    expect(publishRefusal(publish, 'fr', 'audio', signs)).toBeNull();
    expect(publishRefusal(publish, 'fr', 'video', signs)).toBe('WRONG_MEDIA');
    expect(publishRefusal(publish, 'floor', 'video', signs)).toBe('NO_FLOOR_GRANT');
    expect(publishRefusal(publish, 'ase', 'video', ['ils', 'ase'])).toBe('NOT_YOUR_BOOTH');
  });

  it('a delegate may not publish into a sign channel', () => {
    expect(publishRefusal({ floor: true, booths: [] }, 'ils', 'video', ['ils'])).toBe('NOT_YOUR_BOOTH');
    expect(publishRefusal({ floor: true, booths: [] }, 'floor', 'video', ['ils'])).toBeNull();
  });
});

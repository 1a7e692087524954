// The secretariat administrator a first start creates when the demo is off: one person of one event, whose
// access code is printed once and can be reset by `npm run admin:reset-code` (server/cli/reset-admin-code.ts).
// Their registration is the one row of `registrations` marked `administrator`.
import { randomBytes } from 'node:crypto';
import type { RegistrationInput } from './model.js';

export const ADMIN_EVENT_ID = 'main';
export const ADMIN_EVENT_TITLE = 'Main event';
export const ADMIN_PERSON_ID = 'administrator';

/** A random access code, easy to type: five groups of four from an alphabet without look-alikes (~100 bits). */
export function newAccessCode(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(20);
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length]);
  return [0, 4, 8, 12, 16].map((i) => chars.slice(i, i + 4).join('')).join('-');
}

export function administratorRegistration(email: string): RegistrationInput {
  return {
    eventId: ADMIN_EVENT_ID,
    personId: ADMIN_PERSON_ID,
    name: 'Administrator',
    email,
    entity: { name: 'Secretariat', type: 'secretariat' },
    role: 'secretariat',
    status: 'approved',
  };
}

import type { RegistrationInput, SessionRulesInput } from './model.js';
import type { RegistrySeed } from './registry/embedded-registry.js';

/**
 * The demo event a new installation starts with when PLENUM_DEMO=true, so a newcomer can try each role at
 * once. Every demo person signs in with their e-mail and the public access code DEMO_ACCESS_CODE, which is
 * why it is never seeded (nor accepted) otherwise.
 */
export const DEMO_EVENT_ID = 'demo-council-2026';
export const DEMO_ACCESS_CODE = 'plenum-demo';

const people: Array<Omit<RegistrationInput, 'eventId'>> = [
  { personId: 'p-ke-1', name: 'Amina Odhiambo', email: 'amina.odhiambo@demo.ke', entity: { name: 'Kenya', type: 'member_state', countryCode: 'KE' }, role: 'head_of_delegation', status: 'approved' },
  { personId: 'p-ke-2', name: 'Brian Kamau', email: 'brian.kamau@demo.ke', entity: { name: 'Kenya', type: 'member_state', countryCode: 'KE' }, role: 'delegate', status: 'approved' },
  { personId: 'p-br-1', name: 'Beatriz Souza', email: 'beatriz.souza@demo.br', entity: { name: 'Brazil', type: 'member_state', countryCode: 'BR' }, role: 'delegate', status: 'approved' },
  { personId: 'p-fr-1', name: 'Camille Durand', email: 'camille.durand@demo.fr', entity: { name: 'France', type: 'member_state', countryCode: 'FR' }, role: 'delegate', status: 'approved' },
  { personId: 'p-jp-1', name: 'Haruto Sato', email: 'haruto.sato@demo.jp', entity: { name: 'Japan', type: 'member_state', countryCode: 'JP' }, role: 'delegate', status: 'approved' },
  { personId: 'p-in-1', name: 'Priya Nair', email: 'priya.nair@demo.in', entity: { name: 'India', type: 'member_state', countryCode: 'IN' }, role: 'delegate', status: 'pending' },
  { personId: 'p-sm-1', name: 'Lena Vogel', email: 'lena.vogel@acme-telecom.example', entity: { name: 'Acme Telecom', type: 'sector_member', countryCode: 'DE' }, role: 'delegate', status: 'approved' },
  { personId: 'p-ngo-1', name: 'Omar Haddad', email: 'omar.haddad@openaccess.example', entity: { name: 'Open Access Network', type: 'non_governmental_organization' }, role: 'observer', status: 'approved' },
  { personId: 'p-int-fr-1', name: 'Élodie Martin', email: 'elodie.martin@interpreters.example', entity: { name: 'Secretariat interpretation service', type: 'secretariat' }, role: 'interpreter', languages: [{ from: 'en', to: 'fr' }, { from: 'es', to: 'fr' }], status: 'approved' },
  { personId: 'p-int-fr-2', name: 'Julien Petit', email: 'julien.petit@interpreters.example', entity: { name: 'Secretariat interpretation service', type: 'secretariat' }, role: 'interpreter', languages: [{ from: 'en', to: 'fr' }], status: 'approved' },
  { personId: 'p-int-es-1', name: 'Lucía Fernández', email: 'lucia.fernandez@interpreters.example', entity: { name: 'Secretariat interpretation service', type: 'secretariat' }, role: 'interpreter', languages: [{ from: 'en', to: 'es' }, { from: 'fr', to: 'es' }], status: 'approved' },
  { personId: 'p-int-en-1', name: 'Grace Taylor', email: 'grace.taylor@interpreters.example', entity: { name: 'Secretariat interpretation service', type: 'secretariat' }, role: 'interpreter', languages: [{ from: 'fr', to: 'en' }, { from: 'es', to: 'en' }], status: 'approved' },
  { personId: 'p-int-ar-1', name: 'Yasmin Khalil', email: 'yasmin.khalil@interpreters.example', entity: { name: 'Secretariat interpretation service', type: 'secretariat' }, role: 'interpreter', languages: [{ from: 'en', to: 'ar' }, { from: 'fr', to: 'ar' }], status: 'approved' },
  { personId: 'p-sec-1', name: 'Sofia Rossi', email: 'sofia.rossi@secretariat.example', entity: { name: 'Secretariat', type: 'secretariat' }, role: 'secretariat', status: 'approved' },
  { personId: 'p-chair-1', name: 'Kwame Mensah', email: 'kwame.mensah@demo.gh', entity: { name: 'Ghana', type: 'member_state', countryCode: 'GH' }, role: 'chair', status: 'approved' },
  { personId: 'p-cap-1', name: 'Noor Rahman', email: 'noor.rahman@captions.example', entity: { name: 'Secretariat captioning', type: 'secretariat' }, role: 'captioner', status: 'approved' },
];

export function demoRegistry(): RegistrySeed {
  return {
    registrations: people.map((p) => ({ ...p, eventId: DEMO_EVENT_ID })),
    accessCodes: people.map((p) => ({ eventId: DEMO_EVENT_ID, personId: p.personId, code: DEMO_ACCESS_CODE })),
  };
}

export function demoSessions(): { events: Array<{ eventId: string; title: string }>; sessions: SessionRulesInput[] } {
  return {
    events: [{ eventId: DEMO_EVENT_ID, title: 'Council Working Group — demo event' }],
    sessions: [
      { sessionId: 'demo-plenary', eventId: DEMO_EVENT_ID, title: 'Plenary — opening', open: true, lobby: false, languages: ['en', 'fr', 'es', 'ar'] },
      {
        sessionId: 'demo-member-states',
        eventId: DEMO_EVENT_ID,
        title: 'Closed consultations — Member States only',
        open: true,
        lobby: false,
        entityTypes: ['member_state'],
        languages: ['en', 'fr'],
      },
      {
        sessionId: 'demo-council',
        eventId: DEMO_EVENT_ID,
        title: 'Council — formal sitting (moderated floor)',
        status: 'open',
        startsAt: new Date().toISOString(),
        lobby: false,
        floorControl: true,
        speakingTimeLimitSec: 180,
        languages: ['en', 'fr'],
      },
      { sessionId: 'demo-with-lobby', eventId: DEMO_EVENT_ID, title: 'Drafting group (lobby)', open: true, lobby: true, languages: [] },
    ],
  };
}

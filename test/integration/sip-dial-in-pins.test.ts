// Personal dial-in PINs (issue 15, "Accredited like everyone"): the secretariat issues, replaces and revokes
// them over the real HTTP API with real signed identity tokens; a caller's PIN then goes through
// AccreditationService.decidePhoneJoin (what the IVR calls) on the same server: the same decide() and audit as
// a web join, the wrong-PIN limit per session, and only a keyed hash in the database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../accreditation/audit-log.js';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import { DialInNumberInUseError } from '../../accreditation/session-directory.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { post, signInAs } from '../helpers/accreditation-client.js';
import { httpRequest, type HttpAnswer } from '../helpers/http-client.js';
import { startTestServer } from '../helpers/test-server.js';

const ADMIN_KEY = 'dial-in-admin-api-key-0123456789abcdef';
const MAX_FAILURES = 4;
const EVENT_B = 'event-b-dial-in';
// Sessions of this test, each with its own count of wrong PINs.
const MAIN = 'dial-main';
const LOBBY = 'dial-lobby';
const OTHER = 'dial-other';
const LIMIT = 'dial-limit';
const PARALLEL = 'dial-parallel';
const B_SESSION = 'dial-b-room';

let server: MeetingServer;
let base: string;
const tokens: Record<string, string> = {};
const apiKey = { 'x-api-key': ADMIN_KEY };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const codeOf = (res: HttpAnswer) => (res.json?.error as { code?: string } | undefined)?.code;
const pinUrl = (personId: string, eventId = DEMO_EVENT_ID) => `${base}/api/admin/events/${eventId}/people/${personId}/dial-in-pin`;
const listUrl = (eventId = DEMO_EVENT_ID) => `${base}/api/admin/events/${eventId}/dial-in-pins`;

async function issue(personId: string, headers: Record<string, string> = bearer(tokens.sofia!), eventId = DEMO_EVENT_ID): Promise<string> {
  const res = await httpRequest('POST', pinUrl(personId, eventId), undefined, headers);
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json!.pin as string;
}

const phoneJoin = (pin: string, sessionId: string) => server.accreditation.service.decidePhoneJoin(pin, sessionId);

async function auditOf(filter: { sessionId?: string; personId?: string; eventId?: string }): Promise<AuditRecord[]> {
  return (await server.accreditation.service.audit.query({ ...filter, limit: 1000 })).records;
}

async function putSession(sessionId: string, rules: Record<string, unknown>, eventId = DEMO_EVENT_ID): Promise<HttpAnswer> {
  return httpRequest('PUT', `${base}/api/admin/events/${eventId}/sessions/${sessionId}`, rules, apiKey);
}

beforeAll(async () => {
  server = await startTestServer({
    PLENUM_DEV_MODE: 'false',
    PLENUM_ADMIN_API_KEY: ADMIN_KEY,
    PLENUM_REVALIDATE_INTERVAL_SECONDS: '0',
    PLENUM_DIAL_IN_PIN_MAX_FAILURES: String(MAX_FAILURES),
  });
  base = server.url;
  const people = { sofia: 'sofia.rossi@secretariat.example', brian: 'brian.kamau@demo.ke', elodie: 'elodie.martin@interpreters.example' };
  for (const [who, email] of Object.entries(people)) tokens[who] = await signInAs(base, email);
  const sessions: Array<[string, Record<string, unknown>]> = [
    [MAIN, { title: 'Dial-in main', lobby: false, languages: ['en', 'fr'], dialIn: { number: '4101' } }],
    [LOBBY, { title: 'Dial-in lobby', lobby: true, dialIn: { number: '4102' } }],
    [OTHER, { title: 'Dial-in other', lobby: false }],
    [LIMIT, { title: 'Dial-in limit', lobby: false }],
    [PARALLEL, { title: 'Dial-in parallel', lobby: false }],
  ];
  for (const [id, rules] of sessions) expect((await putSession(id, rules)).status).toBe(200);
  // Event B: its own session, secretariat and delegate.
  expect((await putSession(B_SESSION, { title: 'B room', lobby: false }, EVENT_B)).status).toBe(200);
  const reg = (name: string, email: string, role: string, entity: object) => ({ name, email, entity, role, status: 'approved', accessCode: 'event-b-code-123' });
  expect((await httpRequest('PUT', `${base}/api/admin/events/${EVENT_B}/registrations/b-sec`, reg('B Secretariat', 'sec@event-b-dial.example', 'secretariat', { name: 'Secretariat B', type: 'secretariat' }), apiKey)).status).toBe(200);
  expect((await httpRequest('PUT', `${base}/api/admin/events/${EVENT_B}/registrations/b-del`, reg('B Delegate', 'del@event-b-dial.example', 'delegate', { name: 'Chile', type: 'member_state' }), apiKey)).status).toBe(200);
  const signedIn = await post(`${base}/api/auth/sign-in`, { email: 'sec@event-b-dial.example', accessCode: 'event-b-code-123', eventId: EVENT_B });
  expect(signedIn.status).toBe(200);
  tokens.secB = signedIn.body.identityToken as string;
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe('dial-in PINs: issue and join', () => {
  it('issues a PIN once (201); the caller keying it is admitted as that person, with entity, role and grants, audited as a phone join', async () => {
    const res = await httpRequest('POST', pinUrl('p-ke-1'), undefined, bearer(tokens.sofia!));
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toContain('no-store');
    const pin = res.json!.pin as string;
    expect(pin).toMatch(/^\d{8}$/);
    expect(res.json).toMatchObject({ eventId: DEMO_EVENT_ID, personId: 'p-ke-1', issuedBy: 'p-sec-1' });

    // Afterwards: that one exists and since when, never the PIN.
    const status = await httpRequest('GET', pinUrl('p-ke-1'), undefined, bearer(tokens.sofia!));
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({ eventId: DEMO_EVENT_ID, personId: 'p-ke-1', issued: true, issuedBy: 'p-sec-1', issuedAt: res.json!.issuedAt });
    expect(status.text).not.toContain(pin);
    const list = await httpRequest('GET', listUrl(), undefined, apiKey);
    expect(list.status).toBe(200);
    expect((list.json!.pins as Array<{ personId: string }>).map((p) => p.personId)).toContain('p-ke-1');
    expect(list.text).not.toContain(pin);

    const decision = await phoneJoin(pin, MAIN);
    expect(decision).toMatchObject({ decision: 'allow', reasons: ['ADMITTED'], via: 'dial-in' });
    expect(decision.registration).toMatchObject({ personId: 'p-ke-1', name: 'Amina Odhiambo', role: 'head_of_delegation', entity: { name: 'Kenya', type: 'member_state' } });
    expect(decision.grants).toMatchObject({ publishFloor: true, subscribe: true, moderate: false, booths: [] });
    expect(decision.session?.sessionId).toBe(MAIN);

    const [joined] = await auditOf({ sessionId: MAIN, personId: 'p-ke-1' });
    expect(joined).toMatchObject({ eventId: DEMO_EVENT_ID, decision: 'allow', via: 'dial-in', entity: 'Kenya', role: 'head_of_delegation', name: 'Amina Odhiambo' });
    const issued = await auditOf({ personId: 'p-ke-1' });
    expect(issued.find((r) => r.decision === 'dial-in-pin-issue')).toMatchObject({ eventId: DEMO_EVENT_ID, sessionId: '', actor: 'p-sec-1', source: 'secretariat' });
    // The PIN is nowhere in the trail.
    expect(JSON.stringify(await auditOf({ eventId: DEMO_EVENT_ID }))).not.toContain(pin);
  });

  it('applies the same decide(): a lobby session holds a delegate, a pending registration is denied, a revoked one too', async () => {
    const brian = await issue('p-ke-2', apiKey);
    expect(await phoneJoin(brian, LOBBY)).toMatchObject({ decision: 'lobby', reasons: ['LOBBY_REQUIRED'], via: 'dial-in' });
    const priya = await issue('p-in-1');
    expect(await phoneJoin(priya, MAIN)).toMatchObject({ decision: 'deny', reasons: ['REGISTRATION_PENDING'] });
    const [pending] = await auditOf({ sessionId: MAIN, personId: 'p-in-1' });
    expect(pending).toMatchObject({ decision: 'deny', reasons: ['REGISTRATION_PENDING'], via: 'dial-in' });

    const beatriz = await issue('p-br-1');
    expect((await phoneJoin(beatriz, MAIN)).decision).toBe('allow');
    const revoked = await httpRequest('POST', `${base}/api/admin/events/${DEMO_EVENT_ID}/registrations/p-br-1/revoke`, { status: 'revoked' }, apiKey);
    expect(revoked.status).toBe(200);
    expect(await phoneJoin(beatriz, MAIN)).toMatchObject({ decision: 'deny', reasons: ['REGISTRATION_REVOKED'], via: 'dial-in' });
  });

  it('denies a replaced PIN and a revoked one (PIN_INVALID, audited without a person); revoking twice is 404', async () => {
    const first = await issue('p-fr-1');
    const second = await issue('p-fr-1');
    expect(second).not.toBe(first);
    const before = (await auditOf({ sessionId: MAIN })).length;
    const replaced = await phoneJoin(first, MAIN);
    expect(replaced).toMatchObject({ decision: 'deny', reasons: ['PIN_INVALID'], via: 'dial-in' });
    expect(replaced.registration).toBeUndefined();
    const [wrong, ...older] = await auditOf({ sessionId: MAIN });
    expect(older.length).toBe(before);
    expect(wrong).toMatchObject({ eventId: DEMO_EVENT_ID, decision: 'deny', reasons: ['PIN_INVALID'], via: 'dial-in', source: 'none' });
    expect(wrong!.personId).toBeUndefined();
    expect((await phoneJoin(second, MAIN)).registration?.personId).toBe('p-fr-1');

    const revoked = await httpRequest('DELETE', pinUrl('p-fr-1'), undefined, bearer(tokens.sofia!));
    expect(revoked.status).toBe(204);
    expect((await httpRequest('GET', pinUrl('p-fr-1'), undefined, apiKey)).json).toMatchObject({ personId: 'p-fr-1', issued: false });
    expect(await phoneJoin(second, MAIN)).toMatchObject({ decision: 'deny', reasons: ['PIN_INVALID'] });
    const again = await httpRequest('DELETE', pinUrl('p-fr-1'), undefined, bearer(tokens.sofia!));
    expect(again.status).toBe(404);
    expect(codeOf(again)).toBe('NOT_FOUND');
    expect((await auditOf({ personId: 'p-fr-1' })).filter((r) => r.decision === 'dial-in-pin-revoke')).toHaveLength(1);
  });

  it("denies a PIN of another event's person (it is good only in its own event)", async () => {
    const pinB = await issue('b-del', bearer(tokens.secB!), EVENT_B);
    expect(await phoneJoin(pinB, OTHER)).toMatchObject({ decision: 'deny', reasons: ['PIN_INVALID'] });
    expect(await phoneJoin(pinB, B_SESSION)).toMatchObject({ decision: 'allow', registration: { personId: 'b-del', entity: { name: 'Chile' } } });
  });

  it('keeps only a keyed hash in the database', async () => {
    const pin = await issue('p-jp-1');
    const rows = await server.store.db.selectFrom('dial_in_pins').selectAll().where('event_id', '=', DEMO_EVENT_ID).where('person_id', '=', 'p-jp-1').execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.pin_hash).toMatch(/^[0-9a-f]{64}$/);
    const all = JSON.stringify(await server.store.db.selectFrom('dial_in_pins').selectAll().execute());
    expect(all).not.toContain(pin);
  });
});

describe('dial-in PINs: sessions by number', () => {
  it('finds a session by its dial-in number, and gives a number to one session only', async () => {
    const sessions = server.accreditation.service.sessions;
    expect(sessions.byDialInNumber('4101')?.sessionId).toBe(MAIN);
    expect(sessions.byDialInNumber('4102')?.sessionId).toBe(LOBBY);
    expect(sessions.byDialInNumber('9999')).toBeUndefined();
    await expect(sessions.upsert({ sessionId: OTHER, eventId: DEMO_EVENT_ID, title: 'Dial-in other', lobby: false, dialIn: { number: '4101' } })).rejects.toBeInstanceOf(DialInNumberInUseError);
    expect(sessions.get(OTHER)?.dialIn).toBeUndefined();
    // Through the API, as the secretariat would: a stable code, and the other session untouched.
    const taken = await putSession(OTHER, { title: 'Dial-in other', lobby: false, dialIn: { number: '4101' } });
    expect(taken.status).toBe(409);
    expect(codeOf(taken)).toBe('ID_IN_USE');
    expect(sessions.byDialInNumber('4101')?.sessionId).toBe(MAIN);
    // A session keeps its own number when its rules change.
    expect((await putSession(MAIN, { title: 'Dial-in main (renamed)', lobby: false, languages: ['en', 'fr'], dialIn: { number: '4101' } })).status).toBe(200);
    expect(sessions.byDialInNumber('4101')?.title).toBe('Dial-in main (renamed)');
  });
});

describe('dial-in PINs: who may use the API, and bad input', () => {
  const routes = (personId = 'p-ke-1', eventId = DEMO_EVENT_ID): Array<[string, string]> => [
    ['POST', pinUrl(personId, eventId)],
    ['GET', pinUrl(personId, eventId)],
    ['DELETE', pinUrl(personId, eventId)],
    ['GET', listUrl(eventId)],
  ];

  it("refuses a delegate, an interpreter and another event's secretariat (403), and no or a wrong key (401)", async () => {
    const before = await httpRequest('GET', pinUrl('p-sm-1'), undefined, apiKey);
    expect(before.json).toMatchObject({ issued: false });
    for (const [method, url] of routes('p-sm-1')) {
      for (const who of ['brian', 'elodie', 'secB']) {
        const res = await httpRequest(method, url, undefined, bearer(tokens[who]!));
        expect(res.status, `${who} ${method} ${url}`).toBe(403);
        expect(codeOf(res)).toBe('FORBIDDEN');
      }
      const anonymous = await httpRequest(method, url);
      expect(anonymous.status, `${method} ${url}`).toBe(401);
      expect(codeOf(anonymous)).toBe('UNAUTHENTICATED');
      expect((await httpRequest(method, url, undefined, { 'x-api-key': 'not-the-key' })).status).toBe(401);
    }
    expect((await httpRequest('GET', pinUrl('p-sm-1'), undefined, apiKey)).json).toMatchObject({ issued: false });
  });

  it('answers 400 BAD_REQUEST for ids without their format, 404 NOT_FOUND for a person not registered in the event', async () => {
    const badPerson = routes('bad%20id!').filter(([, url]) => url.includes('bad%20id!'));
    for (const [method, url] of [...badPerson, ...routes('p-ke-1', 'bad%20event!')]) {
      const res = await httpRequest(method, url, undefined, apiKey);
      expect(res.status, `${method} ${url}`).toBe(400);
      expect(codeOf(res)).toBe('BAD_REQUEST');
    }
    const nobody = await httpRequest('POST', pinUrl('p-nobody'), undefined, apiKey);
    expect(nobody.status).toBe(404);
    expect(codeOf(nobody)).toBe('NOT_FOUND');
    // A person of event B is not a person of the demo event.
    const otherEvent = await httpRequest('POST', pinUrl('b-del'), undefined, apiKey);
    expect(otherEvent.status).toBe(404);
    expect(codeOf(otherEvent)).toBe('NOT_FOUND');
    const badNumber = await putSession(OTHER, { title: 'Dial-in other', lobby: false, dialIn: { number: '12ab' } });
    expect(badNumber.status).toBe(400);
    expect(codeOf(badNumber)).toBe('BAD_REQUEST');
    // What is not a PIN at all is a wrong PIN; an unknown session is denied as for a web join.
    expect(await phoneJoin('12ab5678', OTHER)).toMatchObject({ decision: 'deny', reasons: ['PIN_INVALID'] });
    expect(await phoneJoin('12345678', 'no-such-session')).toMatchObject({ decision: 'deny', reasons: ['SESSION_NOT_FOUND'] });
  });
});

describe('dial-in PINs: the wrong-PIN limit per session', () => {
  it('refuses every PIN, a right one too, once the session has had the configured wrong ones; other sessions still check', async () => {
    const right = await issue('p-sm-1');
    // A wrong PIN that is surely not the right one.
    const wrong = right === '00000000' ? '00000001' : '00000000';
    for (let i = 0; i < MAX_FAILURES; i++) expect(await phoneJoin(wrong, LIMIT)).toMatchObject({ reasons: ['PIN_INVALID'] });
    expect(await phoneJoin(right, LIMIT)).toMatchObject({ decision: 'deny', reasons: ['PIN_ATTEMPTS_EXCEEDED'], via: 'dial-in' });
    const [tripped] = await auditOf({ sessionId: LIMIT });
    expect(tripped).toMatchObject({ decision: 'deny', reasons: ['PIN_ATTEMPTS_EXCEEDED'], via: 'dial-in' });
    expect(tripped!.personId).toBeUndefined();
    expect((await phoneJoin(right, OTHER)).decision).toBe('allow');
  });

  it('does not let parallel calls overshoot the limit', async () => {
    const answers = await Promise.all(Array.from({ length: 3 * MAX_FAILURES }, (_, i) => phoneJoin(String(10_000_000 + i), PARALLEL)));
    const reasons = answers.map((a) => a.reasons[0]);
    expect(reasons.filter((r) => r === 'PIN_INVALID')).toHaveLength(MAX_FAILURES);
    expect(reasons.filter((r) => r === 'PIN_ATTEMPTS_EXCEEDED')).toHaveLength(2 * MAX_FAILURES);
  });
});

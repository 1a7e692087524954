import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { joinedSocket, post, requestJoinAs, signInAs, tryProduce } from '../helpers/accreditation-client.js';
import { call, connectSignaling } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { nextEvent } from '../helpers/wait.js';

const ADMIN_KEY = 'admin-api-key-admin-api-key-0123456789';
const KENYA_HOD = 'amina.odhiambo@demo.ke';
const KENYA_DELEGATE = 'brian.kamau@demo.ke';
const BRAZIL = 'beatriz.souza@demo.br';
const FRANCE = 'camille.durand@demo.fr';
const PENDING = 'priya.nair@demo.in';
const SECTOR_MEMBER = 'lena.vogel@acme-telecom.example';
const OBSERVER = 'omar.haddad@openaccess.example';
const INTERPRETER_FR = 'elodie.martin@interpreters.example';
const CAPTIONER = 'noor.rahman@captions.example';
const SECRETARIAT = 'sofia.rossi@secretariat.example';
const CHAIR = 'kwame.mensah@demo.gh';

let server: MeetingServer;
const sockets: Socket[] = [];
const track = (s: Socket): Socket => (sockets.push(s), s);

beforeAll(async () => {
  server = await startTestServer({ PLENUM_DEV_MODE: 'false', PLENUM_ADMIN_API_KEY: ADMIN_KEY });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
});

describe('accreditation: sign-in and join decisions (embedded registry, real server)', () => {
  it('signs in with e-mail and access code, and refuses a wrong code or an unknown address alike', async () => {
    expect(typeof (await signInAs(server.url, KENYA_HOD))).toBe('string');
    for (const body of [{ email: KENYA_HOD, accessCode: 'guess' }, { email: 'nobody@example.org', accessCode: 'plenum-demo' }]) {
      const res = await post(`${server.url}/api/auth/sign-in`, body);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: { code: 'UNAUTHENTICATED', message: 'unknown e-mail or wrong access code' } });
    }
    expect((await post(`${server.url}/api/auth/sign-in`, { email: 'not-an-email' })).body).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    // Failed attempts are limited per address and e-mail (10 a minute by default); the right code then waits too.
    let limited = 0;
    for (let i = 0; i < 12; i++) if ((await post(`${server.url}/api/auth/sign-in`, { email: 'julien.petit@interpreters.example', accessCode: `guess-${i}` })).status === 429) limited += 1;
    expect(limited).toBeGreaterThanOrEqual(2);
    expect((await post(`${server.url}/api/auth/sign-in`, { email: 'julien.petit@interpreters.example', accessCode: 'plenum-demo' })).body).toMatchObject({ error: { code: 'RATE_LIMITED' } });
  });

  it('admits an approved delegate with a join token naming the session, entity and grants', async () => {
    const res = await requestJoinAs(server.url, KENYA_HOD, 'demo-plenary');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      decision: 'allow',
      session: { sessionId: 'demo-plenary', eventId: DEMO_EVENT_ID },
      participant: { name: 'Amina Odhiambo', role: 'head_of_delegation', entity: { name: 'Kenya', type: 'member_state', countryCode: 'KE' } },
      grants: { publishFloor: true, booths: [], captions: false, subscribe: true, moderate: false },
    });
    expect(typeof res.body.joinToken).toBe('string');
  });

  it('refuses with reason codes: pending registration, entity type not admitted, unknown session, bad identity', async () => {
    expect((await requestJoinAs(server.url, PENDING, 'demo-plenary')).body).toMatchObject({ error: { code: 'NOT_ACCREDITED' }, reasons: ['REGISTRATION_PENDING'] });
    const sm = await requestJoinAs(server.url, SECTOR_MEMBER, 'demo-member-states');
    expect(sm.status).toBe(403);
    expect(sm.body.reasons).toEqual(['ENTITY_NOT_ADMITTED']);
    expect((await requestJoinAs(server.url, KENYA_HOD, 'no-such-session')).body.reasons).toEqual(['SESSION_NOT_FOUND']);
    const forged = await post(`${server.url}/api/join`, { identityToken: 'eyJhbGciOiJIUzI1NiJ9.e30.x', sessionId: 'demo-plenary' });
    expect(forged.status).toBe(401);
    expect(forged.body.reasons).toEqual(['IDENTITY_INVALID']);
  });

  it('uses each join token for one connection only', async () => {
    const res = await requestJoinAs(server.url, FRANCE, 'demo-plenary');
    track(await connectSignaling(server.url, res.body.joinToken));
    const second = (await connectSignaling(server.url, res.body.joinToken).catch((e: unknown) => e)) as Error & { data?: { code: string; message: string } };
    expect(second.data).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(/already been used/) });
  });

  it('writes every decision to the audit trail, which the secretariat can query and export as CSV', async () => {
    const json = await fetch(`${server.url}/api/admin/events/${DEMO_EVENT_ID}/audit?decision=deny`, { headers: { 'x-api-key': ADMIN_KEY } });
    const { records } = (await json.json()) as { records: Array<{ email: string; reasons: string[]; source: string }> };
    expect(records).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ email: PENDING, reasons: ['REGISTRATION_PENDING'], source: 'live' }),
        expect.objectContaining({ email: SECTOR_MEMBER, reasons: ['ENTITY_NOT_ADMITTED'] }),
      ]),
    );
    const csv = await (await fetch(`${server.url}/api/admin/events/${DEMO_EVENT_ID}/audit?format=csv`, { headers: { 'x-api-key': ADMIN_KEY } })).text();
    expect(csv.split('\r\n')[0]).toBe('at,eventId,sessionId,personId,email,name,entity,role,decision,reasons,source,actor,documentId,documentVersion');
    expect(csv).toContain(`${PENDING},Priya Nair,India,delegate,deny,REGISTRATION_PENDING,live`);
  });
});

describe('accreditation: grants enforced on every signaling message, for each role', () => {
  it('observer: may listen, may not publish', async () => {
    const s = track(await joinedSocket(server.url, OBSERVER, 'demo-plenary'));
    expect(await tryProduce(s, 'floor', 1001)).toBe('FORBIDDEN');
    expect((await call(s, 'createWebRtcTransport', { direction: 'recv' })).ok).toBe(true);
  });

  it('delegate: may take the floor, may not publish into a booth, may not act as secretariat', async () => {
    const s = track(await joinedSocket(server.url, KENYA_DELEGATE, 'demo-plenary'));
    expect(await tryProduce(s, 'floor', 1002)).toBe('ok');
    expect(await tryProduce(s, 'fr', 1003)).toBe('FORBIDDEN');
    for (const [method, data] of [
      ['getRoster', {}],
      ['admitFromLobby', { participantId: 'p-br-1' }],
      ['denyFromLobby', { participantId: 'p-br-1' }],
      ['removeParticipant', { participantId: 'p-ke-1' }],
    ] as const) {
      const answer = await call(s, method, data);
      expect(answer.ok ? 'ok' : answer.error.code, method).toBe('FORBIDDEN');
    }
  });

  it('head of delegation: may take the floor, may not act as secretariat', async () => {
    const amina = track(await joinedSocket(server.url, KENYA_HOD, 'demo-plenary'));
    expect(await tryProduce(amina, 'floor', 1010)).toBe('ok');
    for (const method of ['getRoster', 'removeParticipant'] as const) {
      const answer = await call(amina, method, method === 'getRoster' ? {} : { participantId: 'p-ke-2' });
      expect(answer.ok ? 'ok' : answer.error.code, method).toBe('FORBIDDEN');
    }
  });

  it('interpreter: may publish audio only into their own booth, not the floor nor another booth', async () => {
    const s = track(await joinedSocket(server.url, INTERPRETER_FR, 'demo-plenary'));
    expect(await tryProduce(s, 'floor', 1004)).toBe('FORBIDDEN');
    expect(await tryProduce(s, 'es', 1005)).toBe('FORBIDDEN');
    expect(await tryProduce(s, 'fr', 1006)).toBe('ok');
    expect((await call(s, 'getRoster', {})).ok).toBe(false);
  });

  it('captioner: may not publish audio into the floor nor moderate', async () => {
    const s = track(await joinedSocket(server.url, CAPTIONER, 'demo-plenary'));
    expect(await tryProduce(s, 'floor', 1007)).toBe('FORBIDDEN');
    const roster = await call(s, 'getRoster', {});
    expect(roster.ok ? 'ok' : roster.error.code).toBe('FORBIDDEN');
  });

  it('chair and secretariat: see the roster with entities and accreditation status', async () => {
    const chair = track(await joinedSocket(server.url, CHAIR, 'demo-plenary'));
    const roster = await call<{ participants: Array<{ name: string; entity: { name: string }; role: string; accreditation: { status: string; source: string } }> }>(chair, 'getRoster', {});
    expect(roster.ok).toBe(true);
    if (!roster.ok) return;
    expect(roster.data.participants).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'Omar Haddad', role: 'observer', entity: expect.objectContaining({ name: 'Open Access Network' }), accreditation: { status: 'approved', source: 'live' } }),
        expect.objectContaining({ name: 'Kwame Mensah', role: 'chair', entity: expect.objectContaining({ name: 'Ghana' }) }),
      ]),
    );
  });

  it('everyone sees peers with name, entity and role, but not their accreditation details', async () => {
    const res = await requestJoinAs(server.url, BRAZIL, 'demo-plenary');
    const s = track(await connectSignaling(server.url, res.body.joinToken));
    const caps = (await call<{ rtpCapabilities: object }>(s, 'getRouterRtpCapabilities', {})) as { ok: true; data: { rtpCapabilities: object } };
    const joined = (await call<{ peers: Array<Record<string, unknown>> }>(s, 'join', { rtpCapabilities: caps.data.rtpCapabilities })) as {
      ok: true;
      data: { peers: Array<Record<string, unknown>> };
    };
    const kenya = joined.data.peers.find((p) => p.name === 'Brian Kamau');
    expect(kenya).toEqual({ id: 'p-ke-2', name: 'Brian Kamau', role: 'delegate', entity: { name: 'Kenya', type: 'member_state', countryCode: 'KE' } });
  });
});

describe('accreditation: the lobby', () => {
  it('holds delegates until the secretariat admits or denies each one; both decisions are audited', async () => {
    const secretariat = track(await joinedSocket(server.url, SECRETARIAT, 'demo-with-lobby'));
    const firstWait = nextEvent<[{ waiting: Array<{ id: string; name: string; entity: { name: string } }> }]>(secretariat, 'lobbyChanged');

    const kenya = await requestJoinAs(server.url, KENYA_HOD, 'demo-with-lobby');
    expect(kenya.body.decision).toBe('lobby');
    const waiting = track(await connectSignaling(server.url, kenya.body.joinToken));
    const [change] = await firstWait;
    expect(change.waiting).toEqual([expect.objectContaining({ id: 'p-ke-1', name: 'Amina Odhiambo', entity: expect.objectContaining({ name: 'Kenya' }) })]);
    const blocked = await call(waiting, 'getRouterRtpCapabilities', {});
    expect(blocked.ok ? 'ok' : blocked.error.code).toBe('IN_LOBBY');

    const admitted = nextEvent(waiting, 'lobbyAdmitted');
    expect((await call(secretariat, 'admitFromLobby', { participantId: 'p-ke-1' })).ok).toBe(true);
    await admitted;
    expect((await call(waiting, 'getRouterRtpCapabilities', {})).ok).toBe(true);

    const brazil = await requestJoinAs(server.url, BRAZIL, 'demo-with-lobby');
    const refusedSocket = track(await connectSignaling(server.url, brazil.body.joinToken));
    await nextEvent(secretariat, 'lobbyChanged');
    const removed = nextEvent<[{ reason: string; message: string }]>(refusedSocket, 'removed');
    const disconnected = nextEvent(refusedSocket, 'disconnect');
    expect((await call(secretariat, 'denyFromLobby', { participantId: 'p-br-1', reason: 'Not on the list for this drafting group.' })).ok).toBe(true);
    expect((await removed)[0]).toEqual({ reason: 'LOBBY_DENIED', message: 'Not on the list for this drafting group.' });
    await disconnected;

    const audit = (await server.accreditation.service.audit.query({ sessionId: 'demo-with-lobby' })).records.reverse();
    expect(audit.filter((r) => r.source === 'secretariat').map((r) => [r.decision, r.personId, r.actor])).toEqual([
      ['lobby-admit', 'p-ke-1', 'p-sec-1'],
      ['lobby-deny', 'p-br-1', 'p-sec-1'],
    ]);
  });
});

describe('accreditation: admin API and live revocation', () => {
  it('refuses the admin API without credentials and to non-secretariat identities', async () => {
    const url = `${server.url}/api/admin/events/${DEMO_EVENT_ID}/registrations`;
    expect((await fetch(url)).status).toBe(401);
    const delegate = await signInAs(server.url, KENYA_DELEGATE);
    const res = await fetch(url, { headers: { authorization: `Bearer ${delegate}` } });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect((await fetch(url, { headers: { 'x-api-key': 'wrong-key-wrong-key-wrong-key-wrong' } })).status).toBe(401);
  });

  it('a revocation through the admin API removes the participant at once, telling them why', async () => {
    const france = track(await joinedSocket(server.url, FRANCE, 'demo-member-states'));
    const removed = nextEvent<[{ reason: string; message: string }]>(france, 'removed');
    const secretariat = await signInAs(server.url, SECRETARIAT);
    const res = await post(`${server.url}/api/admin/events/${DEMO_EVENT_ID}/registrations/p-fr-1/revoke`, {}, { authorization: `Bearer ${secretariat}` });
    expect(res.status).toBe(200);
    expect((await removed)[0]).toEqual({ reason: 'ACCREDITATION_REVOKED', message: 'Removed: your accreditation was revoked.' });
    // And the revoked person cannot come back.
    expect((await requestJoinAs(server.url, FRANCE, 'demo-member-states')).body.reasons).toEqual(['REGISTRATION_REVOKED']);
    const audit = (await server.accreditation.service.audit.query({ decision: 'revoke', personId: 'p-fr-1' })).records;
    expect(audit).toMatchObject([{ source: 'registry-change', reasons: ['REGISTRATION_REVOKED'] }]);
  });

  it('a resume token brings an accredited person back (each answer carries the next one), but not once their accreditation is revoked', async () => {
    const answer = await requestJoinAs(server.url, 'haruto.sato@demo.jp', 'demo-member-states');
    const joinWith = async (token: unknown): Promise<string> => {
      const socket = track(await connectSignaling(server.url, token));
      const caps = (await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {})) as { ok: true; data: { rtpCapabilities: object } };
      const joined = (await call<{ resumeToken: string }>(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities })) as { ok: true; data: { resumeToken: string } };
      socket.close();
      return joined.data.resumeToken;
    };
    // Each resume token opens one connection; the join answer carries the next.
    let resume = await joinWith(answer.body.joinToken);
    for (let i = 0; i < 2; i++) resume = await joinWith(resume);

    await post(`${server.url}/api/admin/events/${DEMO_EVENT_ID}/registrations/p-jp-1/revoke`, {}, { 'x-api-key': ADMIN_KEY });
    const refused = (await connectSignaling(server.url, resume).catch((e: unknown) => e)) as Error & { data?: { code: string; message: string } };
    expect(refused.data).toMatchObject({ code: 'NOT_ACCREDITED', message: expect.stringContaining('REGISTRATION_REVOKED') });
  });

  it('imports a CSV through the admin API, refusing rows of another event', async () => {
    const url = `${server.url}/api/admin/events/${DEMO_EVENT_ID}/registrations/import`;
    const header = 'event_id,person_id,name,email,entity_name,entity_type,country_code,role,languages,status,sessions,access_code';
    const ok = await fetch(url, { method: 'POST', headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'text/csv' }, body: `${header}\n${DEMO_EVENT_ID},p-mx-1,Mateo Ruiz,mateo@demo.mx,Mexico,member_state,MX,delegate,,approved,,code-12345` });
    expect(await ok.json()).toEqual({ imported: 1 });
    const mateo = await post(`${server.url}/api/auth/sign-in`, { email: 'mateo@demo.mx', accessCode: 'code-12345' });
    const joined = await post(`${server.url}/api/join`, { identityToken: mateo.body.identityToken, sessionId: 'demo-plenary' });
    expect(joined.body).toMatchObject({ decision: 'allow', participant: { name: 'Mateo Ruiz', entity: { name: 'Mexico' } } });
    const bad = await fetch(url, { method: 'POST', headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'text/csv' }, body: `${header}\nother-event,x1,X,x@demo.mx,Mexico,member_state,MX,delegate,,approved,,` });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'CSV_INVALID' }, lines: [{ line: 2 }] });
  });
});

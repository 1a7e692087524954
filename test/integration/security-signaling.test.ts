import { join as joinPath } from 'node:path';
import jwt from 'jsonwebtoken';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { checkGate, GATES } from '../../server/signaling/connection-gate.js';
import { opusRtpParameters, requestJoinAs, tryProduce } from '../helpers/accreditation-client.js';
import { CrmProcess, registrant } from '../helpers/crm-process.js';
import { grants } from '../helpers/grants.js';
import { IDP_AUDIENCE, IDP_ISSUER, idToken, JwksServer, rsaKey } from '../helpers/jwks-server.js';
import { call, connectSignaling } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

// Issue 10, part 2, items 4, 5, 10 and the moderator half of 11: a real server (in process, real mediasoup
// worker), real join tokens from /api/join (embedded registry, demo event), real socket.io-client sockets.

const ADMIN_KEY = 'admin-api-key-admin-api-key-0123456789';
const PLENARY = 'demo-plenary'; // open floor, no lobby
const LOBBY_SESSION = 'demo-with-lobby';
const SECRETARIAT = 'sofia.rossi@secretariat.example';

let server: MeetingServer;
const sockets: Socket[] = [];
const track = (s: Socket): Socket => (sockets.push(s), s);
/** The secretariat, joined in the plenary for the whole file. */
let sofia: Socket;

type Ok<T> = { ok: true; data: T };
type ConnectError = Error & { data?: { code: string; message: string } };

async function joinToken(email: string, session: string): Promise<string> {
  const answer = await requestJoinAs(server.url, email, session);
  if (answer.status !== 200) throw new Error(`join ${email}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.joinToken as string;
}

/** Connects with a token and joins; answers the socket and the join answer (with the next resume token). */
async function connectAndJoin(token: string): Promise<{ socket: Socket; resumeToken: string }> {
  const socket = track(await connectSignaling(server.url, token));
  const caps = (await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {})) as Ok<{ rtpCapabilities: object }>;
  expect(caps.ok).toBe(true);
  const joined = await call<{ resumeToken: string }>(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities });
  if (!joined.ok) throw new Error(`join: ${joined.error.code}`);
  return { socket, resumeToken: joined.data.resumeToken };
}

const joinAs = async (email: string, session = PLENARY) => connectAndJoin(await joinToken(email, session));

/** Connects recording every event from the first one (a lobby notice can arrive with the connection). */
async function connectRecording(token: string): Promise<{ socket: Socket; events: Array<{ event: string; data: unknown }> }> {
  const events: Array<{ event: string; data: unknown }> = [];
  const socket = track(io(server.url, { path: '/signaling', auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true }));
  socket.onAny((event: string, data: unknown) => events.push({ event, data }));
  await nextEvent(socket, 'connect');
  return { socket, events };
}

async function refusal(token: string): Promise<{ code?: string; message?: string }> {
  const error = (await connectSignaling(server.url, token).then(
    (s) => {
      track(s);
      return undefined;
    },
    (e: unknown) => e,
  )) as ConnectError | undefined;
  return error?.data ?? {};
}

function code(answer: { ok: boolean; error?: { code: string } }): string {
  return answer.ok ? 'ok' : answer.error!.code;
}

async function sendTransport(socket: Socket): Promise<string> {
  const t = (await call<{ id: string }>(socket, 'createWebRtcTransport', { direction: 'send' })) as Ok<{ id: string }>;
  expect(t.ok).toBe(true);
  return t.data.id;
}

const vp8RtpParameters = (ssrc: number) => ({
  codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
  encodings: [{ ssrc }],
  rtcp: { cname: `v${ssrc}` },
});

function producerOf(room: string, personId: string, producerId: string) {
  return server.rooms.get(room)?.participants.get(personId)?.endpoint.producers.get(producerId);
}

beforeAll(async () => {
  server = await startTestServer({ PLENUM_DEV_MODE: 'false', PLENUM_DEMO: 'true', PLENUM_ADMIN_API_KEY: ADMIN_KEY, PLENUM_REVALIDATE_INTERVAL_SECONDS: '0' });
  sofia = (await joinAs(SECRETARIAT)).socket;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
});

describe('2.4 resume tokens re-run the accreditation decision', () => {
  it('2.4 a participant removed by the secretariat cannot resume; a new join token only reaches the lobby', async () => {
    const brian = await joinAs('brian.kamau@demo.ke');
    const removed = nextEvent<[{ reason: string }]>(brian.socket, 'removed');
    expect(code(await call(sofia, 'removeParticipant', { participantId: 'p-ke-2', reason: 'disorder' }))).toBe('ok');
    expect((await removed)[0].reason).toBe('REMOVED_BY_SECRETARIAT');

    // The removal is recorded (in the system of record, for every node) and refuses the resume token.
    expect(await refusal(brian.resumeToken)).toMatchObject({ code: ErrorCode.REMOVED });
    expect(await server.store.db.selectFrom('removals').select('person_id').where('room_id', '=', PLENARY).execute()).toEqual([{ person_id: 'p-ke-2' }]);

    // Signing in again gets a join token (the registry still accredits him), but only the lobby: the
    // secretariat decides again, and admitting him ends the removal.
    const again = track(await connectSignaling(server.url, await joinToken('brian.kamau@demo.ke', PLENARY)));
    await waitFor(async () => {
      const roster = (await call<{ lobby: Array<{ id: string }> }>(sofia, 'getRoster', {})) as Ok<{ lobby: Array<{ id: string }> }>;
      return roster.data.lobby.some((w) => w.id === 'p-ke-2');
    }, { what: 'Brian in the lobby' });
    expect(code(await call(again, 'getRouterRtpCapabilities', {}))).toBe(ErrorCode.IN_LOBBY);
    const admitted = nextEvent(again, 'lobbyAdmitted');
    expect(code(await call(sofia, 'admitFromLobby', { participantId: 'p-ke-2' }))).toBe('ok');
    await admitted;
    // The removal was a record of the meeting (system of record); admitting him deleted it.
    expect(await server.store.db.selectFrom('removals').selectAll().where('room_id', '=', PLENARY).where('person_id', '=', 'p-ke-2').execute()).toEqual([]);
  });

  it('2.4 someone admitted from the lobby goes back to the lobby when resuming', async () => {
    const secretariat = (await joinAs(SECRETARIAT, LOBBY_SESSION)).socket;
    const amina = track(await connectSignaling(server.url, await joinToken('amina.odhiambo@demo.ke', LOBBY_SESSION)));
    await waitFor(async () => ((await call<{ lobby: Array<{ id: string }> }>(secretariat, 'getRoster', {})) as Ok<{ lobby: Array<{ id: string }> }>).data.lobby.length === 1, {
      what: 'Amina in the lobby',
    });
    const admitted = nextEvent(amina, 'lobbyAdmitted');
    expect(code(await call(secretariat, 'admitFromLobby', { participantId: 'p-ke-1' }))).toBe('ok');
    await admitted;
    const caps = (await call<{ rtpCapabilities: object }>(amina, 'getRouterRtpCapabilities', {})) as Ok<{ rtpCapabilities: object }>;
    const joined = (await call<{ resumeToken: string }>(amina, 'join', { rtpCapabilities: caps.data.rtpCapabilities })) as Ok<{ resumeToken: string }>;
    expect(joined.ok).toBe(true);
    amina.close();

    const { socket: back, events } = await connectRecording(joined.data.resumeToken);
    await waitFor(async () => ((await call<{ lobby: Array<{ id: string }> }>(secretariat, 'getRoster', {})) as Ok<{ lobby: Array<{ id: string }> }>).data.lobby.some((w) => w.id === 'p-ke-1'), {
      what: 'Amina back in the lobby',
    });
    expect(code(await call(back, 'getRouterRtpCapabilities', {}))).toBe(ErrorCode.IN_LOBBY);
    expect(code(await call(back, 'join', { rtpCapabilities: caps.data.rtpCapabilities }))).toBe(ErrorCode.IN_LOBBY);
    // The used resume token is spent; the lobby hands out the next one.
    const waiting = events.find((e) => e.event === 'lobbyWaiting')?.data as { resumeToken?: string } | undefined;
    expect(typeof waiting?.resumeToken).toBe('string');
  });

  it('2.4 a secretariat member demoted in the registry loses moderate live (revalidation) and after a resume', async () => {
    const kwame = await joinAs('kwame.mensah@demo.gh'); // the chair: conducting, so `moderate`
    expect(code(await call(kwame.socket, 'getRoster', {}))).toBe('ok');

    const changed = nextEvent<[{ moderate: boolean; role: string }]>(kwame.socket, 'grantsChanged');
    const res = await fetch(`${server.url}/api/admin/events/${DEMO_EVENT_ID}/registrations/p-chair-1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY },
      body: JSON.stringify({ name: 'Kwame Mensah', email: 'kwame.mensah@demo.gh', entity: { name: 'Ghana', type: 'member_state', countryCode: 'GH' }, role: 'delegate', status: 'approved' }),
    });
    expect(res.status).toBe(200);
    expect((await changed)[0]).toMatchObject({ moderate: false, role: 'delegate' });
    expect(code(await call(kwame.socket, 'getRoster', {}))).toBe(ErrorCode.FORBIDDEN);
    expect(code(await call(kwame.socket, 'muteParticipant', { participantId: 'p-sec-1' }))).toBe(ErrorCode.FORBIDDEN);

    // His resume token was issued while he still moderated; the resume decides again.
    kwame.socket.close();
    const back = await connectAndJoin(kwame.resumeToken);
    expect(code(await call(back.socket, 'getRoster', {}))).toBe(ErrorCode.FORBIDDEN);
    expect(code(await call(back.socket, 'takeFloor', {}))).toBe(ErrorCode.FORBIDDEN);
  });

  it('2.4 an interpreter demoted in the registry loses their booth live: the booth microphone closes and cannot come back', async () => {
    const elodie = await joinAs('elodie.martin@interpreters.example'); // French booth
    expect(await tryProduce(elodie.socket, 'fr', 7101)).toBe('ok');
    const changed = nextEvent<[{ role: string; publish: { booths: string[] } }]>(elodie.socket, 'grantsChanged');
    const res = await fetch(`${server.url}/api/admin/events/${DEMO_EVENT_ID}/registrations/p-int-fr-1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY },
      body: JSON.stringify({ name: 'Élodie Martin', email: 'elodie.martin@interpreters.example', entity: { name: 'Secretariat interpretation service', type: 'secretariat' }, role: 'observer', status: 'approved' }),
    });
    expect(res.status).toBe(200);
    expect((await changed)[0]).toMatchObject({ role: 'observer', publish: { booths: [] } });
    expect(await tryProduce(elodie.socket, 'fr', 7102)).toBe(ErrorCode.FORBIDDEN);
    expect(code(await call(elodie.socket, 'boothGoLive', { language: 'fr' }))).toBe(ErrorCode.FORBIDDEN);
  });

  it('2.4 a connection gets its next resume token as soon as it is admitted, before any join', async () => {
    const { socket, events } = await connectRecording(await joinToken('haruto.sato@demo.jp', PLENARY));
    const pushed = await waitFor(() => events.find((e) => e.event === 'resumeToken')?.data as { resumeToken: string } | undefined, { what: 'the resumeToken event' });
    socket.close();
    // Never joined, the connection dropped: the pushed token brings him back once.
    const back = await connectAndJoin(pushed.resumeToken);
    expect(typeof back.resumeToken).toBe('string');
    expect(await refusal(pushed.resumeToken)).toMatchObject({ code: ErrorCode.UNAUTHENTICATED });
  });

  it('2.4 a lobby waiter who resumes before the old connection is gone keeps the place (the old one leaving does not remove it)', async () => {
    const secretariat = (await joinAs(SECRETARIAT, LOBBY_SESSION)).socket;
    const lobbyIds = async () => ((await call<{ lobby: Array<{ id: string }> }>(secretariat, 'getRoster', {})) as Ok<{ lobby: Array<{ id: string }> }>).data.lobby.map((w) => w.id);
    const first = await connectRecording(await joinToken('camille.durand@demo.fr', LOBBY_SESSION));
    const waiting = await waitFor(() => first.events.find((e) => e.event === 'lobbyWaiting')?.data as { resumeToken?: string } | undefined, { what: 'lobbyWaiting' });
    // The client resumes (it thinks the first connection dropped) while the server still holds the first.
    const second = await connectRecording(waiting.resumeToken!);
    await waitFor(() => second.events.some((e) => e.event === 'lobbyWaiting'), { what: 'the second connection in the lobby' });
    first.socket.close();
    await waitFor(() => !first.socket.connected, { what: 'the first connection closed' });
    // The server has processed the first connection's close once a request sent after it is answered.
    await call(secretariat, 'getRoster', {});
    expect(await lobbyIds()).toContain('p-fr-1');
    const admitted = nextEvent(second.socket, 'lobbyAdmitted');
    expect(code(await call(secretariat, 'admitFromLobby', { participantId: 'p-fr-1' }))).toBe('ok');
    await admitted;
  });

  it('2.4 one resume token opens one connection, even in parallel; the next one from the answer works once', async () => {
    const first = await joinAs('beatriz.souza@demo.br');
    first.socket.close();
    const attempts = await Promise.all(Array.from({ length: 6 }, () => refusal(first.resumeToken)));
    expect(attempts.filter((a) => a.code === undefined)).toHaveLength(1);
    // The others: spent (final), or "being checked on another connection" while the winner was (retryable)...
    expect(attempts.filter((a) => a.code === ErrorCode.UNAUTHENTICATED || a.code === ErrorCode.UNAVAILABLE)).toHaveLength(5);
    // ...and a retry after that finds it spent.
    expect(await refusal(first.resumeToken)).toMatchObject({ code: ErrorCode.UNAUTHENTICATED });

    const second = await joinAs('beatriz.souza@demo.br');
    second.socket.close();
    const third = await connectAndJoin(second.resumeToken);
    expect(third.resumeToken).not.toBe(second.resumeToken);
    expect(await refusal(second.resumeToken)).toMatchObject({ code: ErrorCode.UNAUTHENTICATED, message: expect.stringMatching(/already been used/) });
  });
});

describe('2.5 per-participant limits hold under parallel calls', () => {
  it('2.5 twenty parallel createWebRtcTransport calls: exactly the limit (2) succeed', async () => {
    const { socket } = await joinAs('haruto.sato@demo.jp');
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(socket, 'createWebRtcTransport', { direction: 'send' })));
    const codes = answers.map(code);
    expect(codes.filter((c) => c === 'ok')).toHaveLength(server.config.media.maxTransportsPerDirection);
    expect(codes.filter((c) => c === ErrorCode.LIMIT_REACHED)).toHaveLength(20 - server.config.media.maxTransportsPerDirection);
  });

  it('2.5 twenty parallel produce calls: exactly the limit (4) succeed', async () => {
    const { socket } = await joinAs('camille.durand@demo.fr');
    const transportId = await sendTransport(socket);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call(socket, 'produce', { transportId, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(5000 + i) })),
    );
    const codes = answers.map(code);
    expect(codes.filter((c) => c === 'ok')).toHaveLength(server.config.media.maxProducers);
    expect(codes.filter((c) => c === ErrorCode.LIMIT_REACHED)).toHaveLength(20 - server.config.media.maxProducers);
    expect(server.rooms.get(PLENARY)?.participants.get('p-fr-1')?.endpoint.producers.size).toBe(server.config.media.maxProducers);
  });
});

describe('2.10 explicit connection states behind one gate', () => {
  it('2.10 moderator requests need a joined connection, whatever the grants', async () => {
    const idle = track(await connectSignaling(server.url, await joinToken(SECRETARIAT, 'demo-member-states')));
    for (const [method, data] of [
      ['getRoster', {}],
      ['removeParticipant', { participantId: 'p-ke-1' }],
      ['muteParticipant', { participantId: 'p-ke-1' }],
      ['giveFloor', {}],
      ['admitFromLobby', { participantId: 'p-ke-1' }],
    ] as const) {
      expect(code(await call(idle, method, data))).toBe(ErrorCode.NOT_JOINED);
    }
    // The gate decides on the state before the grants: a delegate's idle connection hears NOT_JOINED too,
    // not FORBIDDEN (so the joined check is the gate's own, not left to a later layer).
    const delegate = track(await connectSignaling(server.url, await joinToken('brian.kamau@demo.ke', 'demo-member-states')));
    expect(code(await call(delegate, 'getRoster', {}))).toBe(ErrorCode.NOT_JOINED);
    expect(code(await call(delegate, 'giveFloor', {}))).toBe(ErrorCode.NOT_JOINED);
    // And the one table says so for every moderator method.
    for (const method of Object.keys(GATES) as Array<keyof typeof GATES>) {
      if (GATES[method].needs !== 'moderate') continue;
      expect(() => checkGate(method, 'connected', grants({ moderate: true }), false), method).toThrow(expect.objectContaining({ code: ErrorCode.NOT_JOINED }));
    }
  });

  it('2.10 getRouterRtpCapabilities before join creates no room', async () => {
    const socket = track(await connectSignaling(server.url, await joinToken('lena.vogel@acme-telecom.example', 'demo-council')));
    const caps = (await call<{ rtpCapabilities: { codecs: unknown[] } }>(socket, 'getRouterRtpCapabilities', {})) as Ok<{ rtpCapabilities: { codecs: unknown[] } }>;
    expect(caps.ok).toBe(true);
    expect(caps.data.rtpCapabilities.codecs.length).toBeGreaterThan(0);
    expect(server.rooms.get('demo-council')).toBeUndefined();
    // The same capabilities a room's router has: the join with them works.
    expect(code(await call(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities }))).toBe('ok');
    expect(server.rooms.get('demo-council')).toBeDefined();
  });

  it('2.10 a refused connection leaves no room lease; an admitted one gives its lease back when it goes', async () => {
    const room = 'lease-probe';
    const token = server.tokens.issue('lease-1', grants({ room, person: 'lease-1' }));
    const socket = await connectSignaling(server.url, token);
    expect(server.ownership.leaseOf(room)).toBeDefined(); // held for the admitted connection
    socket.close();
    await waitFor(() => server.ownership.leaseOf(room) === undefined, { what: 'the lease to be released' });

    // Refusals at every step after the room was located: a spent token, a removed person's resume token.
    expect(await refusal(token)).toMatchObject({ code: ErrorCode.UNAUTHENTICATED });
    await server.store.db.insertInto('removals').values({ room_id: room, person_id: 'lease-2', until: new Date(Date.now() + 60_000) }).execute();
    expect(await refusal(server.tokens.issue('lease-2', grants({ room, person: 'lease-2' }), 'resume'))).toMatchObject({ code: ErrorCode.REMOVED });
    expect(server.ownership.leaseOf(room)).toBeUndefined();
    expect(await server.ownership['coordinator'].roomOwner(room)).toBeNull();
  });

  it('2.10 after leave, the same socket cannot join again', async () => {
    const { socket } = await joinAs('omar.haddad@openaccess.example');
    const caps = (await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {})) as Ok<{ rtpCapabilities: object }>;
    expect(code(await call(socket, 'leave', {}))).toBe('ok');
    expect(code(await call(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities }))).toBe(ErrorCode.ALREADY_LEFT);
    expect(code(await call(socket, 'createWebRtcTransport', { direction: 'recv' }))).toBe(ErrorCode.ALREADY_LEFT);
    expect(server.rooms.get(PLENARY)?.participants.has('p-ngo-1')).toBe(false);
  });
});

describe('2.11 moderator mute and stop-video hold on an open floor', () => {
  it('2.11 a muted microphone cannot be resumed (nor replaced by a new one) until the secretariat asks to unmute', async () => {
    const { socket } = await joinAs('amina.odhiambo@demo.ke');
    const transportId = await sendTransport(socket);
    const mic = (await call<{ producerId: string }>(socket, 'produce', { transportId, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(7001) })) as Ok<{ producerId: string }>;
    expect(producerOf(PLENARY, 'p-ke-1', mic.data.producerId)?.paused).toBe(false);

    const moderated = nextEvent<[{ action: string }]>(socket, 'moderated');
    expect(code(await call(sofia, 'muteParticipant', { participantId: 'p-ke-1' }))).toBe('ok');
    expect((await moderated)[0].action).toBe('muted');
    expect(producerOf(PLENARY, 'p-ke-1', mic.data.producerId)?.paused).toBe(true);
    expect(code(await call(socket, 'resumeProducer', { producerId: mic.data.producerId }))).toBe(ErrorCode.MUTED_BY_MODERATOR);

    // A fresh microphone starts paused on the server, and cannot be resumed either.
    expect(code(await call(socket, 'closeProducer', { producerId: mic.data.producerId }))).toBe('ok');
    const again = (await call<{ producerId: string }>(socket, 'produce', { transportId, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(7002) })) as Ok<{ producerId: string }>;
    expect(producerOf(PLENARY, 'p-ke-1', again.data.producerId)?.paused).toBe(true);
    expect(code(await call(socket, 'resumeProducer', { producerId: again.data.producerId }))).toBe(ErrorCode.MUTED_BY_MODERATOR);

    const asked = nextEvent(socket, 'unmuteRequested');
    expect(code(await call(sofia, 'askToUnmute', { participantId: 'p-ke-1' }))).toBe('ok');
    await asked;
    expect(code(await call(socket, 'resumeProducer', { producerId: again.data.producerId }))).toBe('ok');
    expect(producerOf(PLENARY, 'p-ke-1', again.data.producerId)?.paused).toBe(false);
  });

  it('2.11 after stopVideo no new video is accepted until the secretariat allows video again', async () => {
    const { socket } = await joinAs('lena.vogel@acme-telecom.example');
    const transportId = await sendTransport(socket);
    const camera = await call<{ producerId: string }>(socket, 'produce', { transportId, kind: 'video', source: 'camera', rtpParameters: vp8RtpParameters(8001) });
    expect(code(camera)).toBe('ok');

    const moderated = nextEvent<[{ action: string }]>(socket, 'moderated');
    expect(code(await call(sofia, 'stopVideo', { participantId: 'p-sm-1' }))).toBe('ok');
    expect((await moderated)[0].action).toBe('video-stopped');
    expect(server.rooms.get(PLENARY)?.participants.get('p-sm-1')?.endpoint.producers.size).toBe(0);
    expect(code(await call(socket, 'produce', { transportId, kind: 'video', source: 'camera', rtpParameters: vp8RtpParameters(8002) }))).toBe(ErrorCode.MUTED_BY_MODERATOR);
    expect(code(await call(socket, 'produce', { transportId, kind: 'video', source: 'screen', rtpParameters: vp8RtpParameters(8003) }))).toBe(ErrorCode.MUTED_BY_MODERATOR);
    // Audio is not affected by a stopped video.
    expect(code(await call(socket, 'produce', { transportId, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(8004) }))).toBe('ok');

    const allowed = nextEvent(socket, 'videoAllowed');
    expect(code(await call(sofia, 'allowVideo', { participantId: 'p-sm-1' }))).toBe('ok');
    await allowed;
    expect(code(await call(socket, 'produce', { transportId, kind: 'video', source: 'camera', rtpParameters: vp8RtpParameters(8005) }))).toBe('ok');
  });
});

describe('2.4 the grace policy applies to resumes with its time window', () => {
  let crm: CrmProcess;
  let jwks: JwksServer;
  let crmServer: MeetingServer;
  const key = rsaKey('k-grace');

  beforeAll(async () => {
    crm = await CrmProcess.start();
    await crm.control({ reset: true, mode: 'ok', delayMs: 0, requireToken: false, registrants: Array.from({ length: 5 }, (_, i) => registrant(i)) });
    jwks = await JwksServer.start([key]);
    crmServer = await startCrmServer('300');
  });
  const startCrmServer = async (registryTimeoutMs: string): Promise<MeetingServer> => {
    const s = await startTestServer({
      PLENUM_DEV_MODE: 'false',
      PLENUM_REGISTRY: 'rest',
      PLENUM_REGISTRY_URL: crm.url,
      PLENUM_REGISTRY_FIELD_MAPPING: joinPath(import.meta.dirname, '../../docs/registry-mappings/indico.json'),
      PLENUM_REGISTRY_TIMEOUT_MS: registryTimeoutMs,
      PLENUM_REGISTRY_RETRIES: '0',
      PLENUM_REGISTRY_OUTAGE_POLICY: 'grace',
      PLENUM_REGISTRY_GRACE_MINUTES: '30',
      PLENUM_REGISTRY_CACHE_TTL_SECONDS: '0',
      PLENUM_REVALIDATE_INTERVAL_SECONDS: '0',
      PLENUM_IDENTITY_ISSUER: IDP_ISSUER,
      PLENUM_IDENTITY_AUDIENCE: IDP_AUDIENCE,
      PLENUM_IDENTITY_JWKS_URL: jwks.url,
    });
    await s.accreditation.service.sessions.upsert({ sessionId: 'crm-plenary', eventId: 'crm-event', title: 'Plenary', open: true, lobby: false });
    return s;
  };
  /** Joins through the real /api/join flow and leaves; answers the resume token the join handed out. */
  const joinedOnce = async (s: MeetingServer, email: string): Promise<string> => {
    const res = await fetch(`${s.url}/api/join`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identityToken: idToken(key, { email }), sessionId: 'crm-plenary' }),
    });
    expect(res.status).toBe(200);
    const socket = track(await connectSignaling(s.url, ((await res.json()) as { joinToken: string }).joinToken));
    const caps = (await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {})) as Ok<{ rtpCapabilities: object }>;
    const joined = (await call<{ resumeToken: string }>(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities })) as Ok<{ resumeToken: string }>;
    socket.close();
    return joined.data.resumeToken;
  };

  it('2.4 a resume whose registry check outlasts the handshake window answers UNAVAILABLE (retry), not a cut connection', async () => {
    // A registry timeout (30 s) longer than the handshake window (10 s), and a CRM that never answers.
    const slow = await startCrmServer('30000');
    try {
      const resumeToken = await joinedOnce(slow, 'delegate4@example.org');
      await crm.control({ mode: 'hang' });
      const refused = (await connectSignaling(slow.url, resumeToken).catch((e: unknown) => e)) as ConnectError;
      expect(refused.data).toMatchObject({ code: ErrorCode.UNAVAILABLE });
    } finally {
      await crm.control({ mode: 'ok' });
      await slow.close();
    }
  }, 60_000);
  afterAll(async () => {
    await crmServer?.close();
    await jwks?.close();
    crm?.stop();
  });

  it('2.4 during a registry outage a resume is admitted within the grace window of the last definite answer, and refused past it', async () => {
    const resumeToken = await joinedOnce(crmServer, 'delegate3@example.org');
    // The same person and grants, but last confirmed by the registry 31 minutes ago (signed with the server's secret).
    const payload = jwt.decode(resumeToken) as jwt.JwtPayload & { grants: Parameters<MeetingServer['tokens']['issue']>[1] };
    const stale = crmServer.tokens.issue(payload.sub!, payload.grants, 'resume', { confirmedAt: Date.now() - 31 * 60_000 });

    await crm.control({ mode: 'error500' });
    try {
      const outside = (await connectSignaling(crmServer.url, stale).catch((e: unknown) => e)) as ConnectError;
      expect(outside.data).toMatchObject({ code: ErrorCode.UNAVAILABLE });
      track(await connectSignaling(crmServer.url, resumeToken));
    } finally {
      await crm.control({ mode: 'ok' });
    }
  });
});

import { Manager, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { opusRtpParameters, requestJoinAs, tryProduce } from '../helpers/accreditation-client.js';
import { call, connectSignaling } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

// Issue 10, part 3: the real-time side probed as an attacker would, beyond the listed items. A real server
// (in process, real mediasoup worker), real join tokens from /api/join (demo event), real sockets.

const ADMIN_KEY = 'admin-api-key-admin-api-key-0123456789';
const PLENARY = 'demo-plenary'; // languages en, fr, es, ar; open floor
const MEMBER_STATES = 'demo-member-states';

let server: MeetingServer;
const sockets: Socket[] = [];
const managers: Manager[] = [];
const track = (s: Socket): Socket => (sockets.push(s), s);

type Ok<T> = { ok: true; data: T };
type ConnectError = Error & { data?: { code: string; message: string } };

const code = (answer: { ok: boolean; error?: { code: string } }): string => (answer.ok ? 'ok' : answer.error!.code);

async function joinToken(url: string, email: string, session: string): Promise<string> {
  const answer = await requestJoinAs(url, email, session);
  if (answer.status !== 200) throw new Error(`join ${email}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.joinToken as string;
}

async function connectAndJoin(url: string, token: string): Promise<{ socket: Socket; resumeToken: string }> {
  const socket = track(await connectSignaling(url, token));
  const caps = (await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {})) as Ok<{ rtpCapabilities: object }>;
  const joined = await call<{ resumeToken: string }>(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities });
  if (!joined.ok) throw new Error(`join: ${joined.error.code}`);
  return { socket, resumeToken: joined.data.resumeToken };
}

const joinAs = async (email: string, session = PLENARY) => connectAndJoin(server.url, await joinToken(server.url, email, session));

/** Connects with a token; answers whether it was admitted, or the refusal (its code, when it reached the token checks). */
async function attempt(url: string, token: string): Promise<{ admitted: boolean; code?: string; message?: string }> {
  try {
    track(await connectSignaling(url, token));
    return { admitted: true };
  } catch (error) {
    const e = error as ConnectError;
    return { admitted: false, code: e.data?.code, message: e.data?.message ?? e.message };
  }
}

/** An engine.io connection that never presents a token (what an attacker parks on the server). */
async function openBare(url: string, extraHeaders?: Record<string, string>): Promise<Manager | Error> {
  const manager = new Manager(url, { path: '/signaling', transports: ['websocket'], reconnection: false, autoConnect: false, extraHeaders });
  managers.push(manager);
  return new Promise((resolve) => manager.open((error) => resolve(error ?? manager)));
}

async function resumesAudited(personId: string): Promise<number> {
  const { records } = await server.accreditation.service.audit.query({ personId, limit: 1000 });
  return records.filter((r) => r.reasons.includes('RESUME')).length;
}

beforeAll(async () => {
  server = await startTestServer({
    PLENUM_DEV_MODE: 'false',
    PLENUM_DEMO: 'true',
    PLENUM_ADMIN_API_KEY: ADMIN_KEY,
    PLENUM_REVALIDATE_INTERVAL_SECONDS: '0',
    PLENUM_TRANSCRIPT_MAX_BYTES: '4096',
  });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  for (const m of managers) m.engine?.close();
  await server?.close();
});

describe('probe: the handshake', () => {
  let capped: MeetingServer;
  beforeAll(async () => {
    capped = await startTestServer({ PLENUM_DEV_MODE: 'false', PLENUM_DEMO: 'true', PLENUM_SIGNALING_MAX_PENDING_PER_ADDRESS: '4', PLENUM_REVALIDATE_INTERVAL_SECONDS: '0' });
  });
  afterAll(async () => {
    await capped?.close();
  });

  it('probe: one address cannot park sockets that never authenticate; a refused handshake closes its connection', async () => {
    const parked = await Promise.all(Array.from({ length: 4 }, () => openBare(capped.url)));
    expect(parked.every((m) => m instanceof Manager)).toBe(true);
    // The fifth is refused before socket.io allocates anything, and so is a real client from that address.
    expect(await openBare(capped.url)).toBeInstanceOf(Error);
    const token = await joinToken(capped.url, 'amina.odhiambo@demo.ke', PLENARY);
    expect(await attempt(capped.url, token)).toMatchObject({ admitted: false, code: undefined });

    // A parked connection that goes frees its slot; an admitted one stops counting as pending.
    (parked[0] as Manager).engine.close();
    await waitFor(async () => (await attempt(capped.url, token)).admitted, { what: 'a slot for the real client' });
    expect(await openBare(capped.url)).toBeInstanceOf(Manager);
    expect(await openBare(capped.url)).toBeInstanceOf(Error);

    // A refused token: the refusal arrives, then the server closes the connection at once (not after a timeout).
    (parked[1] as Manager).engine.close();
    const bad = await waitFor(async () => {
      const m = await openBare(capped.url);
      return m instanceof Manager ? m : undefined;
    }, { what: 'a free slot' });
    // Spoken raw, as an attacker's client would, which does not hang up by itself: a CONNECT with a bad token.
    const closed = nextEvent(bad.engine, 'close', 5000);
    const refused = nextEvent<[string]>(bad.engine, 'message', 5000);
    bad.engine.send(`0${JSON.stringify({ token: 'not-a-token' })}`);
    expect((await refused)[0]).toMatch(/^4.*UNAUTHENTICATED/);
    await closed;
    expect(await openBare(capped.url)).toBeInstanceOf(Manager);
  });
});

describe('probe: the handshake behind a reverse proxy', () => {
  let proxied: MeetingServer;
  beforeAll(async () => {
    proxied = await startTestServer({ PLENUM_DEV_MODE: 'false', PLENUM_SIGNALING_MAX_PENDING_PER_ADDRESS: '2', PLENUM_TRUST_PROXY: 'loopback' });
  });
  afterAll(async () => {
    await proxied?.close();
  });

  it('probe: behind a trusted proxy the per-address cap counts each client, not the proxy', async () => {
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    expect(await openBare(proxied.url, from('203.0.113.1'))).toBeInstanceOf(Manager);
    expect(await openBare(proxied.url, from('203.0.113.1'))).toBeInstanceOf(Manager);
    // That client has used its share; another client behind the same proxy has not.
    expect(await openBare(proxied.url, from('203.0.113.1'))).toBeInstanceOf(Error);
    expect(await openBare(proxied.url, from('198.51.100.7'))).toBeInstanceOf(Manager);
  });
});

describe('probe: tokens', () => {
  it('probe: a spent, parallel or refused resume token never makes the registry and the audit trail work again', async () => {
    const { socket, resumeToken } = await joinAs('beatriz.souza@demo.br');
    socket.close();
    const resumed = await connectAndJoin(server.url, resumeToken);
    resumed.socket.close();
    expect(await resumesAudited('p-br-1')).toBe(1);

    // Replaying the spent token: refused, and no fresh registry lookup (each writes an audit line) is made for it.
    for (let i = 0; i < 8; i++) expect(await attempt(server.url, resumeToken)).toMatchObject({ code: ErrorCode.UNAUTHENTICATED });
    expect(await resumesAudited('p-br-1')).toBe(1);

    // The same unspent token on ten connections at once: one connection, one registry decision.
    const answers = await Promise.all(Array.from({ length: 10 }, () => attempt(server.url, resumed.resumeToken)));
    expect(answers.filter((a) => a.admitted)).toHaveLength(1);
    expect(answers.filter((a) => a.code === ErrorCode.UNAUTHENTICATED || a.code === ErrorCode.UNAVAILABLE)).toHaveLength(9);
    expect(await resumesAudited('p-br-1')).toBe(2);

    // A resume the registry now denies: refused once with the reason, then the token is dead here.
    const camille = await joinAs('camille.durand@demo.fr');
    camille.socket.close();
    const res = await fetch(`${server.url}/api/admin/events/${DEMO_EVENT_ID}/registrations/p-fr-1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY },
      body: JSON.stringify({ name: 'Camille Durand', email: 'camille.durand@demo.fr', entity: { name: 'France', type: 'member_state', countryCode: 'FR' }, role: 'delegate', status: 'withdrawn' }),
    });
    expect(res.status).toBe(200);
    expect(await attempt(server.url, camille.resumeToken)).toMatchObject({ code: ErrorCode.NOT_ACCREDITED });
    for (let i = 0; i < 5; i++) expect((await attempt(server.url, camille.resumeToken)).admitted).toBe(false);
    expect(await resumesAudited('p-fr-1')).toBe(1);
  });
});

describe('probe: messages', () => {
  it('probe: a validation error does not echo what the sender chose at length', async () => {
    const { socket } = await joinAs('lena.vogel@acme-telecom.example');
    const answer = await call(socket, 'createWebRtcTransport', { direction: 'send', ['k'.repeat(20_000)]: 1 });
    expect(code(answer)).toBe(ErrorCode.BAD_REQUEST);
    expect(answer.ok ? '' : answer.error.message.length).toBeLessThan(600);
  });

  it('probe: a captioner cannot grow a transcript without bound', async () => {
    const noor = (await joinAs('noor.rahman@captions.example')).socket;
    const line = 'word '.repeat(300); // 1,500 characters, the size of a long final caption
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(code(await call(noor, 'publishCaption', { language: 'en', text: line, final: true })));
    expect(answers.slice(0, 2)).toEqual(['ok', 'ok']);
    expect(answers.slice(2)).toEqual(Array(4).fill(ErrorCode.LIMIT_REACHED));
    // Live captions still flow; only storage stops.
    expect(code(await call(noor, 'publishCaption', { language: 'en', text: line, final: false }))).toBe('ok');
    const stored = await server.store.db.selectFrom('transcripts').select('text').where('session_id', '=', PLENARY).where('language', '=', 'en').execute();
    expect(stored).toHaveLength(2);
    expect(stored.reduce((n, r) => n + Buffer.byteLength(r.text), 0)).toBeLessThanOrEqual(4096);
  });

  it('probe: ids of another room or person, and grants not held, are refused (regression guard)', async () => {
    const sofia = (await joinAs('sofia.rossi@secretariat.example')).socket;
    const omar = (await joinAs('omar.haddad@openaccess.example')).socket; // observer: listens only
    const elodie = (await joinAs('elodie.martin@interpreters.example')).socket; // the French booth
    const haruto = (await joinAs('haruto.sato@demo.jp', MEMBER_STATES)).socket; // another room
    const transport = (await call<{ id: string }>(haruto, 'createWebRtcTransport', { direction: 'send' })) as Ok<{ id: string }>;
    const elsewhere = (await call<{ producerId: string }>(haruto, 'produce', { transportId: transport.data.id, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(9100) })) as Ok<{ producerId: string }>;
    expect(elsewhere.ok).toBe(true);

    // The secretariat of one room cannot reach a participant of another.
    for (const [method, data] of [
      ['muteParticipant', { participantId: 'p-jp-1' }],
      ['removeParticipant', { participantId: 'p-jp-1' }],
      ['stopVideo', { participantId: 'p-jp-1' }],
      ['addSpeaker', { participantId: 'p-jp-1' }],
      ['assignInterpreter', { participantId: 'p-jp-1', language: 'fr' }],
      ['admitFromLobby', { participantId: 'p-jp-1' }],
      ['assignInterpreter', { participantId: 'p-ngo-1', language: 'de' }], // a language the session does not have
    ] as const) {
      expect(code(await call(sofia, method, data)), method).toBe(ErrorCode.NOT_FOUND);
    }
    expect(code(await call(sofia, 'giveFloor', { participantId: 'p-jp-1' }))).toBe(ErrorCode.INVALID_STATE);
    expect(server.rooms.get(MEMBER_STATES)?.participants.has('p-jp-1')).toBe(true);

    // Another room's producer is not found, to consume or to control.
    expect(code(await call(omar, 'createWebRtcTransport', { direction: 'recv' }))).toBe('ok');
    expect(code(await call(omar, 'consume', { producerId: elsewhere.data.producerId }))).toBe(ErrorCode.NOT_FOUND);
    expect(code(await call(omar, 'pauseProducer', { producerId: elsewhere.data.producerId }))).toBe(ErrorCode.NOT_FOUND);
    expect(code(await call(sofia, 'closeProducer', { producerId: elsewhere.data.producerId }))).toBe(ErrorCode.NOT_FOUND);

    // Grants not held: an observer neither publishes, asks for the floor, captions nor chats in a booth.
    expect(code(await call(omar, 'createWebRtcTransport', { direction: 'send' }))).toBe(ErrorCode.FORBIDDEN);
    expect(code(await call(omar, 'requestFloor', {}))).toBe(ErrorCode.FORBIDDEN);
    expect(code(await call(omar, 'publishCaption', { language: 'fr', text: 'x', final: true }))).toBe(ErrorCode.FORBIDDEN);
    expect(code(await call(omar, 'boothChat', { language: 'fr', text: 'hello' }))).toBe(ErrorCode.FORBIDDEN);
    // An interpreter works only in her own booth.
    expect(code(await call(elodie, 'boothChat', { language: 'es', text: 'hola' }))).toBe(ErrorCode.FORBIDDEN);
    expect(code(await call(elodie, 'boothGoLive', { language: 'es' }))).toBe(ErrorCode.FORBIDDEN);
    expect(await tryProduce(elodie, 'es', 9101)).toBe(ErrorCode.FORBIDDEN);
    expect(await tryProduce(elodie, 'fr', 9102)).toBe('ok');
    expect(code(await call(elodie, 'boothChat', { language: 'fr', text: 'bonjour' }))).toBe('ok');
  });
});

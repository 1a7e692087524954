import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { joinedSocket, requestJoinAs, signInAs, tryProduce } from '../helpers/accreditation-client.js';
import { call } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { nextEvent, waitFor } from '../helpers/wait.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

const ADMIN_KEY = 'admin-api-key-admin-api-key-0123456789';
const HOOK_SECRET = 'outgoing-webhook-secret-0123456789abcdef';
const base = `/api/admin/events/${DEMO_EVENT_ID}`;
let server: MeetingServer;
let hooks: WebhookReceiver;
const sockets: Socket[] = [];
let secretariat: Socket | undefined;
const admin = { 'x-api-key': ADMIN_KEY };

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = admin) {
  const res = await fetch(`${server.url}${base}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as Record<string, unknown> & string };
}
const join = async (email: string, session: string): Promise<Socket> => {
  const s = await joinedSocket(server.url, email, session);
  sockets.push(s);
  return s;
};
const code = (a: { ok: boolean; error?: { code: string } }): string => (a.ok ? 'ok' : a.error!.code);

beforeAll(async () => {
  hooks = await WebhookReceiver.start(HOOK_SECRET);
  server = await startTestServer({
    PLENUM_DEV_MODE: 'false',
    PLENUM_ADMIN_API_KEY: ADMIN_KEY,
    PLENUM_WEBHOOK_URL: hooks.url,
    PLENUM_WEBHOOK_SECRET: HOOK_SECRET,
    PLENUM_WEBHOOK_BACKOFF_MS: '20',
  });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
  await hooks?.close();
});

describe('conduct: the secretariat API', () => {
  it('refuses callers who are not the secretariat', async () => {
    expect((await api('GET', '/meetings', undefined, {})).status).toBe(401);
    const delegate = await signInAs(server.url, 'brian.kamau@demo.ke');
    const res = await api('POST', '/sessions/demo-plenary/lifecycle', { action: 'close' }, { authorization: `Bearer ${delegate}` });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: { code: 'FORBIDDEN' } });
  });

  it('creates meetings and sessions; joining follows the lifecycle; invalid transitions are refused', async () => {
    const secretariat = await signInAs(server.url, 'sofia.rossi@secretariat.example');
    const auth = { authorization: `Bearer ${secretariat}` };
    expect((await api('PUT', '/meetings/wg-budget', { title: 'Working group on the budget' }, auth)).body).toMatchObject({ meeting: { meetingId: 'wg-budget' } });
    expect((await api('GET', '/meetings', undefined, auth)).body.meetings).toEqual([{ meetingId: 'wg-budget', eventId: DEMO_EVENT_ID, title: 'Working group on the budget' }]);
    const created = await api('PUT', '/sessions/wg-budget-1', {
      meetingId: 'wg-budget',
      title: 'Budget — first reading',
      status: 'scheduled',
      startsAt: '2026-12-01T09:00:00Z',
      lobby: false,
      floorControl: true,
      languages: ['en', 'fr'],
    }, auth);
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ session: { status: 'scheduled', floorControl: true } });
    expect((await api('PUT', '/sessions/bad', { title: 'x', lobby: false, status: 'paused' }, auth)).body).toMatchObject({ error: { code: 'BAD_REQUEST' } });

    expect((await requestJoinAs(server.url, 'brian.kamau@demo.ke', 'wg-budget-1')).body.reasons).toEqual(['SESSION_NOT_OPEN']);
    expect((await api('POST', '/sessions/wg-budget-1/lifecycle', { action: 'open' }, auth)).body).toEqual({ sessionId: 'wg-budget-1', status: 'open' });
    const brian = await join('brian.kamau@demo.ke', 'wg-budget-1');
    expect((await api('POST', '/sessions/wg-budget-1/lifecycle', { action: 'suspend' }, auth)).body.status).toBe('suspended');
    expect((await requestJoinAs(server.url, 'beatriz.souza@demo.br', 'wg-budget-1')).body.reasons).toEqual(['SESSION_SUSPENDED']);
    expect((await api('POST', '/sessions/wg-budget-1/lifecycle', { action: 'open' }, auth)).body).toMatchObject({ error: { code: 'INVALID_TRANSITION' } });
    expect((await api('POST', '/sessions/wg-budget-1/lifecycle', { action: 'resume' }, auth)).body.status).toBe('open');
    expect((await api('POST', '/sessions/wg-budget-1/lock', { locked: true }, auth)).body).toEqual({ sessionId: 'wg-budget-1', locked: true });
    expect((await requestJoinAs(server.url, 'beatriz.souza@demo.br', 'wg-budget-1')).body.reasons).toEqual(['SESSION_LOCKED']);
    expect(brian.connected).toBe(true); // those present stay
    expect((await api('POST', '/sessions/wg-budget-1/lock', { locked: false }, auth)).body.locked).toBe(false);

    // Closing ends everyone's media: the room closes and each participant is told why.
    const closed = nextEvent<[{ reason: string }]>(brian, 'roomClosed');
    const disconnected = nextEvent(brian, 'disconnect');
    expect((await api('POST', '/sessions/wg-budget-1/lifecycle', { action: 'close' }, auth)).body.status).toBe('closed');
    expect((await closed)[0]).toEqual({ reason: 'SESSION_CLOSED' });
    await disconnected;
    expect(server.rooms.get('wg-budget-1')).toBeUndefined();
    const reopen = await api('POST', '/sessions/wg-budget-1/lifecycle', { action: 'open' }, auth);
    expect(reopen.status).toBe(409);
    expect(reopen.body).toMatchObject({ error: { code: 'INVALID_TRANSITION' } });
    expect((await requestJoinAs(server.url, 'brian.kamau@demo.ke', 'wg-budget-1')).body.reasons).toEqual(['SESSION_CLOSED']);

    // Each event is its own delivery, so they may arrive in any order; all of them arrive, signed.
    const expected = ['participant.joined', 'participant.left', 'session.closed', 'session.opened', 'session.opened', 'session.suspended'];
    await waitFor(() => hooks.events.filter((e) => e.data.sessionId === 'wg-budget-1').length === expected.length, { what: 'six webhooks' });
    expect(hooks.events.filter((e) => e.data.sessionId === 'wg-budget-1').map((e) => e.type).sort()).toEqual(expected);
    expect(hooks.events.every((e) => e.validSignature)).toBe(true);
  });
});

describe('conduct: the floor over signaling', () => {
  it('a delegate is heard only while holding the floor; a point of order jumps the queue; only the secretariat conducts', async () => {
    const amina = await join('amina.odhiambo@demo.ke', 'demo-council');
    const brian = await join('brian.kamau@demo.ke', 'demo-council');
    const sofia = await join('sofia.rossi@secretariat.example', 'demo-council');
    const room = server.rooms.get('demo-council')!;
    const micOf = (id: string) => [...room.participants.get(id)!.endpoint.producers.values()].find((p) => p.kind === 'audio')!;

    expect(await tryProduce(amina, 'floor', 3001)).toBe('ok');
    expect(micOf('p-ke-1').paused).toBe(true); // no floor: the server holds the microphone closed
    expect(code(await call(amina, 'resumeProducer', { producerId: micOf('p-ke-1').id }))).toBe('FORBIDDEN');
    expect(await tryProduce(sofia, 'floor', 3002)).toBe('ok');
    expect(micOf('p-sec-1').paused).toBe(false); // the secretariat is always heard

    const seen: Array<{ queue: Array<{ id: string; kind: string }> }> = [];
    sofia.on('floorState', (s: (typeof seen)[number]) => seen.push(s));
    expect(code(await call(amina, 'requestFloor', { kind: 'speaker' }))).toBe('ok');
    expect(code(await call(brian, 'requestFloor', { kind: 'point_of_order' }))).toBe('ok');
    await waitFor(() => seen.at(-1)?.queue.length === 2, { what: 'the secretariat to see both requests' });
    expect(seen.at(-1)!.queue.map((e) => [e.id, e.kind])).toEqual([
      ['p-ke-2', 'point_of_order'],
      ['p-ke-1', 'speaker'],
    ]);
    secretariat = sofia;
    expect(code(await call(brian, 'giveFloor', { participantId: 'p-ke-2' }))).toBe('FORBIDDEN');
    expect(code(await call(brian, 'muteParticipant', { participantId: 'p-ke-1' }))).toBe('FORBIDDEN');

    expect(code(await call(sofia, 'giveFloor', { participantId: 'p-ke-1' }))).toBe('ok');
    await waitFor(() => !micOf('p-ke-1').paused, { what: "Amina's microphone to open" });
    expect(room.floor.state().speaker).toMatchObject({ id: 'p-ke-1', limitMs: 180_000 });
    expect(code(await call(sofia, 'takeFloor', {}))).toBe('ok');
    await waitFor(() => micOf('p-ke-1').paused, { what: "Amina's microphone to close" });

    // Mute and ask to unmute reach the participant.
    const muted = nextEvent<[{ action: string }]>(amina, 'moderated');
    expect(code(await call(sofia, 'muteParticipant', { participantId: 'p-ke-1' }))).toBe('ok');
    expect((await muted)[0]).toEqual({ action: 'muted' });
    const asked = nextEvent(amina, 'unmuteRequested');
    expect(code(await call(sofia, 'askToUnmute', { participantId: 'p-ke-1' }))).toBe('ok');
    await asked;

    await waitFor(() => hooks.types().includes('floor.taken'), { what: 'the floor.taken webhook' });
    expect(hooks.events.filter((e) => e.type.startsWith('floor.')).map((e) => [e.type, e.data.participantId])).toEqual([
      ['floor.given', 'p-ke-1'],
      ['floor.taken', 'p-ke-1'],
    ]);
  });

  it('attendance records who was present on behalf of which entity, from when to when; the quorum counts entities by type', async () => {
    const omar = await join('omar.haddad@openaccess.example', 'demo-council');
    const quorum = await api('GET', '/sessions/demo-council/quorum');
    expect(quorum.body).toMatchObject({
      byType: { member_state: { entities: ['Kenya'], count: 1 }, secretariat: { count: 1 }, non_governmental_organization: { count: 1 } },
      total: 3,
    });
    const left = nextEvent(omar, 'disconnect');
    omar.close();
    await left;
    await waitFor(async () => ((await api('GET', '/sessions/demo-council/attendance')).body.attendance as Array<{ personId: string; to?: string }>).some((a) => a.personId === 'p-ngo-1' && a.to), {
      what: "Omar's departure in the attendance",
    });
    const csv = (await api('GET', '/sessions/demo-council/attendance?format=csv')).body as string;
    const rows = csv.trim().split('\r\n');
    expect(rows[0]).toBe('personId,name,entity,entityType,role,from,to');
    expect(rows.find((r) => r.startsWith('p-ngo-1,'))).toMatch(/^p-ngo-1,Omar Haddad,Open Access Network,non_governmental_organization,observer,\d{4}-.+Z,\d{4}-.+Z$/);
    expect(rows.find((r) => r.startsWith('p-ke-1,'))).toMatch(/^p-ke-1,Amina Odhiambo,Kenya,member_state,head_of_delegation,\d{4}-.+Z,$/);
  });

  it('retries a webhook the receiver refused, with the same id', async () => {
    const before = hooks.events.length;
    hooks.failNext = 2;
    const attempts = hooks.attempts;
    const s = await join('haruto.sato@demo.jp', 'demo-council');
    await waitFor(() => hooks.events.slice(before).some((e) => e.type === 'participant.joined' && e.data.participantId === 'p-jp-1'), { what: 'the retried webhook' });
    expect(hooks.attempts - attempts).toBeGreaterThanOrEqual(3);
    s.close();
  });

  it('the secretariat reorders and removes speakers; delegates cannot', async () => {
    const room = server.rooms.get('demo-council')!;
    const sofia = secretariat!;
    const camille = await join('camille.durand@demo.fr', 'demo-council');
    expect(code(await call(camille, 'requestFloor', {}))).toBe('ok');
    expect(code(await call(sofia, 'addSpeaker', { participantId: 'p-ke-1' }))).toBe('ok');
    expect(room.floor.state().queue.map((e) => e.id)).toEqual(['p-ke-2', 'p-fr-1', 'p-ke-1']);
    expect(code(await call(sofia, 'moveSpeaker', { participantId: 'p-ke-1', position: 0 }))).toBe('ok');
    expect(code(await call(camille, 'moveSpeaker', { participantId: 'p-fr-1', position: 0 }))).toBe('FORBIDDEN');
    expect(code(await call(sofia, 'removeSpeaker', { participantId: 'p-ke-2' }))).toBe('ok');
    expect(room.floor.state().queue.map((e) => e.id)).toEqual(['p-ke-1', 'p-fr-1']);
    expect((await api('GET', '/sessions/demo-council/floor')).body).toMatchObject({ controlled: true, queue: [{ id: 'p-ke-1' }, { id: 'p-fr-1' }] });
  });
});

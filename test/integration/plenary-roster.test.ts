import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import type { PeerInfo, PeersPage, QuorumView, ResponseData, ServerEvents } from '../../protocol/signaling.js';
import type { JoinGrants } from '../../server/auth/join-token.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { grants } from '../helpers/grants.js';
import { call, connectSignaling } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

// A plenary of 200 on real sockets (socket.io-client against the real server, real signed join tokens):
// the join answer carries a first page and the count, the rest is paged and searched, and joins and leaves
// reach the room in batches (peersChanged), not one event per peer.

const ROOM = 'plenary-roster';
const ENTITIES = ['Kenya', 'Ghana', 'Brazil', 'Norway', 'Japan', 'Chile', 'Egypt', 'Fiji'];
const BATCH_MS = 250;

let server: MeetingServer;
const sockets: Socket[] = [];
let rtpCapabilities: unknown;

type Ok<T> = { ok: true; data: T };

beforeAll(async () => {
  server = await startTestServer({
    PLENUM_ROSTER_BATCH_MS: String(BATCH_MS),
    // 250 sockets from one address, opened in parallel groups.
    PLENUM_SIGNALING_MAX_PENDING_PER_ADDRESS: '0',
    PLENUM_SIGNALING_RATE_PER_SECOND: '100',
    PLENUM_SIGNALING_RATE_BURST: '200',
  });
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
});

function delegate(i: number, overrides: Partial<JoinGrants> = {}): JoinGrants {
  const entity = ENTITIES[i % ENTITIES.length]!;
  // A few were admitted under the registry-outage grace policy (the secretariat's accreditation filter finds them).
  const accreditation = { status: 'approved', source: i % 40 === 3 ? 'grace' : 'live' };
  return grants({ room: ROOM, person: `d-${i}`, name: `Delegate ${String(i).padStart(3, '0')}`, entity: { name: entity, type: 'member_state' }, accreditation, ...overrides });
}

async function connect(g: JoinGrants): Promise<Socket> {
  const socket = await connectSignaling(server.url, server.tokens.issue(g.person, g));
  sockets.push(socket);
  return socket;
}

async function joinRoom(socket: Socket): Promise<ResponseData['join']> {
  rtpCapabilities ??= ((await call<{ rtpCapabilities: unknown }>(socket, 'getRouterRtpCapabilities', {})) as Ok<{ rtpCapabilities: unknown }>).data.rtpCapabilities;
  const answer = await call<ResponseData['join']>(socket, 'join', { rtpCapabilities });
  if (!answer.ok) throw new Error(`join refused: ${answer.error.code} ${answer.error.message}`);
  return answer.data;
}

/** Connects and joins these people, a group at a time. */
async function joinAll(people: JoinGrants[], group = 25): Promise<Socket[]> {
  const out: Socket[] = [];
  for (let i = 0; i < people.length; i += group) {
    const batch = await Promise.all(people.slice(i, i + group).map(async (g) => {
      const s = await connect(g);
      await joinRoom(s);
      return s;
    }));
    out.push(...batch);
  }
  return out;
}

function record<E extends keyof ServerEvents>(socket: Socket, event: E): Array<ServerEvents[E]> {
  const seen: Array<ServerEvents[E]> = [];
  socket.on(event as string, (data: ServerEvents[E]) => seen.push(data));
  return seen;
}

async function getPeers(socket: Socket, query: Record<string, unknown>): Promise<PeersPage> {
  const answer = await call<PeersPage>(socket, 'getPeers', query);
  if (!answer.ok) throw new Error(`getPeers refused: ${answer.error.code} ${answer.error.message}`);
  return answer.data;
}

const code = (answer: { ok: boolean; error?: { code: string } }): string => (answer.ok ? 'ok' : answer.error!.code);

describe('plenary: a roster that does not grow with the room', () => {
  let chair: Socket;
  let joiner: Socket;
  let joined: ResponseData['join'];
  const allIds = new Set<string>();

  beforeAll(async () => {
    // The chair conducts (the moderate grant); 198 delegates; then the 200th joins and reads its answer.
    chair = await connect(grants({ room: ROOM, person: 'chair', name: 'Zora Chair', role: 'chair', moderate: true, entity: { name: 'Secretariat', type: 'secretariat' } }));
    await joinRoom(chair);
    allIds.add('chair');
    const people = Array.from({ length: 198 }, (_, i) => delegate(i));
    await joinAll(people);
    for (const p of people) allIds.add(p.person);
    // Delegate 150 holds the floor: listed first, before the chair.
    expect(code(await call(chair, 'addSpeaker', { participantId: 'd-150' }))).toBe('ok');
    expect(code(await call(chair, 'giveFloor', { participantId: 'd-150' }))).toBe('ok');
    joiner = await connect(grants({ room: ROOM, person: 'joiner', name: 'Ana Joiner', entity: { name: 'Kenya', type: 'member_state' } }));
    const early = record(joiner, 'peersChanged');
    joined = await joinRoom(joiner);
    allIds.add('joiner');
    // Its own join comes back in a batch too (the SDK skips itself): settled before the tests count batches.
    await waitFor(() => early.some((b) => b.joined.some((p) => p.id === 'joiner')), { what: "the joiner's own batch" });
  }, 120_000);

  it("a joiner's answer holds the first page (at most 50, the floor holder and the chair first, not itself) and the count", () => {
    expect(server.rooms.get(ROOM)!.participants.size).toBe(200);
    expect(joined.peers.length).toBeLessThanOrEqual(50);
    expect(joined.peers.length).toBeGreaterThan(0);
    expect(joined.peersTotal).toBe(200);
    expect(joined.peersNextCursor).toEqual(expect.any(String));
    expect(joined.peers.map((p) => p.id)).not.toContain('joiner');
    expect(joined.peers[0]!.id).toBe('d-150');
    expect(joined.peers[1]).toMatchObject({ id: 'chair', conducting: true });
    // Everyone else by name.
    const names = joined.peers.slice(2).map((p) => p.name.toLowerCase());
    expect(names).toEqual([...names].sort());
  });

  it('getPeers pages through all 200 without duplicates, from the start or from the join answer', async () => {
    for (const limit of [100, 37]) {
      const seen: string[] = [];
      let cursor: string | null | undefined;
      let pages = 0;
      do {
        const page = await getPeers(joiner, cursor ? { limit, cursor } : { limit });
        expect(page.total).toBe(200);
        expect(page.peers.length).toBeLessThanOrEqual(limit);
        seen.push(...page.peers.map((p) => p.id));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor);
      expect(pages).toBe(Math.ceil(200 / limit));
      expect(seen).toHaveLength(200);
      expect(new Set(seen)).toEqual(allIds);
    }
    // The join answer's cursor continues where its page stopped: with it, everyone but the joiner.
    const rest: string[] = [];
    for (let cursor = joined.peersNextCursor; cursor; ) {
      const page = await getPeers(joiner, { cursor, limit: 100 });
      rest.push(...page.peers.map((p) => p.id));
      cursor = page.nextCursor;
    }
    const together = [...joined.peers.map((p) => p.id), ...rest].filter((id) => id !== 'joiner');
    expect(together).toHaveLength(199);
    expect(new Set(together).size).toBe(199);
  });

  it('search finds by entity or name (case-insensitive), and filters by entity and role', async () => {
    const ghana = await getPeers(joiner, { search: 'gHaNa', limit: 100 });
    const expected = [...allIds].filter((id) => id.startsWith('d-') && Number(id.slice(2)) % ENTITIES.length === 1);
    expect(ghana.total).toBe(expected.length);
    expect(ghana.peers.map((p) => p.id).sort()).toEqual(expected.sort());
    expect(ghana.peers.every((p: PeerInfo) => p.entity.name === 'Ghana')).toBe(true);
    expect(ghana.nextCursor).toBeNull();

    const byName = await getPeers(joiner, { search: 'delegate 04', limit: 50 });
    expect(byName.peers.map((p) => p.name).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `Delegate 04${i}`));

    const kenya = await getPeers(joiner, { entity: 'kenya', limit: 100 });
    expect(kenya.peers.every((p) => p.entity.name === 'Kenya')).toBe(true);
    expect(kenya.peers.map((p) => p.id)).toContain('joiner');

    const chairs = await getPeers(joiner, { role: 'chair', limit: 10 });
    expect(chairs).toEqual({ peers: [expect.objectContaining({ id: 'chair' })], nextCursor: null, total: 1 });

    // Paging a search: two pages of a filtered roster, no duplicates.
    const first = await getPeers(joiner, { search: 'ghana', limit: 10 });
    const second = await getPeers(joiner, { search: 'ghana', limit: 10, cursor: first.nextCursor });
    expect(new Set([...first.peers, ...second.peers].map((p) => p.id)).size).toBe(20);
  });

  it("the secretariat's roster filters by how accreditation was confirmed; other participants cannot ask", async () => {
    const graced = await call<ResponseData['getRoster']>(chair, 'getRoster', { accreditation: 'grace', limit: 100 });
    expect(graced.ok).toBe(true);
    const page = (graced as Ok<ResponseData['getRoster']>).data;
    expect(page.participants.map((p) => p.id).sort()).toEqual(['d-123', 'd-163', 'd-3', 'd-43', 'd-83']);
    expect(page.total).toBe(5);
    expect(page.participants.every((p) => p.accreditation.source === 'grace')).toBe(true);
    const cached = await call<ResponseData['getRoster']>(chair, 'getRoster', { accreditation: 'cache', limit: 100 });
    expect((cached as Ok<ResponseData['getRoster']>).data.total).toBe(0);
    expect(code(await call(chair, 'getRoster', { accreditation: 'Grace!', limit: 10 }))).toBe(ErrorCode.BAD_REQUEST);
    // Not a filter of the participants' own roster (getPeers), nor open to them through getRoster.
    expect(code(await call(joiner, 'getPeers', { accreditation: 'grace', limit: 10 }))).toBe(ErrorCode.BAD_REQUEST);
    expect(code(await call(joiner, 'getRoster', { accreditation: 'grace', limit: 10 }))).toBe(ErrorCode.FORBIDDEN);
  });

  it('refuses what is out of bounds with stable codes', async () => {
    expect(code(await call(joiner, 'getPeers', { limit: 101 }))).toBe(ErrorCode.BAD_REQUEST);
    expect(code(await call(joiner, 'getPeers', { limit: 10, search: 'x'.repeat(65) }))).toBe(ErrorCode.BAD_REQUEST);
    expect(code(await call(joiner, 'getPeers', { limit: 10, cursor: 'not-a-cursor' }))).toBe(ErrorCode.BAD_REQUEST);
    expect(code(await call(joiner, 'getPeers', { limit: 10, cursor: Buffer.from('[7,"a","b"]').toString('base64url') }))).toBe(ErrorCode.BAD_REQUEST);
    expect(code(await call(joiner, 'getPeers', { limit: 10, extra: true }))).toBe(ErrorCode.BAD_REQUEST);
    const outsider = await connect(grants({ room: ROOM, person: 'not-joined' }));
    expect(code(await call(outsider, 'getPeers', { limit: 10 }))).toBe(ErrorCode.NOT_JOINED);
    outsider.close();
  });

  it('a burst of 50 joins reaches an observer as a handful of peersChanged batches, and moderators as a handful of counts', async () => {
    const batches = record(joiner, 'peersChanged');
    const perPeer = [record(joiner, 'peerJoined' as keyof ServerEvents), record(joiner, 'peerLeft' as keyof ServerEvents)];
    const quorums = record(chair, 'quorum');
    // Connected first (the handshakes), then the 50 joins at once.
    const burst = Array.from({ length: 50 }, (_, i) => delegate(1000 + i));
    const ready = await Promise.all(burst.map((g) => connect(g)));
    await Promise.all(ready.map((s) => joinRoom(s)));
    const ids = new Set(burst.map((g) => g.person));
    const announced = (): string[] => batches.flatMap((b) => b.joined.map((p) => p.id));
    await waitFor(() => [...ids].every((id) => announced().includes(id)), { what: 'all 50 joins announced' });
    await waitFor(() => quorums.some((q: QuorumView) => q.total > 0 && batches.length > 0), { what: 'the chair to get a count' });

    expect(batches.length).toBeGreaterThan(0);
    expect(batches.length).toBeLessThan(25);
    expect(quorums.length).toBeLessThan(25);
    expect(perPeer.flat()).toHaveLength(0);
    // Each burst id exactly once, nobody else, nobody left; the count follows the room.
    expect(announced().sort()).toEqual([...ids].sort());
    expect(batches.flatMap((b) => b.left)).toEqual([]);
    expect(batches.at(-1)!.total).toBe(250);
    for (const b of batches) for (const p of b.joined) expect(p).toMatchObject({ name: expect.stringMatching(/^Delegate 1\d{3}$/), entity: { type: 'member_state' } });
    // Delegate 100…109 and the 50 of the burst (Delegate 1000…1049).
    expect((await getPeers(joiner, { search: 'delegate 10', limit: 100 })).total).toBe(60);
    expect((await getPeers(joiner, { limit: 1 })).total).toBe(250);
  });

  it('a peer that joins and leaves within one batch appears in neither list; a later leave is announced', async () => {
    const batches = record(joiner, 'peersChanged');
    // The transient and the marker are connected first, so that join and leave are a few ms apart.
    const transient = await connect(delegate(2000, { name: 'Transient Visitor' }));
    const marker = await connect(delegate(2001, { name: 'Marker Delegate' }));
    await joinRoom(transient);
    expect(code(await call(transient, 'leave', {}))).toBe('ok');
    await joinRoom(marker);
    await waitFor(() => batches.some((b) => b.joined.some((p) => p.id === 'd-2001')), { what: 'the marker announced' });
    expect(batches.flatMap((b) => b.joined.map((p) => p.id))).not.toContain('d-2000');
    expect(batches.flatMap((b) => b.left)).not.toContain('d-2000');

    // The marker leaves in a batch of its own: announced as left, with the count down by one.
    const before = batches.length;
    expect(code(await call(marker, 'leave', {}))).toBe('ok');
    const left = await waitFor(() => batches.slice(before).find((b) => b.left.includes('d-2001')), { what: "the marker's leave announced" });
    expect(left.joined).toEqual([]);
    expect(left.total).toBe(250);
  });
});

import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { post, requestJoinAs, tryProduce } from '../helpers/accreditation-client.js';
import { roomTopic } from '../../server/cascade/cascade-protocol.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { CLUSTER_SECRET, RedisProcess } from '../helpers/redis-process.js';
import { RtpInjector, RtpSink } from '../helpers/rtp.js';
import { call, connectFollowing } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

// Three real server nodes (in this process, each with its own mediasoup worker) on one real redis-server.
// The origin sends every listener to an edge node (PLENUM_CASCADE_AFTER_LISTENERS=0), so the smallest room
// cascades. Node has no WebRTC: the delegate's producer is created through signaling as a browser's is, and
// the RTP that crosses the nodes comes from a PlainTransport talker announced as the delegate's microphone.

const SECRET = 'a-join-token-secret-shared-by-the-cluster-0123';
const ADMIN_KEY = 'an-admin-api-key-for-the-cascade-test-0123456789';
const ROOM = 'demo-plenary';
const AMINA = 'amina.odhiambo@demo.ke';
const OMAR = 'omar.haddad@openaccess.example';
let redis: RedisProcess;
const nodes: MeetingServer[] = [];
const sockets: Socket[] = [];

const nodeAt = (url: string): MeetingServer => nodes.find((n) => n.url === url)!;
const nodeIdOf = (n: MeetingServer): string => n.membership.coordinator.nodeId;

type Event = { event: string; data: Record<string, unknown> };
function record(socket: Socket): Event[] {
  const events: Event[] = [];
  socket.onAny((event: string, data: Record<string, unknown>) => events.push({ event, data }));
  return events;
}

async function connectAs(email: string, session: string, startAt: string): Promise<{ socket: Socket; url: string; redirects: string[] }> {
  const answer = await requestJoinAs(startAt, email, session);
  expect(answer.status).toBe(200);
  const connected = await connectFollowing(startAt, answer.body.joinToken);
  sockets.push(connected.socket);
  return connected;
}

async function join(socket: Socket): Promise<Record<string, unknown>> {
  const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
  if (!caps.ok) throw new Error(caps.error.code);
  const joined = await call<Record<string, unknown>>(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities });
  if (!joined.ok) throw new Error(joined.error.code);
  return joined.data;
}

let postgres: PostgresProcess | undefined;
beforeAll(async () => {
  redis = await RedisProcess.start();
  postgres = await PostgresProcess.start();
  for (const id of ['node-a', 'node-b', 'node-c']) {
    nodes.push(
      await startTestServer({
        PLENUM_DEV_MODE: 'false',
        PLENUM_NODE_ID: id,
        PLENUM_REDIS_URL: redis.url,
        PLENUM_DATABASE_URL: postgres.url,
        PLENUM_JOIN_TOKEN_SECRET: SECRET,
        PLENUM_CLUSTER_SECRET: CLUSTER_SECRET,
        PLENUM_HEARTBEAT_INTERVAL_MS: '200',
        PLENUM_ROOM_LEASE_TTL_MS: '1500',
        PLENUM_CASCADE_AFTER_LISTENERS: '0',
        PLENUM_ADMIN_API_KEY: ADMIN_KEY,
        PLENUM_EMBEDDED_IDP_SECRET: 'an-embedded-idp-secret-shared-0123456789',
      }),
    );
  }
  await waitFor(async () => (await nodes[0]!.membership.coordinator.liveNodes()).length === 3, { what: 'three live nodes' });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  for (const n of nodes) await n.close();
  await redis?.kill();
  await postgres?.stop();
});

let origin: MeetingServer;
let edge: MeetingServer;
let listener: Socket;
let listenerEvents: Event[];

describe('cluster: a room cascades from its origin node to edge nodes', () => {
  it("a listener on another node receives the origin's producers through a pipe; pause and close follow", async () => {
    const delegate = await connectAs(AMINA, ROOM, nodes[0]!.url);
    origin = nodeAt(delegate.url);
    await join(delegate.socket);
    expect(await tryProduce(delegate.socket, 'floor', 1111)).toBe('ok');

    // The listener asks the origin, which sends them to another node; that node serves the room as an edge.
    const omar = await connectAs(OMAR, ROOM, origin.url);
    expect(omar.redirects).toHaveLength(1);
    expect(omar.url).not.toBe(origin.url);
    edge = nodeAt(omar.url);
    listener = omar.socket;
    listenerEvents = record(listener);
    const joined = (await join(listener)) as { peers: Array<{ id: string; entity: { name: string } }>; producers: Array<{ producerId: string; peerId: string }>; channels: Array<{ language: string }> };
    expect(edge.rooms.get(ROOM)?.isEdge).toBe(true);
    expect(joined.peers).toEqual([expect.objectContaining({ id: 'p-ke-1', entity: expect.objectContaining({ name: 'Kenya' }) })]);
    expect(joined.producers).toEqual([expect.objectContaining({ peerId: 'p-ke-1' })]);
    expect(joined.channels.map((c) => c.language)).toEqual(['en', 'fr', 'es', 'ar']);
    expect(origin.cascade.edgesOf(ROOM)).toEqual([nodeIdOf(edge)]);
    // The delegate's own producer (known from the snapshot) is piped in when the listener consumes it.
    const recv = await call<{ id: string }>(listener, 'createWebRtcTransport', { direction: 'recv' });
    expect(recv.ok).toBe(true);
    const microphone = joined.producers[0]!.producerId;
    expect(await call(listener, 'consume', { producerId: microphone })).toMatchObject({ ok: true, data: { producerId: microphone, peerId: 'p-ke-1' } });
    expect(edge.rooms.get(ROOM)!.media.findProducer(microphone)).toBeDefined();

    // A talker on the origin, announced as Amina's microphone the way the produce handler announces one.
    const originRoom = origin.rooms.get(ROOM)!;
    const amina = originRoom.participants.get('p-ke-1')!;
    const talker = await RtpInjector.create(originRoom.media.router, 4242, { channel: 'floor', source: 'mic', endpointId: amina.id });
    originRoom.media.addProducer(talker.producer);
    originRoom.announceProducer(amina, talker.producer);
    talker.start();
    const producerId = talker.producer.id;
    await waitFor(() => listenerEvents.some((e) => e.event === 'newProducer' && e.data.producerId === producerId), { what: 'newProducer relayed to the edge' });

    const consumed = await call<{ producerId: string; channel: string; peerId: string }>(listener, 'consume', { producerId });
    expect(consumed).toMatchObject({ ok: true, data: { producerId, channel: 'floor', peerId: 'p-ke-1' } });

    // The edge's router now carries the origin's producer under the same id; its RTP arrives on the edge node.
    const edgeRoom = edge.rooms.get(ROOM)!;
    const piped = edgeRoom.media.findProducer(producerId)!;
    expect(piped).toBeDefined();
    expect(edgeRoom.media.router).not.toBe(originRoom.media.router);
    const sink = await RtpSink.create(edgeRoom.media.router);
    await sink.consume(piped);
    await waitFor(() => sink.total >= 25, { what: 'RTP from the origin node on the edge node' });

    // A microphone's pause is mirrored on the edge's piped producer (clients are told of a camera's only).
    await talker.producer.pause();
    await waitFor(() => piped.paused, { what: 'the pause to reach the edge' });
    await talker.producer.resume();
    await waitFor(() => !piped.paused, { what: 'the resume to reach the edge' });

    talker.close();
    await waitFor(() => listenerEvents.some((e) => e.event === 'consumerClosed' && e.data.producerId === producerId), { what: "the listener's consumer to close" });
    expect(listenerEvents.some((e) => e.event === 'producerClosed' && e.data.producerId === producerId)).toBe(true);
    expect(edgeRoom.media.findProducer(producerId)).toBeUndefined();
    sink.close();
  });

  it('an edge serves listening only: other requests are refused, and a delegate is sent to the origin', async () => {
    expect(await call(listener, 'requestFloor', { kind: 'speaker' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await call(listener, 'getRoster', {})).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    const brian = await connectAs('brian.kamau@demo.ke', ROOM, edge.url);
    expect(brian.url).toBe(origin.url);
    await join(brian.socket);
    // Joins reach the edge's listeners in the origin's batches (peersChanged), not one event per peer.
    const joinedIn = (e: Event) => (e.event === 'peersChanged' ? (e.data.joined as Array<{ id: string }>) : []);
    const seen = await waitFor(() => listenerEvents.find((e) => joinedIn(e).some((p) => p.id === 'p-ke-2')), { what: 'the join relayed in a batch' });
    expect(joinedIn(seen).find((p) => p.id === 'p-ke-2')).toMatchObject({ name: 'Brian Kamau', entity: { name: 'Kenya' } });
    expect(seen.data.total).toBe(2);
    // The edge pages the mirrored roster for its listeners.
    const page = await call<{ peers: Array<{ id: string }>; total: number }>(listener, 'getPeers', { search: 'brian' });
    expect(page).toMatchObject({ ok: true, data: { total: 1, peers: [expect.objectContaining({ id: 'p-ke-2' })] } });
  });

  it('placement: a new room goes to the least loaded live node and never to a draining one', async () => {
    const idle = nodes.find((n) => n !== origin && n !== edge)!;
    const drain = (draining: boolean) => post(`${idle.url}/api/admin/cluster/drain`, { draining }, { 'x-api-key': ADMIN_KEY });
    expect((await post(`${idle.url}/api/admin/cluster/drain`, { draining: true })).status).toBe(401);
    expect((await drain(true)).status).toBe(200);
    // The idle node carries nothing, but it drains: a new room starting there goes elsewhere.
    const first = await connectAs('brian.kamau@demo.ke', 'demo-member-states', idle.url);
    expect(first.url).not.toBe(idle.url);

    expect((await drain(false)).status).toBe(200);
    const listed = (await (await fetch(`${idle.url}/api/admin/cluster/nodes`, { headers: { 'x-api-key': ADMIN_KEY } })).json()) as { nodes: Array<{ nodeId: string; consumers: number; draining: boolean }> };
    const loads = new Map(listed.nodes.map((n) => [n.nodeId, n]));
    expect(loads.get(nodeIdOf(idle))).toMatchObject({ consumers: 0, draining: false });
    expect(loads.get(nodeIdOf(origin))!.consumers).toBeGreaterThan(0);
    expect(loads.get(nodeIdOf(edge))!.consumers).toBeGreaterThan(0);
    // Back in service and the least loaded: the next new room lands there, wherever the client started.
    const second = await connectAs('camille.durand@demo.fr', 'demo-council', origin.url);
    expect(second.url).toBe(idle.url);
  });

  it('a late `closed` from an earlier owner of the room (a lower epoch) does not close the edge', async () => {
    const at = origin.cascade.streamOf(ROOM)!;
    expect(at.epoch).toBe(origin.ownership.leaseOf(ROOM)!.token);
    // Signed with the cluster key like any node's word, with the very next sequence number: only its epoch is old.
    await origin.bus.publish(roomTopic(ROOM), { epoch: at.epoch - 1, seq: at.seq + 1, message: { type: 'closed', reason: 'SESSION_CLOSED' } });
    // The origin's next event goes out on the same Redis connection after it: once it arrives, the late one was judged.
    origin.rooms.get(ROOM)!.broadcast('caption', { language: 'en', text: 'after the late close', final: true, at: Date.now() });
    await waitFor(() => listenerEvents.some((e) => e.event === 'caption' && e.data.text === 'after the late close'), { what: 'the next event on the edge' });
    expect(listenerEvents.some((e) => e.event === 'roomClosed')).toBe(false);
    expect(edge.rooms.get(ROOM)?.closed).toBe(false);
  });

  it('when the origin closes the session, the edge closes it for its listeners with the same reason', async () => {
    const closed = await post(`${origin.url}/api/admin/events/${DEMO_EVENT_ID}/sessions/${ROOM}/lifecycle`, { action: 'close' }, { 'x-api-key': ADMIN_KEY });
    expect(closed.status).toBe(200);
    await waitFor(() => listenerEvents.find((e) => e.event === 'roomClosed'), { what: 'roomClosed on the edge' });
    expect(listenerEvents.find((e) => e.event === 'roomClosed')!.data).toEqual({ reason: 'SESSION_CLOSED' });
    await waitFor(() => edge.rooms.get(ROOM) === undefined, { what: 'the edge room to go' });
    await waitFor(() => origin.cascade.edgesOf(ROOM).length === 0, { what: "the origin's pipe to close" });
  });
});

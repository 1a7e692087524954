import type { types } from 'mediasoup';
import type { Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { RoomMedia, type MediaEndpoint, type WorkerPool } from '../../media/index.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { AudioSelection } from '../../server/rooms/audio-selection.js';
import { opusRtpParameters, requestJoinAs, tryProduce } from '../helpers/accreditation-client.js';
import { clusterNodeEnv } from '../helpers/cluster-env.js';
import { startPool, testLimits, testLog } from '../helpers/media.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { RtpInjector, RtpSink } from '../helpers/rtp.js';
import { call, connectFollowing } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

// Publishers spread: a room's send transports go to the least loaded of its routers, on other workers once
// its routers carry PLENUM_ROUTER_MAX_PRODUCERS, and a producer is piped from the router it lives on to
// wherever it is consumed: another router of the room, the origin's level observers, an edge node.
// Real mediasoup workers; RTP from PlainTransport talkers, counted at PlainTransport sinks.

let pool: WorkerPool | undefined;
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  pool?.close();
  pool = undefined;
});

/** A publisher: an endpoint whose send transport the room placed, producing one microphone on it. */
async function publish(room: RoomMedia, id: string, ssrc: number): Promise<{ endpoint: MediaEndpoint; mic: types.Producer }> {
  const endpoint = room.createEndpoint(id);
  const transport = await endpoint.createWebRtcTransport('send');
  const mic = await endpoint.produce(transport.id, 'audio', opusRtpParameters(ssrc) as types.RtpParameters, { channel: 'floor', source: 'mic' });
  return { endpoint, mic };
}

/** A talker (RTP) on a given router of the room, registered as a producer living there. */
async function talkerOn(room: RoomMedia, router: types.Router, ssrc: number, audioLevel?: number): Promise<RtpInjector> {
  const talker = await RtpInjector.create(router, ssrc, { channel: 'floor', source: 'mic' }, audioLevel === undefined ? {} : { audioLevel });
  cleanup.push(() => talker.close());
  room.addProducer(talker.producer, router);
  return talker;
}

async function listenerOnOrigin(room: RoomMedia, id: string): Promise<MediaEndpoint> {
  const endpoint = room.createEndpoint(id);
  await endpoint.createWebRtcTransport('recv');
  return endpoint;
}

describe('plenary routers: publishers spread over a room\'s routers, across workers', () => {
  it('past the per-router limit, send transports land on routers of other workers, also in a parallel join wave', async () => {
    pool = await startPool({ numWorkers: 3 });
    const room = await RoomMedia.create(pool.workers[0]!, testLimits, testLog, { maxConsumersPerRouter: 100, maxProducersPerRouter: 2, pool });
    cleanup.push(() => room.close());

    // One after the other: two publishers fill the origin, the third opens a router on another worker, the fourth joins it.
    const first = [];
    for (let i = 0; i < 4; i++) first.push(await publish(room, `p${i}`, 0x100 + i));
    expect(room.routers.map((s) => s.producers)).toEqual([2, 2]);
    const [origin, second] = room.routers;
    expect(second!.worker).not.toBe(origin!.worker);
    expect(first.map((p) => room.producerRouter(p.mic.id))).toEqual([origin!.router, origin!.router, second!.router, second!.router]);
    expect(second!.worker.load.producers).toBe(2);

    // Six more at once, before any of them has produced: each send transport counts as a publisher from the moment
    // it is placed, so the wave fills the third worker's router (2), then shares the least loaded (all are full).
    const wave = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => room.createEndpoint(`w${i}`).createWebRtcTransport('send')));
    expect(wave).toHaveLength(6);
    expect(room.routers).toHaveLength(3);
    expect(new Set(room.routers.map((s) => s.worker)).size).toBe(3);
    expect(room.routers.map((s) => s.sendTransports)).toEqual([4, 3, 3]);
  });

  it('a router opened for a transport that could not be made closes again; the origin stays', async () => {
    pool = await startPool({ numWorkers: 2 });
    const room = await RoomMedia.create(pool.workers[0]!, testLimits, testLog, { maxConsumersPerRouter: 100, maxProducersPerRouter: 1, pool });
    cleanup.push(() => room.close());
    await publish(room, 'p0', 0x300);
    // The origin is full: the next send transport is placed on a new router of the other worker. Its
    // creation fails (here: it is never made, and the placement is released as the endpoint's finally does).
    const placed = await room.routerFor('send');
    expect(placed.router).not.toBe(room.router);
    const opened = placed.router;
    expect(opened.closed).toBe(false);
    placed.done!();
    expect(opened.closed).toBe(true);
    expect(room.router.closed).toBe(false);
    // The next publisher opens one again, and keeps it.
    const next = await publish(room, 'p1', 0x301);
    expect(room.producerRouter(next.mic.id)).not.toBe(room.router);
    expect(room.producerRouter(next.mic.id)!.closed).toBe(false);
  });

  it('a consumer on one router receives RTP from a producer living on another; the pipe leaves from the producer\'s router, once per router', async () => {
    pool = await startPool({ numWorkers: 3 });
    const room = await RoomMedia.create(pool.workers[0]!, testLimits, testLog, { maxConsumersPerRouter: 100, maxProducersPerRouter: 1, pool });
    cleanup.push(() => room.close());
    await publish(room, 'a', 0x200);
    const b = await publish(room, 'b', 0x201);
    await publish(room, 'c', 0x202);
    const [origin, routerB, routerC] = room.routers;
    expect(new Set([origin!.worker, routerB!.worker, routerC!.worker]).size).toBe(3);
    expect(room.producerRouter(b.mic.id)).toBe(routerB!.router);

    // A talker on router B (the WebRTC publisher's router), as its microphone would send.
    const talker = await talkerOn(room, routerB!.router, 0x7001);
    talker.start();
    expect(room.producerRouter(talker.producer.id)).toBe(routerB!.router);

    // Two listeners on the origin consume it: one pipe B -> origin (one pipe consumer on B's worker), both consumers on the origin.
    const bob = await listenerOnOrigin(room, 'bob');
    const carol = await listenerOnOrigin(room, 'carol');
    expect(origin!.recvTransports).toBe(2);
    const caps = room.rtpCapabilities;
    const consumers = [await bob.consume(talker.producer, caps), await carol.consume(talker.producer, caps)];
    expect(consumers.map((c) => c.producerId)).toEqual([talker.producer.id, talker.producer.id]);
    expect(origin!.consumers).toBe(2);
    expect(routerB!.worker.load.consumers).toBe(1);

    // Its RTP crosses the pipe: a sink on the origin receives it.
    const sink = await RtpSink.create(origin!.router);
    cleanup.push(() => sink.close());
    const sinkConsumer = await sink.consume(talker.producer);
    await waitFor(() => (sink.packetsBySsrc.get(sinkConsumer.rtpParameters.encodings![0]!.ssrc!) ?? 0) >= 20, { what: "RTP from router B at the origin's sink" });

    // Router C gets it from B, not through the origin: a second pipe consumer on B, none on the origin's worker.
    const originConsumersBefore = origin!.worker.load.consumers;
    await room.ensureProducerOn(talker.producer, routerC!.router);
    await room.ensureProducerOn(talker.producer, routerC!.router);
    expect(routerB!.worker.load.consumers).toBe(2);
    expect(origin!.worker.load.consumers).toBe(originConsumersBefore);
    const sinkC = await RtpSink.create(routerC!.router);
    cleanup.push(() => sinkC.close());
    await sinkC.consume(talker.producer);
    await waitFor(() => sinkC.total >= 20, { what: 'RTP from router B on router C' });

    // The producer closes: every piped copy and consumer goes with it.
    const closed = nextEvent(bob, 'consumerclose');
    talker.producer.close();
    await closed;
    await waitFor(() => routerB!.worker.load.consumers === 0 && carol.consumers.size === 0, { what: 'the pipes and consumers to close with the producer' });
    expect(room.findProducer(talker.producer.id)).toBeUndefined();
  });

  it('a floor microphone on a non-origin router is piped to the origin\'s level observers and drives the open floor', async () => {
    pool = await startPool({ numWorkers: 2 });
    const room = await RoomMedia.create(pool.workers[0]!, testLimits, testLog, { maxConsumersPerRouter: 100, maxProducersPerRouter: 1, pool });
    cleanup.push(() => room.close());
    await publish(room, 'a', 0x300);
    await publish(room, 'b', 0x301);
    const [origin, other] = room.routers;
    expect(other!.worker).not.toBe(origin!.worker);

    // One voice at a time, two microphones: a silent one on the origin, a loud one on the other worker's router.
    const options = { mode: 'selective' as const, voices: 1, holdMs: 300, intervalMs: 100, joinAfterIntervals: 2 };
    const selection = new AudioSelection(options, { controlled: false, mayBeHeard: () => true }, () => room.createAudioLevels({ intervalMs: 100, maxEntries: 4, thresholdDb: -70 }), testLog);
    cleanup.push(() => selection.close());
    const receiver = await listenerOnOrigin(room, 'receiver');
    // As the room does: an audible microphone is consumed by its receivers, an inaudible one's consumers close.
    selection.on('audible', (producer) => void receiver.consume(producer, room.rtpCapabilities));
    selection.on('inaudible', (producer) => [...receiver.consumers.values()].filter((c) => c.producerId === producer.id).forEach((c) => c.close()));
    const quiet = await talkerOn(room, origin!.router, 0x7101, 127);
    const loud = await talkerOn(room, other!.router, 0x7102, 10);
    // The quiet one, alone at first, is heard until the hold runs out; the loud one only once its levels are measured.
    selection.track(quiet.producer, 'quiet');
    selection.track(loud.producer, 'loud');
    expect(selection.audibleIds()).toEqual([quiet.producer.id]);
    quiet.start();
    loud.start();

    await waitFor(() => [...receiver.consumers.values()].some((c) => c.producerId === loud.producer.id), { timeoutMs: 20_000, what: "the loud microphone's consumer on the origin" });
    expect(selection.audibleIds()).toEqual([loud.producer.id]);
    expect([...receiver.consumers.values()].map((c) => c.producerId)).toEqual([loud.producer.id]);
  });

  it('closing the room closes every router; the death of a non-origin router\'s worker closes the room (clients reconnect)', async () => {
    pool = await startPool({ numWorkers: 3 });
    const room = await RoomMedia.create(pool.workers[0]!, testLimits, testLog, { maxConsumersPerRouter: 100, maxProducersPerRouter: 1, pool });
    for (let i = 0; i < 3; i++) await publish(room, `p${i}`, 0x400 + i);
    const routers = room.routers.map((s) => s.router);
    expect(routers).toHaveLength(3);
    const closed = nextEvent(room, 'close');
    room.close();
    expect(await closed).toEqual(['closed']);
    expect(routers.map((r) => r.closed)).toEqual([true, true, true]);
    expect(pool.workers.map((w) => w.load)).toEqual(pool.workers.map(() => ({ routers: 0, transports: 0, producers: 0, consumers: 0 })));

    const again = await RoomMedia.create(pool.workers[0]!, testLimits, testLog, { maxConsumersPerRouter: 100, maxProducersPerRouter: 1, pool });
    cleanup.push(() => again.close());
    await publish(again, 'a', 0x500);
    await publish(again, 'b', 0x501);
    const [origin, other] = again.routers;
    const died = nextEvent(again, 'close');
    process.kill(other!.worker.pid, 'SIGKILL');
    expect(await died).toEqual(['worker-died']);
    expect(origin!.router.closed).toBe(true);
  });
});

describe('plenary routers: the cascade to edge nodes finds a producer on any router of the origin room', () => {
  it('a listener on an edge node receives RTP from a producer living on a non-origin router of the origin node', async () => {
    const redis = await RedisProcess.start();
    const postgres = await PostgresProcess.start();
    cleanup.push(() => redis.kill(), () => postgres.stop());
    const nodes: MeetingServer[] = [];
    for (const id of ['routers-a', 'routers-b']) {
      const node = await startTestServer(
        clusterNodeEnv(id, { redisUrl: redis.url, databaseUrl: postgres.url }, { PLENUM_CASCADE_AFTER_LISTENERS: '0', PLENUM_MEDIA_WORKERS: '2', PLENUM_ROUTER_MAX_PRODUCERS: '1' }),
      );
      nodes.push(node);
      cleanup.push(() => node.close());
    }
    await waitFor(async () => (await nodes[0]!.membership.coordinator.liveNodes()).length === 2, { what: 'two live nodes' });
    const connect = async (email: string, at = nodes[0]!.url): Promise<{ socket: Socket; url: string }> => {
      const answer = await requestJoinAs(at, email, 'demo-plenary');
      expect(answer.status).toBe(200);
      const connected = await connectFollowing(at, answer.body.joinToken);
      cleanup.push(() => connected.socket.close());
      return connected;
    };
    const join = async (socket: Socket): Promise<void> => {
      const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
      if (!caps.ok) throw new Error(caps.error.code);
      const joined = await call(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities });
      if (!joined.ok) throw new Error(joined.error.code);
    };

    // Two delegates publish through signaling on the origin: the first fills the origin router, the second lands on the other worker's.
    const amina = await connect('amina.odhiambo@demo.ke');
    const origin = nodes.find((n) => n.url === amina.url)!;
    await join(amina.socket);
    expect(await tryProduce(amina.socket, 'floor', 1111)).toBe('ok');
    const brian = await connect('brian.kamau@demo.ke', origin.url);
    expect(brian.url).toBe(origin.url);
    await join(brian.socket);
    expect(await tryProduce(brian.socket, 'floor', 2222)).toBe('ok');
    const room = origin.rooms.get('demo-plenary')!;
    const [originSlot, other] = room.media.routers;
    expect(other).toBeDefined();
    expect(other!.worker).not.toBe(originSlot!.worker);
    const brianParticipant = room.participants.get('p-ke-2')!;
    const brianMic = [...brianParticipant.endpoint.producers.values()][0]!;
    expect(room.media.producerRouter(brianMic.id)).toBe(other!.router);

    // A talker on that router, announced as Brian's microphone the way the produce handler announces one.
    const talker = await RtpInjector.create(other!.router, 4343, { channel: 'floor', source: 'mic', endpointId: brianParticipant.id });
    cleanup.push(() => talker.close());
    room.media.addProducer(talker.producer, other!.router);
    room.announceProducer(brianParticipant, talker.producer);
    talker.start();

    // A listener is sent to the other node (an edge) and consumes it: the origin pipes it from its router to the edge node.
    const omar = await connect('omar.haddad@openaccess.example', origin.url);
    expect(omar.url).not.toBe(origin.url);
    await join(omar.socket);
    expect((await call(omar.socket, 'createWebRtcTransport', { direction: 'recv' })).ok).toBe(true);
    const edge = nodes.find((n) => n.url === omar.url)!;
    const edgeRoom = edge.rooms.get('demo-plenary')!;
    expect(edgeRoom.isEdge).toBe(true);
    const producerId = talker.producer.id;
    await waitFor(async () => (await call(omar.socket, 'consume', { producerId })).ok, { what: 'the listener to consume the talker on the edge' });
    const piped = edgeRoom.media.findProducer(producerId)!;
    expect(piped).toBeDefined();
    const sink = await RtpSink.create(edgeRoom.media.router);
    cleanup.push(() => sink.close());
    await sink.consume(piped);
    await waitFor(() => sink.total >= 25, { what: "RTP from the origin's non-origin router on the edge node" });
  });
});

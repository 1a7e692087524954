import { afterEach, describe, expect, it } from 'vitest';
import { RoomMedia, type WorkerPool } from '../../media/index.js';
import { startPool, testLimits, testLog } from '../helpers/media.js';
import { RtpInjector, RtpSink } from '../helpers/rtp.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

// Inside one node, a room spans workers: past a threshold of listener consumers on its origin router, new
// receive transports land on a router on another worker, which gets the producers by pipeToRouter.

let pool: WorkerPool | undefined;
afterEach(() => {
  pool?.close();
  pool = undefined;
});

describe('cluster, inside one node: a room spans mediasoup workers', () => {
  it('puts listeners past the threshold on another worker, pipes the producer there on demand, and tears the edge down when unused', async () => {
    pool = await startPool({ numWorkers: 2 });
    const room = await RoomMedia.create(pool.workers[0]!, testLimits, testLog, { maxConsumersPerRouter: 1, pool });
    const speaker = await RtpInjector.create(room.router, 0x7000, { channel: 'floor', source: 'mic' });
    speaker.start();
    const caps = room.rtpCapabilities;

    const alice = room.createEndpoint('alice');
    await alice.createWebRtcTransport('recv');
    await alice.consume(speaker.producer, caps);
    expect(room.routers.map((s) => [s.worker.index, s.consumers])).toEqual([[0, 1]]);

    const opened = nextEvent(room, 'edgeopened');
    const bob = room.createEndpoint('bob');
    await bob.createWebRtcTransport('recv');
    await opened;
    const bobConsumer = await bob.consume(speaker.producer, caps);
    const [origin, edge] = room.routers;
    expect(edge!.worker).not.toBe(origin!.worker);
    expect(room.routers.map((s) => [s.worker.index, s.consumers])).toEqual([
      [0, 1],
      [1, 1],
    ]);
    // The edge holds a pipe producer with the origin producer's id; Bob's consumer reads from it.
    expect(bobConsumer.producerId).toBe(speaker.producer.id);
    expect(edge!.worker.load.producers).toBe(1);

    // Media really crosses the pipe: a plain sink on the edge router receives the speaker's RTP.
    const sink = await RtpSink.create(edge!.router);
    const sinkConsumer = await sink.consume(speaker.producer);
    await waitFor(() => (sink.packetsBySsrc.get(sinkConsumer.rtpParameters.encodings![0]!.ssrc!) ?? 0) >= 20, { what: 'packets through the pipe' });
    sink.close();

    // A third listener: every worker already has a router of this room, so the least busy one is shared.
    const carol = room.createEndpoint('carol');
    await carol.createWebRtcTransport('recv');
    expect(room.routers).toHaveLength(2);
    expect(room.routers.map((s) => s.recvTransports)).toEqual([2, 1]);

    // The edge's listeners leave: its router closes, and with it the pipe.
    const closed = nextEvent(room, 'edgeclosed');
    bob.close();
    await closed;
    expect(room.routers).toHaveLength(1);
    expect(edge!.router.closed).toBe(true);
    expect(edge!.worker.load).toEqual({ routers: 0, transports: 0, producers: 0, consumers: 0 });
    expect(speaker.producer.closed).toBe(false);
    speaker.close();
    room.close();
  });

  it('closing the room closes its edge routers too', async () => {
    pool = await startPool({ numWorkers: 2 });
    const room = await RoomMedia.create(pool.workers[0]!, testLimits, testLog, { maxConsumersPerRouter: 0, pool });
    const a = room.createEndpoint('a');
    await a.createWebRtcTransport('recv');
    expect(room.routers.map((s) => s.worker.index).sort()).toEqual([0, 1]);
    room.close();
    expect(pool.workers.map((w) => w.load.routers)).toEqual([0, 0]);
  });
});

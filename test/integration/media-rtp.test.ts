import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RoomMedia, type WorkerPool } from '../../media/index.js';
import { startPool, testLimits, testLog } from '../helpers/media.js';
import { RtpInjector, RtpSink } from '../helpers/rtp.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

let pool: WorkerPool | undefined;
afterEach(() => {
  pool?.close();
  pool = undefined;
});

async function outboundPackets(stats: Promise<Array<{ type: string; packetCount?: number }>>): Promise<number> {
  return (await stats).filter((s) => s.type === 'outbound-rtp').reduce((n, s) => n + (s.packetCount ?? 0), 0);
}

describe('media on real mediasoup workers', () => {
  it('forwards RTP injected through a PlainTransport to a consumer, as its stats and a UDP sink show', async () => {
    pool = await startPool();
    const room = await RoomMedia.create(pool.leastLoaded()!, testLimits, testLog);
    const injector = await RtpInjector.create(room.router, 0x1111);
    const sink = await RtpSink.create(room.router);
    const consumer = await sink.consume(injector.producer);
    const consumerSsrc = consumer.rtpParameters.encodings![0]!.ssrc!;

    injector.start();
    await waitFor(() => (sink.packetsBySsrc.get(consumerSsrc) ?? 0) >= 25, { what: '25 forwarded packets' });
    injector.stop();

    expect(await outboundPackets(consumer.getStats())).toBeGreaterThanOrEqual(25);
    // The consumer rewrites the SSRC: what arrives is the consumer's stream, not the producer's.
    expect(sink.packetsBySsrc.has(0x1111)).toBe(false);
    injector.close();
    sink.close();
    room.close();
  });

  it('a paused consumer forwards nothing until it is resumed', async () => {
    pool = await startPool();
    const room = await RoomMedia.create(pool.leastLoaded()!, testLimits, testLog);
    const injector = await RtpInjector.create(room.router, 0x2222);
    const sink = await RtpSink.create(room.router);
    const consumer = await sink.consume(injector.producer, true);

    injector.start();
    // The producer is receiving, so anything the sink got would have come through the paused consumer.
    await waitFor(async () => (await injector.producer.getStats()).some((s) => (s.packetCount ?? 0) >= 20), {
      what: 'the producer to receive 20 packets',
    });
    expect(sink.total).toBe(0);

    await consumer.resume();
    await waitFor(() => sink.total >= 10, { what: 'packets after resume' });
    injector.close();
    sink.close();
    room.close();
  });

  it('closing the room closes its router, endpoints, transports, producers and consumers as one cascade', async () => {
    pool = await startPool();
    const worker = pool.leastLoaded()!;
    const room = await RoomMedia.create(worker, testLimits, testLog);
    const endpoint = room.createEndpoint('alice');
    const transport = await endpoint.createWebRtcTransport('recv');
    const injector = await RtpInjector.create(room.router, 0x3333);
    const sink = await RtpSink.create(room.router);
    const consumer = await sink.consume(injector.producer);
    expect(worker.load).toEqual({ routers: 1, transports: 3, producers: 1, consumers: 1 });

    const closed = nextEvent(room, 'close');
    room.close();
    expect(await closed).toEqual(['closed']);
    expect(room.router.closed).toBe(true);
    expect(endpoint.closed).toBe(true);
    expect(transport.closed).toBe(true);
    expect(injector.producer.closed).toBe(true);
    expect(consumer.closed).toBe(true);
    expect(worker.load).toEqual({ routers: 0, transports: 0, producers: 0, consumers: 0 });
    injector.close();
    sink.close();
  });

  it('a worker killed with SIGKILL is detected, closes its rooms, and is replaced; the process stays up', async () => {
    pool = await startPool();
    const dead = pool.leastLoaded()!;
    const room = await RoomMedia.create(dead, testLimits, testLog);
    const roomClosed = nextEvent(room, 'close');
    const died = nextEvent(pool, 'workerdied');
    const replaced = nextEvent<[{ index: number; pid: number }]>(pool, 'workerstarted');

    process.kill(dead.pid, 'SIGKILL');
    await died;
    expect(await roomClosed).toEqual(['worker-died']);
    const [fresh] = await replaced;
    expect(fresh.index).toBe(dead.index);
    expect(fresh.pid).not.toBe(dead.pid);
    expect(pool.workers).toHaveLength(1);
    // The replacement carries rooms again.
    const again = await RoomMedia.create(pool.leastLoaded()!, testLimits, testLog);
    expect(again.router.closed).toBe(false);
    again.close();
  });

  it('gives each worker its own WebRtcServer on UDP and TCP port base + index', async () => {
    const base = await freePortPair();
    pool = await startPool({ numWorkers: 2, rtcPortBase: base });
    const ports = await Promise.all(
      pool.workers.map(async (w) => {
        const dump = (await w.webRtcServer.dump()) as unknown as {
          udpSockets: Array<{ port: number }>;
          tcpServers: Array<{ port: number }>;
        };
        return { index: w.index, udp: dump.udpSockets.map((s) => s.port), tcp: dump.tcpServers.map((s) => s.port) };
      }),
    );
    expect(ports.sort((a, b) => a.index - b.index)).toEqual([
      { index: 0, udp: [base], tcp: [base] },
      { index: 1, udp: [base + 1], tcp: [base + 1] },
    ]);
  });
});

/** Two consecutive TCP ports that are free now (UDP on the same numbers is free too on a test machine). */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 30000 + Math.floor(Math.random() * 9000);
    if ((await isFree(port)) && (await isFree(port + 1))) return port;
  }
  throw new Error('no free port pair');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

// Cascade across nodes: a room's seven talkers (floor + six languages) on the origin node's worker, and N
// listeners (floor + one language each) on an edge node's worker, fed through one PipeTransport pair made
// by the server's own pipe helpers, with and without SRTP; side by side with the same listeners directly on
// the origin worker. Two worker processes stand for the two nodes (one host, loopback). Reports loss, each
// worker's CPU, and what feeding an edge costs the origin.
import type { types } from 'mediasoup';
import { routerMediaCodecs } from '../../media/index.js';
import { createPipeTransport, pipeEndpoint, type PipeAddressing } from '../../server/cascade/pipe-addressing.js';
import { startPool } from '../helpers/media.js';
import { freePort } from '../helpers/redis-process.js';
import { RtpInjector } from '../helpers/rtp.js';
import { buildSink, measureWindow, plainCaps, WINDOW_MS, type Forwarding } from './rtp-load.js';

const STEPS = (process.env.BENCH_STEPS ?? '200,400,700').split(',').map(Number);
const CHANNELS = ['floor', 'en', 'fr', 'es', 'ar', 'zh', 'ru'] as const;
type Mode = 'direct' | 'cascade' | 'cascade-srtp';

/** The edge router receives every origin producer through one pipe, under the same ids, as CascadeEdge does. */
async function pipeAll(origin: types.Router, edge: types.Router, producers: types.Producer[], srtp: boolean): Promise<Map<string, types.Producer>> {
  const addressing: PipeAddressing = { listenIp: '127.0.0.1', srtp };
  const edgeSide = await createPipeTransport(edge, addressing, {});
  const originSide = await createPipeTransport(origin, addressing, {});
  const e = pipeEndpoint(edgeSide, addressing);
  const o = pipeEndpoint(originSide, addressing);
  await originSide.connect({ ip: e.ip, port: e.port, srtpParameters: e.srtpParameters });
  await edgeSide.connect({ ip: o.ip, port: o.port, srtpParameters: o.srtpParameters });
  const piped = new Map<string, types.Producer>();
  for (const p of producers) {
    const out = await originSide.consume({ producerId: p.id });
    piped.set(p.id, await edgeSide.produce({ id: p.id, kind: out.kind, rtpParameters: out.rtpParameters, appData: { ...p.appData } }));
  }
  return piped;
}

async function step(mode: Mode, listeners: number, sink: string) {
  const originPool = await startPool({ numWorkers: 1 });
  const edgePool = await startPool({ numWorkers: 1 });
  const originWorker = originPool.workers[0]!;
  const edgeWorker = edgePool.workers[0]!;
  const originRouter = await originWorker.createRouter(routerMediaCodecs);
  const sources = await Promise.all(CHANNELS.map((channel, i) => RtpInjector.create(originRouter, 0x200 + i, { channel, source: 'mic' })));
  let listenRouter = originRouter;
  let producerOf = (s: RtpInjector): types.Producer => s.producer;
  if (mode !== 'direct') {
    listenRouter = await edgeWorker.createRouter(routerMediaCodecs);
    const piped = await pipeAll(originRouter, listenRouter, sources.map((s) => s.producer), mode === 'cascade-srtp');
    producerOf = (s) => piped.get(s.producer.id)!;
  }
  const port = await freePort();
  const forwarding: Forwarding[] = [];
  for (let i = 0; i < listeners; i++) {
    const language = CHANNELS[1 + (i % 6)];
    const transport = await listenRouter.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false });
    await transport.connect({ ip: '127.0.0.1', port });
    for (const source of sources.filter((s) => ['floor', language].includes(s.producer.appData.channel as string))) {
      forwarding.push({ consumer: await transport.consume({ producerId: producerOf(source).id, rtpCapabilities: plainCaps }), source });
    }
  }
  for (const s of sources) s.start();
  await new Promise((r) => setTimeout(r, 1500)); // warm up: steady state before measuring
  const m = await measureWindow(sink, port, sources, forwarding, { origin: originWorker.pid, edge: edgeWorker.pid });
  for (const s of sources) s.close();
  originPool.close();
  edgePool.close();
  const listenersOn = mode === 'direct' ? 'origin' : 'edge';
  return {
    mode,
    listeners,
    forwardedPacketsPerSecond: m.forwardedPacketsPerSecond,
    loss: m.loss,
    originWorkerCpu: m.cpu.origin,
    edgeWorkerCpu: mode === 'direct' ? null : m.cpu.edge,
    listenersWorkerMicrosecondsPerPacket: m.microsecondsPerPacket(listenersOn),
  };
}

const sink = buildSink();
const rows: Array<Awaited<ReturnType<typeof step>>> = [];
for (const n of STEPS) for (const mode of ['direct', 'cascade', 'cascade-srtp'] as const) rows.push(await step(mode, n, sink));
const cascaded = rows.filter((r) => r.mode !== 'direct');
process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'cascade',
      setup: { windowMs: WINDOW_MS, talkers: '7 channels on the origin worker, 50 packets/s each', perListener: 'floor + one of six languages', nodes: 'two worker processes on one host (loopback)' },
      steps: rows,
      originWorkerCpuFeedingOneEdge: { min: Math.min(...cascaded.map((r) => r.originWorkerCpu!)), max: Math.max(...cascaded.map((r) => r.originWorkerCpu!)) },
    },
    null,
    2,
  )}\n`,
);
process.exit(0);

// Forwarding efficiency: the same audio load through a bare mediasoup worker and through Plenum's room media
// in both listenerChannels modes, side by side, step by step, one worker each. A listener hears the floor and
// one of six language channels (100 packets/s).
// - bare: mediasoup.createWorker() and a router, each listener consuming just the two channels it hears;
// - plenum-selected (the session default): Plenum's worker pool and RoomMedia, the floor's level observers
//   (AudioLevelObserver + ActiveSpeakerObserver, as a room in selective audio mode runs them), the two
//   consumers created paused and resumed, as the SDK and server do;
// - plenum-all: the same, with all seven channels consumed and five of them paused.
// The sink is a small C program (recvmmsg in batches) so that counting costs less than forwarding; plain
// consumers carry no bandwidth-estimation extensions, so no probation padding reaches it.
// Per-packet efficiency is bare's worker CPU per forwarded packet over the mode's, paired step by step
// (same round, same listener count) and only where neither run saturated (< 1 % loss, < 90 % CPU): at
// saturation the worker queues and drops, and CPU per forwarded packet says nothing about forwarding.
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { sessionRulesObject } from '../../accreditation/model.js';
import { AudioLevels, RoomMedia } from '../../media/index.js';
import { applyChannelSelection } from '../../server/interpretation/channel-selection.js';
import { startPool, testLimits, testLog } from '../helpers/media.js';
import { freePort } from '../helpers/redis-process.js';
import { RtpInjector } from '../helpers/rtp.js';
import { buildSink, measureWindow, plainCaps as caps, WINDOW_MS, type Forwarding } from './rtp-load.js';

const STEPS = (process.env.BENCH_STEPS ?? '250,500,750,1000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CHANNELS = ['floor', 'en', 'fr', 'es', 'ar', 'zh', 'ru'] as const;
const MODES = ['bare', 'plenum-selected', 'plenum-all'] as const;
type Mode = (typeof MODES)[number];
/** The session default, read from the schema so that this report follows it. */
const DEFAULT_MODE: Mode = `plenum-${sessionRulesObject.shape.listenerChannels.parse(undefined)}`;

/** A worker and the router the talkers publish into, as bare mediasoup or as Plenum sets them up. */
async function routerFor(mode: Mode): Promise<{ router: types.Router; pid: number; close: () => void }> {
  if (mode === 'bare') {
    const worker = await mediasoup.createWorker({ logLevel: 'warn' });
    const router = await worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
    return { router, pid: worker.pid, close: () => worker.close() };
  }
  const pool = await startPool({ numWorkers: 1 });
  const room = await RoomMedia.create(pool.workers[0]!, { ...testLimits, maxConsumers: 100_000 }, testLog, { maxConsumersPerRouter: Infinity });
  return {
    router: room.router,
    pid: pool.workers[0]!.pid,
    close: () => {
      room.close();
      pool.close();
    },
  };
}

async function step(mode: Mode, listeners: number, sink: string) {
  const { router, pid, close } = await routerFor(mode);
  const port = await freePort();
  // The floor carries audio levels (as browsers send them) in every mode; Plenum's observers read them.
  const sources = await Promise.all(
    CHANNELS.map((channel, i) => RtpInjector.create(router, 0x100 + i, { channel, source: 'mic' }, channel === 'floor' ? { audioLevel: 30 } : {})),
  );
  if (mode !== 'bare') {
    const levels = await AudioLevels.create(router, { intervalMs: 200, maxEntries: 6, thresholdDb: -70 });
    await levels.add(sources[0]!.producer);
  }
  const forwarding: Forwarding[] = [];
  for (let i = 0; i < listeners; i++) {
    const language = CHANNELS[1 + (i % 6)]!;
    const heard = (s: RtpInjector) => ['floor', language].includes(s.producer.appData.channel as string);
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false, appData: { direction: 'recv' } });
    await transport.connect({ ip: '127.0.0.1', port });
    const wanted = mode === 'plenum-all' ? sources : sources.filter(heard);
    const consumers = [];
    for (const source of wanted) {
      const consumer = await transport.consume({ producerId: source.producer.id, rtpCapabilities: caps, paused: mode !== 'bare', appData: { ...source.producer.appData } });
      consumers.push(consumer);
      if (heard(source)) forwarding.push({ consumer, source });
    }
    if (mode !== 'bare') await applyChannelSelection(consumers, language);
  }
  for (const s of sources) s.start();
  await new Promise((r) => setTimeout(r, 1500)); // warm up: steady state before measuring

  // The listeners were pointed at `port` while nothing listened there; the sink now binds it for the window.
  const m = await measureWindow(sink, port, sources, forwarding, { worker: pid });
  for (const s of sources) s.close();
  close();
  return {
    mode,
    listeners,
    consumersForwarding: forwarding.length,
    forwardedPacketsPerSecond: m.forwardedPacketsPerSecond,
    loss: m.loss,
    workerCpu: m.cpu.worker!,
    workerCpuMicrosecondsPerPacket: m.microsecondsPerPacket('worker'),
  };
}

/**
 * A step, run again (at most twice) when packets were lost while the worker had CPU to spare: the loss was
 * then the shared machine's (the worker or the sink starved by other processes), not the SFU's.
 */
async function measuredStep(mode: Mode, listeners: number, sink: string) {
  let retries = 0;
  for (;;) {
    const row = await step(mode, listeners, sink);
    const starved = row.loss >= 0.01 && row.workerCpu < 0.8;
    if (!starved || retries === 2) return { ...row, retries, machineStarved: starved };
    retries += 1;
  }
}

type Row = Awaited<ReturnType<typeof measuredStep>> & { round: number };
const sink = buildSink();
const rows: Row[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const n of STEPS) {
    // Interleaved, the order rotated each round, so that the machine's noise falls on every mode alike.
    const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]!);
    for (const mode of order) rows.push({ round, ...(await measuredStep(mode, n, sink)) });
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const healthy = (r: Row) => r.loss < 0.01 && r.workerCpu < 0.9;
const find = (mode: Mode, round: number, listeners: number) => rows.find((r) => r.mode === mode && r.round === round && r.listeners === listeners)!;

/** bare µs/packet over the mode's, for every (round, step) where both forwarded without saturating. */
function perPacket(mode: Mode) {
  const ratios: Array<{ round: number; listeners: number; ratio: number }> = [];
  for (const r of rows.filter((x) => x.mode === 'bare' && healthy(x))) {
    const other = find(mode, r.round, r.listeners);
    if (healthy(other)) ratios.push({ round: r.round, listeners: r.listeners, ratio: round3(r.workerCpuMicrosecondsPerPacket / other.workerCpuMicrosecondsPerPacket) });
  }
  const m = median(ratios.map((x) => x.ratio));
  return {
    medianRatio: m === null ? null : round3(m),
    medianWorkerMicrosecondsPerPacket: median(rows.filter((x) => x.mode === mode && healthy(x)).map((x) => x.workerCpuMicrosecondsPerPacket)),
    pairs: ratios,
  };
}
const largest = (mode: Mode) => Math.max(0, ...STEPS.filter((n) => rows.filter((r) => r.mode === mode && r.listeners === n).every(healthy)));
const bare = largest('bare');
const efficiency = Object.fromEntries(MODES.filter((m) => m !== 'bare').map((m) => [m, perPacket(m)]));

process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'forwarding',
      setup: {
        windowMs: WINDOW_MS,
        rounds: ROUNDS,
        perListener: 'floor + one of six languages, 50 packets/s each',
        worker: 'one mediasoup worker (one core) per run; bare: mediasoup.createWorker() with a plain router',
        sink: 'C recvmmsg sink; consumers without transport-cc/REMB (no probation padding)',
      },
      defaultMode: DEFAULT_MODE,
      // The headline: Plenum's default against bare mediasoup, per forwarded packet (1 = as efficient as bare).
      defaultRatio: efficiency[DEFAULT_MODE]!.medianRatio,
      perPacketEfficiencyVsBare: {
        bare: 1,
        'plenum-selected': efficiency['plenum-selected']!.medianRatio,
        'plenum-all': efficiency['plenum-all']!.medianRatio,
      },
      medianWorkerMicrosecondsPerPacket: {
        bare: median(rows.filter((x) => x.mode === 'bare' && healthy(x)).map((x) => x.workerCpuMicrosecondsPerPacket)),
        'plenum-selected': efficiency['plenum-selected']!.medianWorkerMicrosecondsPerPacket,
        'plenum-all': efficiency['plenum-all']!.medianWorkerMicrosecondsPerPacket,
      },
      pairedRatios: { 'plenum-selected': efficiency['plenum-selected']!.pairs, 'plenum-all': efficiency['plenum-all']!.pairs },
      largestListenersAtUnder1PercentLossAnd90PercentCpuInEveryRound: {
        bare,
        'plenum-selected': largest('plenum-selected'),
        'plenum-all': largest('plenum-all'),
      },
      steps: rows,
      note: bare === Math.max(...STEPS) ? 'the bare worker carried the largest step: raise BENCH_STEPS to find its limit' : undefined,
    },
    null,
    2,
  )}\n`,
);
process.exit(0);

// Forwarding efficiency: the same audio load through Plenum's room code (both listenerChannels settings) and
// through a bare mediasoup router,
// side by side, step by step, on one worker. A listener receives the floor and one of six language channels
// (100 packets/s). Plenum's listeners consume all seven channels with five paused (as the SDK does) on a
// RoomMedia router; the bare listeners consume just the two. The sink is a small C program (recvmmsg in
// batches) so that counting costs less than forwarding; plain consumers carry no bandwidth-estimation
// extensions, so no probation padding reaches it. Reports loss and worker CPU per step, the largest
// listener count at < 1 % loss and < 90 % CPU for each, and their ratio.
import { RoomMedia } from '../../media/index.js';
import { applyChannelSelection } from '../../server/interpretation/channel-selection.js';
import { startPool, testLimits, testLog } from '../helpers/media.js';
import { freePort } from '../helpers/redis-process.js';
import { RtpInjector } from '../helpers/rtp.js';
import { buildSink, measureWindow, plainCaps as caps, WINDOW_MS, type Forwarding } from './rtp-load.js';

const STEPS = (process.env.BENCH_STEPS ?? '250,500,1000,1500,2000').split(',').map(Number);
const CHANNELS = ['floor', 'en', 'fr', 'es', 'ar', 'zh', 'ru'] as const;

type Mode = 'bare' | 'plenum' | 'plenum-selected';

async function step(mode: Mode, listeners: number, sink: string) {
  const pool = await startPool({ numWorkers: 1 });
  const worker = pool.workers[0]!;
  const room = await RoomMedia.create(worker, { ...testLimits, maxConsumers: 100_000 }, testLog, { maxConsumersPerRouter: Infinity });
  const port = await freePort();
  const sources = await Promise.all(CHANNELS.map((channel, i) => RtpInjector.create(room.router, 0x100 + i, { channel, source: 'mic' })));
  const resumed: Forwarding[] = [];
  for (let i = 0; i < listeners; i++) {
    const language = CHANNELS[1 + (i % 6)]!;
    const transport = await room.router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false, appData: { direction: 'recv' } });
    await transport.connect({ ip: '127.0.0.1', port });
    // Plenum by default consumes every channel (five paused); listenerChannels=selected only the two heard.
    const wanted = mode === 'plenum' ? sources : sources.filter((s) => ['floor', language].includes(s.producer.appData.channel as string));
    const consumers = [];
    for (const source of wanted) {
      const consumer = await transport.consume({ producerId: source.producer.id, rtpCapabilities: caps, paused: mode !== 'bare', appData: { ...source.producer.appData } });
      consumers.push(consumer);
      if (['floor', language].includes(source.producer.appData.channel as string)) resumed.push({ consumer, source });
    }
    if (mode !== 'bare') await applyChannelSelection(consumers, language);
  }
  for (const s of sources) s.start();
  await new Promise((r) => setTimeout(r, 1500)); // warm up: steady state before measuring

  // The listeners were pointed at `port` while nothing listened there; the sink now binds it for the window.
  const m = await measureWindow(sink, port, sources, resumed, { worker: worker.pid });
  for (const s of sources) s.close();
  room.close();
  pool.close();
  return {
    mode,
    listeners,
    consumersForwarding: resumed.length,
    forwardedPacketsPerSecond: m.forwardedPacketsPerSecond,
    loss: m.loss,
    workerCpu: m.cpu.worker!,
    workerCpuMicrosecondsPerPacket: m.microsecondsPerPacket('worker'),
  };
}

const sink = buildSink();
const rows: Array<Awaited<ReturnType<typeof step>>> = [];
for (const n of STEPS) {
  // Interleaved, so that the machine's noise falls on both alike.
  rows.push(await step('bare', n, sink));
  rows.push(await step('plenum', n, sink));
  rows.push(await step('plenum-selected', n, sink));
}
const largest = (mode: string) =>
  Math.max(0, ...rows.filter((r) => r.mode === mode && r.loss < 0.01 && r.workerCpu < 0.9).map((r) => r.listeners));
const bare = largest('bare');
const plenum = largest('plenum');
const selected = largest('plenum-selected');
const ratio = (x: number) => (bare > 0 ? Math.round((x / bare) * 1000) / 1000 : null);
const perPacket = (mode: string) => {
  const xs = rows.filter((r) => r.mode === mode).map((r) => r.workerCpuMicrosecondsPerPacket).sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)]!;
};
process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'forwarding',
      setup: { windowMs: WINDOW_MS, perListener: 'floor + one of six languages, 50 packets/s each', worker: 'one mediasoup worker (one core)' },
      steps: rows,
      largestListenersAtUnder1PercentLossAnd90PercentCpu: { bare, plenum, plenumSelected: selected },
      forwardingEfficiencyRatio: { plenum: ratio(plenum), plenumSelected: ratio(selected) },
      medianWorkerMicrosecondsPerPacket: {
        bare: perPacket('bare'),
        plenum: perPacket('plenum'),
        plenumSelected: perPacket('plenum-selected'),
        ratioBareOverPlenum: Math.round((perPacket('bare') / perPacket('plenum')) * 1000) / 1000,
        ratioBareOverPlenumSelected: Math.round((perPacket('bare') / perPacket('plenum-selected')) * 1000) / 1000,
      },
      note: bare === Math.max(...STEPS) ? 'the bare worker carried the largest step: raise BENCH_STEPS to find its limit' : undefined,
    },
    null,
    2,
  )}\n`,
);
process.exit(0);

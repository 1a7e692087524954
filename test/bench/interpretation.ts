// Interpretation benchmark: the listener's audio gap across a booth handover, and the time from a channel
// switch to the new channel's first audio, with 1 and with 200 listeners on the channel. Real mediasoup,
// plain RTP listeners (all sending to one UDP sink), the server's own booth and channel-selection code.
// Side by side: switching by resuming a paused consumer (listenerChannels: all) against creating a consumer
// on demand (selected, the default; its browser-side SDP round trip is not counted here). Then the same
// switch in real Chromium through the SDK, for both modes (interpretation-browser.ts).
import { createSocket } from 'node:dgram';
import type { types } from 'mediasoup';
import { RoomMedia } from '../../media/index.js';
import { CloseReason } from '../../protocol/errors.js';
import { applyChannelSelection } from '../../server/interpretation/channel-selection.js';
import { Room } from '../../server/rooms/room.js';
import { grants } from '../helpers/grants.js';
import { browserChannelSwitch } from './interpretation-browser.js';
import { startPool, testLimits, testLog } from '../helpers/media.js';
import { RtpInjector, OPUS_PT } from '../helpers/rtp.js';

const round = (n: number): number => Math.round(n * 10) / 10;
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One UDP socket receiving every listener's RTP, keeping each SSRC's arrival times. */
class Sink {
  readonly arrivals = new Map<number, number[]>();
  readonly socket = createSocket('udp4');
  async bind(): Promise<number> {
    this.socket.on('message', (msg) => {
      const pt = msg[1]! & 0x7f;
      if (msg.length < 12 || (pt >= 72 && pt <= 78)) return;
      const ssrc = msg.readUInt32BE(8);
      let list = this.arrivals.get(ssrc);
      if (!list) this.arrivals.set(ssrc, (list = []));
      list.push(performance.now());
    });
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', r));
    this.socket.setRecvBufferSize(8 * 1024 * 1024);
    return this.socket.address().port;
  }
  firstAfter(ssrc: number, t: number): number | undefined {
    return this.arrivals.get(ssrc)?.find((x) => x >= t);
  }
  /** Largest gap between consecutive packets of any of these SSRCs (merged) inside [from, to]. */
  maxGap(ssrcs: number[], from: number, to: number): number {
    const times = ssrcs.flatMap((s) => this.arrivals.get(s) ?? []).filter((x) => x >= from && x <= to).sort((a, b) => a - b);
    let gap = 0;
    for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
    return times.length < 2 ? Infinity : gap;
  }
}

const caps: types.RtpCapabilities = {
  codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, preferredPayloadType: OPUS_PT }],
  headerExtensions: [],
};

interface Listener {
  transport: types.PlainTransport;
  consumers: Record<'floor' | 'a' | 'b', types.Consumer>;
}

async function scenario(listenerCount: number) {
  const pool = await startPool();
  const media = await RoomMedia.create(pool.leastLoaded()!, { ...testLimits, maxConsumers: 10_000 }, testLog);
  const room = new Room('bench', media, { idleCloseMs: 600_000, languages: ['fr'], handoverTakeAfterMs: 1000, floor: { controlled: false, speakingTimeLimitMs: 180_000, speakingTimeWarningMs: 30_000 } }, testLog);
  const member = (id: string, booths: string[], floor = false) =>
    room.join(id, grants({ room: 'bench', person: id, name: id, publish: { floor, booths, captions: false } }), media.rtpCapabilities, () => undefined);
  const chair = member('chair', [], true);
  const a = member('a', ['fr']);
  const b = member('b', ['fr']);
  const inject = async (p: typeof a, channel: string, ssrc: number) => {
    const i = await RtpInjector.create(media.router, ssrc, { channel, source: 'mic', endpointId: p.id });
    await room.interpretation.onProducer(p, i.producer);
    i.start();
    return i;
  };
  const sources = { floor: await inject(chair, 'floor', 0x10), a: await inject(a, 'fr', 0x20), b: await inject(b, 'fr', 0x30) };
  await room.interpretation.act('fr', (booth) => booth.goLive('a'));

  const sink = new Sink();
  const port = await sink.bind();
  const listen = async (channel: string): Promise<Listener> => {
    const transport = await media.router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false });
    await transport.connect({ ip: '127.0.0.1', port });
    const consume = (i: RtpInjector) => transport.consume({ producerId: i.producer.id, rtpCapabilities: caps, paused: true, appData: { ...i.producer.appData } });
    const consumers = { floor: await consume(sources.floor), a: await consume(sources.a), b: await consume(sources.b) };
    await applyChannelSelection(Object.values(consumers), channel);
    return { transport, consumers };
  };
  const ssrc = (c: types.Consumer) => c.rtpParameters.encodings![0]!.ssrc!;

  const crowd: Listener[] = [];
  for (let i = 0; i < listenerCount; i++) crowd.push(await listen('fr'));
  await sleep(1000);

  // 1. Handover gap, seen by every listener on the channel; the floor's own gap in the same window is the baseline.
  const t0 = performance.now();
  await room.interpretation.act('fr', (booth) => booth.handoverAction('a', 'offer'));
  await room.interpretation.act('fr', (booth) => booth.handoverAction('b', 'accept'));
  await sleep(1000);
  const gaps = crowd.map((l) => sink.maxGap([ssrc(l.consumers.a), ssrc(l.consumers.b)], t0 - 500, t0 + 900));
  const floorGaps = crowd.map((l) => sink.maxGap([ssrc(l.consumers.floor)], t0 - 500, t0 + 900));

  // 2. Channel switch floor -> fr for one more listener, repeated: resume (ours) vs new consumer.
  const switcher = await listen('floor');
  const resumeMs: number[] = [];
  const createMs: number[] = [];
  for (let i = 0; i < 20; i++) {
    await applyChannelSelection(Object.values(switcher.consumers), 'floor');
    await sleep(60);
    const t = performance.now();
    await applyChannelSelection(Object.values(switcher.consumers), 'fr');
    while (sink.firstAfter(ssrc(switcher.consumers.b), t) === undefined && performance.now() - t < 2000) await sleep(1);
    resumeMs.push(sink.firstAfter(ssrc(switcher.consumers.b), t)! - t);

    const t2 = performance.now();
    const fresh = await switcher.transport.consume({ producerId: sources.b.producer.id, rtpCapabilities: caps });
    while (sink.firstAfter(ssrc(fresh), t2) === undefined && performance.now() - t2 < 2000) await sleep(1);
    createMs.push(sink.firstAfter(ssrc(fresh), t2)! - t2);
    fresh.close();
  }

  // 3. Everyone switches at once (floor -> fr), e.g. after "the speaker now uses Chinese".
  await Promise.all(crowd.map((l) => applyChannelSelection(Object.values(l.consumers), 'floor')));
  await sleep(200);
  const tAll = performance.now();
  await Promise.all(crowd.map((l) => applyChannelSelection(Object.values(l.consumers), 'fr')));
  const deadline = performance.now() + 3000;
  while (crowd.some((l) => sink.firstAfter(ssrc(l.consumers.b), tAll) === undefined) && performance.now() < deadline) await sleep(2);
  const allSwitch = crowd.map((l) => (sink.firstAfter(ssrc(l.consumers.b), tAll) ?? Infinity) - tAll);

  for (const i of Object.values(sources)) i.close();
  sink.socket.close();
  room.close(CloseReason.SERVER_SHUTDOWN);
  pool.close();
  return {
    listeners: listenerCount,
    handoverGapMs: { p50: pct(gaps, 50), p95: pct(gaps, 95), max: pct(gaps, 100), floorBaselineMax: pct(floorGaps, 100) },
    switchToFirstAudioMs: {
      resumePausedConsumer: { p50: pct(resumeMs, 50), p95: pct(resumeMs, 95), max: pct(resumeMs, 100) },
      createConsumerOnDemand: { p50: pct(createMs, 50), p95: pct(createMs, 95), max: pct(createMs, 100) },
    },
    everyoneSwitchesAtOnceMs: { p50: pct(allSwitch, 50), p95: pct(allSwitch, 95), max: pct(allSwitch, 100) },
  };
}

const one = await scenario(1);
const crowd = await scenario(Number(process.env.BENCH_LISTENERS ?? 200));
// BENCH_BROWSER=0 leaves out the real-browser switch (it needs Chromium and the bundled SDK).
const browserSwitch = process.env.BENCH_BROWSER === '0' ? undefined : await browserChannelSwitch();
process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'interpretation',
      setup: {
        audio: 'Opus-sized RTP at 50 packets/s per source (20 ms apart): a gap of about 20 ms means no packet was missed',
        listeners: 'plain RTP consumers (floor + two French interpreters each), all into one UDP sink',
        handover: 'offer + accept: the incoming microphone resumes before the outgoing one pauses',
      },
      targets: { handoverGapMs: 150, switchToFirstAudioMs: 300, browserSwitchToFirstPacketMs: 150 },
      runs: [one, crowd],
      // A listener's switch in Chromium through the SDK and the server, in the default mode and with `all`.
      browserSwitch,
      ratios: {
        switchResumeOverCreateP50: Math.round((one.switchToFirstAudioMs.resumePausedConsumer.p50 / one.switchToFirstAudioMs.createConsumerOnDemand.p50) * 1000) / 1000,
        handoverGapP95CrowdOverOne: Math.round((crowd.handoverGapMs.p95 / one.handoverGapMs.p95) * 1000) / 1000,
      },
    },
    null,
    2,
  )}\n`,
);

// Low-bandwidth benchmark (BENCH=bandwidth): a delegate's Chromium in its own network namespace, its link
// degraded for real (tc tbf for the rate, nftables for random loss, a userspace UDP relay for delay), hears a
// speaker on the host (espeak-ng speech through Chromium's fake microphone, and a simulcast camera). Side by
// side per condition: with the low-bandwidth features (audio only; Opus DTX and in-band FEC; the server's
// video fallback) and without them (Opus without DTX and FEC, the stage's video received at 640×360, no
// fallback). Per run, from the delegate's consumers' getStats over BENCH_BANDWIDTH_SECONDS of audio, after
// BENCH_BANDWIDTH_SETTLE_SECONDS of audio on the degraded link (the encoder adapts its FEC to the reported
// loss, the jitter buffer to the delay): concealed samples (%), concealment events, the jitter buffer's mean
// delay, the audio's and all media's bytes. Needs root (network namespaces).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { defaultVideoFallback } from '../../server/rooms/video-fallback.js';
import { audioReceipt, BandwidthRig, between, speechWav, type AudioReceipt } from '../helpers/bandwidth-rig.js';
import { waitFor } from '../helpers/wait.js';

const SECONDS = Number(process.env.BENCH_BANDWIDTH_SECONDS ?? 20);
const SETTLE_SECONDS = Number(process.env.BENCH_BANDWIDTH_SETTLE_SECONDS ?? 6);
/** The speaker's Opus without the features: what a client sends with FEC and DTX left off. */
const PLAIN_OPUS = { opusStereo: false, opusDtx: false, opusFec: false };

interface Condition {
  name: string;
  rateKbit?: number;
  lossPercent?: number;
  rttMs?: number;
}
const CONDITIONS: Condition[] = [
  { name: '64 kbit/s', rateKbit: 64 },
  { name: '300 kbit/s, 5 % loss', rateKbit: 300, lossPercent: 5 },
  { name: '500 ms RTT', rttMs: 500 },
];

const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

async function measure(rig: BandwidthRig, condition: Condition, features: boolean, run: number): Promise<Record<string, number>> {
  const room = `bench-bw-${run}-${Date.now()}`;
  const fallback = { ...defaultVideoFallback };
  // Without the features, the server's fallback is off too: thresholds of 0 never trigger.
  if (!features) Object.assign(defaultVideoFallback, { lowestBelowBps: 0, offBelowBps: 0 });
  const pages: Page[] = [];
  try {
    pages.push(await rig.speaker('Speaker', room, { camera: true, opus: features ? undefined : PLAIN_OPUS }));
    const delegate = await rig.delegate('Delegate', room, { audioOnly: features });
    pages.push(delegate);
    // tsx (esbuild, keepNames) wraps named functions in `__name(...)`: functions evaluated in the page need it.
    await delegate.evaluate('globalThis.__name = (f) => f');
    await audioAfter(delegate, 2);
    if (!features) await waitFor(async () => (await audioReceipt(delegate)).videoFramesDecoded > 0, { timeoutMs: 30_000, what: 'the stage video' });
    await rig.ns.shape({ rateKbit: condition.rateKbit, lossPercent: condition.lossPercent });
    rig.relay.delayMs = (condition.rttMs ?? 0) / 2;
    try {
      await audioAfter(delegate, SETTLE_SECONDS);
      const start = await audioReceipt(delegate);
      const end = await audioAfter(delegate, SECONDS);
      const d = between(start, end);
      return {
        concealedPercent: round(d.concealedPercent, 2),
        concealmentEvents: d.concealmentEvents,
        jitterBufferMs: round(d.jitterBufferMs),
        audioKbit: round((d.audioBytes * 8) / 1000 / d.seconds),
        allMediaKbit: round((d.allBytes * 8) / 1000 / d.seconds),
        audioBytes: d.audioBytes,
        allMediaBytes: d.allBytes,
        packetLossPercent: round(d.lossPercent, 2),
      };
    } finally {
      await rig.ns.unshape();
      rig.relay.delayMs = 0;
    }
  } finally {
    Object.assign(defaultVideoFallback, fallback);
    for (const page of pages) await page.context().close().catch(() => undefined);
  }
}

/** Waits until the page has received `seconds` more of audio; answers its receipt then. */
async function audioAfter(page: Page, seconds: number): Promise<AudioReceipt> {
  const start = await audioReceipt(page);
  return waitFor(
    async () => {
      const now = await audioReceipt(page);
      return now.totalSamplesReceived - start.totalSamplesReceived >= seconds * 48_000 ? now : undefined;
    },
    { timeoutMs: (seconds + 60) * 1000, intervalMs: 500, what: `${seconds} s of audio` },
  );
}

const dir = await mkdtemp(join(tmpdir(), 'plenum-bench-bw-'));
const rig = await BandwidthRig.start({}, { speechWav: await speechWav(dir) });
const results: Array<{ condition: string; withFeatures: Record<string, number>; without: Record<string, number> }> = [];
try {
  let run = 0;
  for (const condition of CONDITIONS) {
    process.stderr.write(`[bench] bandwidth: ${condition.name}\n`);
    const withFeatures = await measure(rig, condition, true, run++);
    const without = await measure(rig, condition, false, run++);
    results.push({ condition: condition.name, withFeatures, without });
  }
} finally {
  await rig.close();
  await rm(dir, { recursive: true, force: true });
}
console.log(JSON.stringify({ bench: 'bandwidth', secondsMeasured: SECONDS, settleSeconds: SETTLE_SECONDS, results }, null, 2));

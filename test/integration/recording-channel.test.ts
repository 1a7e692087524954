import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { types } from 'mediasoup';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WorkerPool } from '../../media/index.js';
import { routerMediaCodecs } from '../../media/codecs.js';
import { AudioChannelRecorder, type RecordedGap } from '../../server/recording/audio-channel-recorder.js';
import { RecorderTap } from '../../server/recording/recorder-tap.js';
import { monotonicMs } from '../../server/recording/rtcp-sender-report.js';
import { startPool, testLog } from '../helpers/media.js';
import { decodeAudio, discoveredDurationMs, dominantTone, ToneSource } from '../helpers/recorded-audio.js';
import { waitFor } from '../helpers/wait.js';

// Real mediasoup, real GStreamer on both ends: opusenc tones into PlainTransport producers, and the
// recorder's own gst-launch muxing the channel into Ogg. The file is decoded by GStreamer again.

let pool: WorkerPool;
let router: types.Router;
let dir: string;
const closers: Array<() => unknown> = [];

beforeEach(async () => {
  pool = await startPool();
  router = await pool.leastLoaded()!.createRouter(routerMediaCodecs);
  dir = mkdtempSync(join(tmpdir(), 'plenum-recording-'));
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  pool.close();
  rmSync(dir, { recursive: true, force: true });
});

const settings = { gstLaunch: 'gst-launch-1.0', delayMs: 200, restartDelayMs: 200 };

describe('a channel recorder', () => {
  it('follows one source then another, survives a killed recorder with silence in the gap, and stays on the session clock', async () => {
    const a = await ToneSource.create(router, 440, 1111, { channel: 'floor' });
    const b = await ToneSource.create(router, 880, 2222, { channel: 'floor' });
    closers.push(() => a.close(), () => b.close());
    const originMs = monotonicMs();
    const path = join(dir, 'floor-1.ogg');
    const recorder = await AudioChannelRecorder.open({ ...settings, channel: 'floor', path, originMs, startMs: 0, log: testLog });
    const gaps: RecordedGap[] = [];
    recorder.on('gap', (g) => gaps.push(g));
    const tap = await RecorderTap.create(router, 'audio', recorder, testLog);
    closers.push(() => tap.close());
    const at = (): number => monotonicMs() - originMs;
    const until = (ms: number): Promise<unknown> => waitFor(() => at() >= ms, { intervalMs: 10, what: `${ms} ms` });

    recorder.follow(await tap.consume(a.producer));
    await until(3000);
    const switchAt = at();
    recorder.follow(await tap.consume(b.producer));
    tap.release(a.producer.id);
    await until(5000);
    const pid = recorder.pid!;
    process.kill(pid, 'SIGKILL');
    const killedAt = at();
    await waitFor(() => gaps.length > 0, { what: 'the restart' });
    const noticedAt = at();
    await until(killedAt + 3000);
    const endAt = at();
    await recorder.close();

    expect(recorder.starts).toBe(2);
    const gap = gaps[0]!;
    expect(gap.reason).toBe('recorder-exited');
    // The gap is what the killed recorder had been sent but not written: from its last page to when its
    // death was noticed (on a loaded machine the exit may be seen a while after the kill).
    expect(gap.fromMs).toBeGreaterThan(killedAt - settings.delayMs - 500);
    expect(gap.toMs).toBeGreaterThan(gap.fromMs);
    expect(gap.toMs).toBeLessThanOrEqual(noticedAt);
    const samples = await decodeAudio(path);
    const decodedMs = samples.length / 48;
    const discovered = await discoveredDurationMs(path);
    // One continuous file on the session clock: its length is the time recorded, to within 2 %.
    expect(Math.abs(decodedMs - endAt) / endAt).toBeLessThan(0.02);
    expect(Math.abs(discovered - decodedMs)).toBeLessThan(100);
    const tones = [440, 880];
    expect(dominantTone(samples, 500, switchAt - 300, tones)).toBe(440);
    expect(dominantTone(samples, switchAt + 400, gap.fromMs - 200, tones)).toBe(880);
    // What the killed recorder lost is silence; what arrived while it was down waited and was written.
    if (gap.toMs - gap.fromMs > 60) expect(dominantTone(samples, gap.fromMs + 20, gap.toMs - 20, tones)).toBe('silence');
    expect(dominantTone(samples, gap.toMs + 400, endAt - 400, tones)).toBe(880);
  });
});

// The RTP load harness shared by the forwarding benchmarks: a C sink that counts packets per SSRC,
// worker CPU from /proc, and one measurement window over a set of forwarding consumers.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { types } from 'mediasoup';
import { OPUS_PT, type RtpInjector } from '../helpers/rtp.js';

export const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 6000);
const TICK_MS = 1000 / 100; // Linux USER_HZ

/** Opus only, no feedback extensions: no bandwidth probing reaches a plain sink. */
export const plainCaps: types.RtpCapabilities = {
  codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, preferredPayloadType: OPUS_PT }],
  headerExtensions: [],
};

export function buildSink(): string {
  const source = join(import.meta.dirname, 'sink', 'udp-sink.c');
  const binary = join(tmpdir(), `plenum-udp-sink-${statSync(source).mtimeMs}`);
  if (!existsSync(binary)) execFileSync('cc', ['-O2', '-o', binary, source]);
  return binary;
}

export function workerCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime + stime
}

/** A listener's consumer that should forward, and the talker it forwards. */
export interface Forwarding {
  consumer: types.Consumer;
  source: RtpInjector;
}

/**
 * Binds the sink on `port` (where every listener sends) for one window and counts what arrived against what
 * the talkers sent meanwhile. CPU is reported per worker pid, as a share of one core.
 */
export async function measureWindow(sink: string, port: number, sources: RtpInjector[], forwarding: Forwarding[], workerPids: Record<string, number>) {
  const measuring = spawn(sink, [String(WINDOW_MS), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const out = createInterface({ input: measuring.stdout! })[Symbol.asyncIterator]();
  const bound = (await out.next()).value as string;
  if (bound !== `port ${port}`) throw new Error(`sink: ${bound}`);
  const sentBefore = new Map(sources.map((s) => [s, s.sent]));
  const cpuBefore = Object.fromEntries(Object.entries(workerPids).map(([k, pid]) => [k, workerCpuMs(pid)]));
  const t0 = performance.now();
  const counts = JSON.parse((await out.next()).value as string) as Record<string, number>;
  const elapsed = performance.now() - t0;
  const cpu = Object.fromEntries(Object.entries(workerPids).map(([k, pid]) => [k, Math.round(((workerCpuMs(pid) - cpuBefore[k]!) / elapsed) * 1000) / 1000]));
  let expected = 0;
  let received = 0;
  for (const { consumer, source } of forwarding) {
    expected += source.sent - sentBefore.get(source)!;
    received += counts[String(consumer.rtpParameters.encodings![0]!.ssrc!)] ?? 0;
  }
  const forwardedPps = (received / elapsed) * 1000;
  return {
    forwardedPacketsPerSecond: Math.round(forwardedPps),
    loss: Math.round(Math.max(0, 1 - received / expected) * 10_000) / 10_000,
    cpu,
    microsecondsPerPacket: (worker: string) => Math.round(((cpu[worker]! * 1000) / Math.max(1, forwardedPps)) * 1000 * 100) / 100,
  };
}

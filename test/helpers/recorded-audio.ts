import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { types } from 'mediasoup';
import { framed } from '../../server/recording/rtp-packet.js';
import type { SessionRecordingSettings } from '../../server/recording/session-recording.js';

const run = promisify(execFile);

/**
 * A real Opus talker: GStreamer's audiotestsrc (a sine at `frequency`) encoded by opusenc and sent as RTP
 * into a comedia PlainTransport producer, the way the recording tests put tones into the floor and booths.
 */
export class ToneSource {
  private constructor(
    readonly transport: types.PlainTransport,
    readonly producer: types.Producer,
    private readonly process: ReturnType<typeof spawn>,
  ) {}

  static async create(router: types.Router, frequency: number, ssrc: number, appData: Record<string, unknown>): Promise<ToneSource> {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
    const producer = await transport.produce({
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc }] },
      appData,
    });
    const process = spawn(
      'gst-launch-1.0',
      ['-q', 'audiotestsrc', 'is-live=true', `freq=${frequency}`, 'volume=0.5', '!', 'audioconvert', '!', 'audioresample', '!', 'opusenc', '!', 'rtpopuspay', 'pt=100', `ssrc=${ssrc}`, '!', 'udpsink', 'host=127.0.0.1', `port=${transport.tuple.localPort}`],
      { stdio: 'ignore' },
    );
    return new ToneSource(transport, producer, process);
  }

  close(): void {
    this.process.kill('SIGKILL');
    this.transport.close();
  }
}

/** A recorded file decoded by GStreamer (decodebin: Ogg Opus or WebM) to 48 kHz mono 16-bit samples. */
export async function decodeAudio(path: string): Promise<Int16Array> {
  const { stdout } = await run(
    'gst-launch-1.0',
    ['-q', 'filesrc', `location=${path}`, '!', 'decodebin', '!', 'audioconvert', '!', 'audioresample', '!', 'audio/x-raw,format=S16LE,rate=48000,channels=1', '!', 'fdsink', 'fd=1'],
    { encoding: 'buffer', maxBuffer: 512 * 1024 * 1024 },
  );
  const bytes = stdout as unknown as Buffer;
  return new Int16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 2));
}

/** The duration gst-discoverer-1.0 reads from the file's own metadata (granule positions for Ogg), in ms. */
export async function discoveredDurationMs(path: string): Promise<number> {
  const { stdout } = await run('gst-discoverer-1.0', [path]);
  const m = /Duration: (\d+):(\d+):(\d+)\.(\d+)/.exec(stdout);
  if (!m) throw new Error(`gst-discoverer gave no duration for ${path}`);
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]!.slice(0, 3).padEnd(3, '0'));
}

/** The power of `frequency` in a window (Goertzel), normalised by the window's length. */
function goertzel(samples: Int16Array, from: number, to: number, frequency: number): number {
  const k = (2 * Math.cos((2 * Math.PI * frequency) / 48000));
  let s1 = 0;
  let s2 = 0;
  for (let i = from; i < to; i++) {
    const s0 = samples[i]! / 32768 + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / ((to - from) ** 2);
}

/** Root mean square of a window, 0..1. */
export function rms(samples: Int16Array, fromMs: number, toMs: number): number {
  const from = Math.max(0, Math.round(fromMs * 48));
  const to = Math.min(samples.length, Math.round(toMs * 48));
  let sum = 0;
  for (let i = from; i < to; i++) sum += (samples[i]! / 32768) ** 2;
  return to > from ? Math.sqrt(sum / (to - from)) : 0;
}

/**
 * Which of `candidates` dominates a window of the recording (ms on the file's timeline), or 'silence' when
 * the window is quiet.
 */
export function dominantTone(samples: Int16Array, fromMs: number, toMs: number, candidates: number[]): number | 'silence' {
  if (rms(samples, fromMs, toMs) < 0.01) return 'silence';
  const from = Math.max(0, Math.round(fromMs * 48));
  const to = Math.min(samples.length, Math.round(toMs * 48));
  let best = candidates[0]!;
  let power = -1;
  for (const f of candidates) {
    const p = goertzel(samples, from, to, f);
    if (p > power) {
      power = p;
      best = f;
    }
  }
  return best;
}

/** A real camera: GStreamer's videotestsrc (a solid colour) encoded by vp8enc into a comedia PlainTransport producer. */
export class CameraSource {
  private constructor(
    readonly transport: types.PlainTransport,
    readonly producer: types.Producer,
    private readonly process: ReturnType<typeof spawn>,
  ) {}

  /** `pattern`: videotestsrc's, e.g. 'red', 'green', 'blue'. */
  static async create(router: types.Router, pattern: string, ssrc: number): Promise<CameraSource> {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
    const producer = await transport.produce({
      kind: 'video',
      rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }] }], encodings: [{ ssrc }] },
      appData: { source: 'camera' },
    });
    const process = spawn(
      'gst-launch-1.0',
      ['-q', 'videotestsrc', 'is-live=true', `pattern=${pattern}`, '!', 'video/x-raw,width=320,height=240,framerate=15/1', '!', 'vp8enc', 'deadline=1', 'keyframe-max-dist=15', '!', 'rtpvp8pay', 'pt=101', 'picture-id-mode=15-bit', `ssrc=${ssrc}`, '!', 'udpsink', 'host=127.0.0.1', `port=${transport.tuple.localPort}`],
      { stdio: 'ignore' },
    );
    return new CameraSource(transport, producer, process);
  }

  close(): void {
    this.process.kill('SIGKILL');
    this.transport.close();
  }
}

/** A recorded video decoded by GStreamer: its frame count and mean colour (0..255 per channel). */
export async function decodeVideo(path: string): Promise<{ frames: number; mean: { r: number; g: number; b: number } }> {
  const { stdout } = await run(
    'gst-launch-1.0',
    ['-q', 'filesrc', `location=${path}`, '!', 'decodebin', '!', 'videoconvert', '!', 'videoscale', '!', 'video/x-raw,format=RGB,width=16,height=16', '!', 'fdsink', 'fd=1'],
    { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
  );
  const bytes = stdout as unknown as Buffer;
  const sum = { r: 0, g: 0, b: 0 };
  const pixels = Math.floor(bytes.length / 3);
  for (let i = 0; i < pixels; i++) {
    sum.r += bytes[i * 3]!;
    sum.g += bytes[i * 3 + 1]!;
    sum.b += bytes[i * 3 + 2]!;
  }
  const n = Math.max(1, pixels);
  return { frames: Math.floor(bytes.length / (16 * 16 * 3)), mean: { r: sum.r / n, g: sum.g / n, b: sum.b / n } };
}

/** Opus RTP packets (payload type 100) decoded by GStreamer to 48 kHz mono, as -1..1. */
export async function decodeOpusPackets(packets: Buffer[]): Promise<Float64Array> {
  const child = spawn('gst-launch-1.0', ['-q', 'fdsrc', 'fd=0', '!', 'application/x-rtp-stream,media=audio,clock-rate=48000,encoding-name=OPUS,payload=100', '!', 'rtpstreamdepay', '!', 'rtpopusdepay', '!', 'opusdec', '!', 'audioconvert', '!', 'audio/x-raw,format=S16LE,rate=48000,channels=1', '!', 'fdsink', 'fd=1'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stdin.on('error', () => undefined);
  child.stdin.end(Buffer.concat(packets.map(framed)));
  const code = await new Promise((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`opus decoder exited with ${String(code)}`);
  const bytes = Buffer.concat(chunks);
  const out = new Float64Array(Math.floor(bytes.length / 2));
  for (let i = 0; i < out.length; i++) out[i] = bytes.readInt16LE(i * 2) / 32768;
  return out;
}

/** The amplitude of a sine at `frequency` in the samples (a single-bin DFT), skipping the first 50 ms. */
export function toneAmplitude(samples: Float64Array, rate: number, frequency: number): number {
  const from = Math.round(rate * 0.05);
  let re = 0;
  let im = 0;
  for (let i = from; i < samples.length; i++) {
    const phase = (2 * Math.PI * frequency * i) / rate;
    re += samples[i]! * Math.cos(phase);
    im -= samples[i]! * Math.sin(phase);
  }
  return (2 * Math.hypot(re, im)) / Math.max(1, samples.length - from);
}

/** Recorder settings for tests: short delays and restarts, files under `storageDir`. */
export const testRecordingSettings = (storageDir: string): SessionRecordingSettings => ({
  storageDir,
  gstLaunch: 'gst-launch-1.0',
  delayMs: 200,
  restartDelayMs: 200,
  maxFillMs: 600_000,
  followEveryMs: 100,
  persistEveryMs: 1000,
});

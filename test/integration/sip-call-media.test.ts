// The media side of one phone call with real parts: GStreamer sends a phone's voice (PCMU) and keyed digits
// (rtpdtmfsrc, RFC 4733) to a CallRtpSession; prompts spoken by espeak-ng are played to GStreamer receivers
// that decode them (mulawdec, alawdec, opusdec).

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CallRtpSession, type CallCodec } from '../../server/dial-in/media/call-rtp-session.js';
import { g711Decode } from '../../server/dial-in/media/g711.js';
import { PromptLibrary } from '../../server/dial-in/media/prompt-library.js';
import { PromptPlayer } from '../../server/dial-in/media/prompt-player.js';
import { parseWavPcm } from '../../server/dial-in/media/wav-pcm.js';
import { readRtpHeader } from '../../server/recording/rtp-packet.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);

// gst-launch-1.0 cannot send the custom upstream events that make rtpdtmfsrc key a digit, so a few lines of
// C drive the same pipeline through libgstreamer: start, then for each digit a dtmf-event start and stop.
const DTMF_DRIVER = String.raw`
#include <stdio.h>
typedef void *P;
extern void gst_init(int *, char ***);
extern P gst_parse_launch(const char *, P *);
extern int gst_element_set_state(P, int);
extern P gst_structure_from_string(const char *, char **);
extern P gst_event_new_custom(int, P);
extern int gst_element_send_event(P, P);
extern void g_usleep(unsigned long);
#define PLAYING 4
#define CUSTOM_UPSTREAM 69121
int main(int argc, char **argv) {
  if (argc < 3) return 2;
  gst_init(&argc, &argv);
  P error = NULL;
  P pipeline = gst_parse_launch(argv[1], &error);
  if (!pipeline || error) return 1;
  gst_element_set_state(pipeline, PLAYING);
  g_usleep(300000);
  for (const char *d = argv[2]; *d; d++) {
    int n = *d >= '0' && *d <= '9' ? *d - '0' : *d == '*' ? 10 : *d == '#' ? 11 : *d - 'A' + 12;
    char start[128];
    snprintf(start, sizeof start, "dtmf-event, type=(int)1, number=(int)%d, volume=(int)10, start=(boolean)true", n);
    gst_element_send_event(pipeline, gst_event_new_custom(CUSTOM_UPSTREAM, gst_structure_from_string(start, NULL)));
    g_usleep(120000);
    gst_element_send_event(pipeline, gst_event_new_custom(CUSTOM_UPSTREAM, gst_structure_from_string("dtmf-event, type=(int)1, start=(boolean)false", NULL)));
    g_usleep(150000);
  }
  printf("keyed\n");
  fflush(stdout);
  char buffer[64];
  while (fread(buffer, 1, sizeof buffer, stdin) > 0) {}
  return 0;
}
`;

const TEXT = 'Welcome to the meeting. Press one for English, two for French.';

let dir: string;
let dtmfDriver: string;
const children: ChildProcess[] = [];
const sessions: CallRtpSession[] = [];
const base = 46000 + 2 * Math.floor(Math.random() * 1500);
const ports = { min: base, max: base + 99 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plenum-sip-media-'));
  await writeFile(join(dir, 'dtmf-driver.c'), DTMF_DRIVER);
  dtmfDriver = join(dir, 'dtmf-driver');
  await run('gcc', ['-O1', '-o', dtmfDriver, join(dir, 'dtmf-driver.c'), '-l:libgstreamer-1.0.so.0', '-l:libgobject-2.0.so.0', '-l:libglib-2.0.so.0']);
});

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const session of sessions.splice(0)) session.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A UDP port free right now (bound and released), for a GStreamer receiver. */
async function freePort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

async function open(codec: CallCodec, remotePort: number): Promise<CallRtpSession> {
  const session = await CallRtpSession.open({ address: '127.0.0.1', ports, codec, telephoneEvent: { payloadType: 101 }, remote: { address: '127.0.0.1', port: remotePort } });
  sessions.push(session);
  return session;
}

/** A GStreamer receiver of the call's RTP on `port`, its decoded 16-bit mono audio collected from stdout. */
async function receiver(port: number, caps: string, decode: string[], rate: number): Promise<{ samples: () => Int16Array }> {
  const child = spawn(
    'gst-launch-1.0',
    ['-q', 'udpsrc', 'address=127.0.0.1', `port=${port}`, `caps=${caps}`, '!', ...decode, '!', 'audioconvert', '!', 'audioresample', '!', `audio/x-raw,format=S16LE,rate=${rate},channels=1`, '!', 'fdsink', 'fd=1'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
  await waitFor(async () => (await run('ss', ['-ulnH', `sport = :${port}`])).stdout.trim() !== '', { what: `the receiver on port ${port}` });
  return {
    samples: () => {
      const bytes = Buffer.concat(chunks);
      return Int16Array.from({ length: bytes.length >> 1 }, (_, i) => bytes.readInt16LE(i * 2));
    },
  };
}

/** Energy per 20 ms window, 0..1. */
function envelope(samples: Int16Array, rate: number): number[] {
  const window = (rate * 20) / 1000;
  const out: number[] = [];
  for (let start = 0; start + window <= samples.length; start += window) {
    let sum = 0;
    for (let i = start; i < start + window; i++) sum += (samples[i]! / 32768) ** 2;
    out.push(Math.sqrt(sum / window));
  }
  return out;
}

function correlation(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  const mean = (x: number[]): number => x.slice(0, n).reduce((s, v) => s + v, 0) / n;
  const ma = mean(a);
  const mb = mean(b);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Power of `frequency` in `samples` (Goertzel), normalised. */
function tonePower(samples: Int16Array, rate: number, frequency: number): number {
  const k = 2 * Math.cos((2 * Math.PI * frequency) / rate);
  let s1 = 0;
  let s2 = 0;
  for (const sample of samples) {
    const s0 = sample / 32768 + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / samples.length ** 2;
}

describe('a phone call media session with real GStreamer endpoints', () => {
  it('receives a phone\'s voice and its RFC 4733 digits in order, latched to the port it sends from', async () => {
    const declaredPort = await freePort();
    const session = await open({ name: 'PCMU', payloadType: 0, clockRate: 8000 }, declaredPort);
    const digits: string[] = [];
    const voice: Buffer[] = [];
    session.on('digit', (d) => digits.push(d));
    session.on('audio', (packet) => voice.push(packet));
    const pipeline = [
      'audiotestsrc is-live=true freq=440 volume=0.5 ! audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay pt=0',
      '! rtpdtmfmux name=mux ! udpsink host=127.0.0.1 port=' + session.localPort,
      'rtpdtmfsrc pt=101 packet-redundancy=3 ! mux.priority_sink_0',
    ].join(' ');
    const driver = spawn(dtmfDriver, [pipeline, '1#4*09'], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(driver);
    let keyed = false;
    driver.stdout!.on('data', (text: Buffer) => (keyed ||= text.toString().includes('keyed')));

    await waitFor(() => keyed && digits.length >= 6, { what: `six digits (got ${digits.join('')})` });
    await waitFor(() => voice.length >= 25, { what: '25 voice packets' });
    expect(digits).toEqual(['1', '#', '4', '*', '0', '9']);
    expect(session.remoteAddress.port).not.toBe(declaredPort);
    for (const packet of voice) expect(readRtpHeader(packet)!.payloadType).toBe(0);
    // The voice is the sender's 440 Hz tone, decoded with our μ-law.
    const pcm = g711Decode('PCMU', Buffer.concat(voice.slice(-25).map((p) => p.subarray(readRtpHeader(p)!.payloadOffset))));
    expect(tonePower(pcm, 8000, 440)).toBeGreaterThan(20 * tonePower(pcm, 8000, 1000));
    expect(tonePower(pcm, 8000, 440)).toBeGreaterThan(20 * tonePower(pcm, 8000, 300));
  });

  describe.each([
    { codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 } as const, caps: 'application/x-rtp,media=audio,clock-rate=8000,encoding-name=PCMU,payload=0', decode: ['rtppcmudepay', '!', 'mulawdec'], rate: 8000 },
    { codec: { name: 'PCMA', payloadType: 8, clockRate: 8000 } as const, caps: 'application/x-rtp,media=audio,clock-rate=8000,encoding-name=PCMA,payload=8', decode: ['rtppcmadepay', '!', 'alawdec'], rate: 8000 },
    { codec: { name: 'opus', payloadType: 111, clockRate: 48000 } as const, caps: 'application/x-rtp,media=audio,clock-rate=48000,encoding-name=OPUS,payload=111', decode: ['rtpopusdepay', '!', 'opusdec'], rate: 48000 },
  ])('a spoken prompt in $codec.name', ({ codec, caps, decode, rate }) => {
    it('plays to the phone as speech of the spoken length, following espeak-ng\'s own audio', async () => {
      const library = new PromptLibrary({ cacheDir: join(dir, 'prompts') });
      const started = performance.now();
      const prompt = await library.prompt(TEXT, codec.name);
      console.log(`prompt generation (${codec.name}, ${TEXT.length} characters): ${Math.round(performance.now() - started)} ms for ${prompt.durationMs} ms of audio`);

      const reference = parseWavPcm((await run('espeak-ng', ['--stdout', '-v', 'en', TEXT], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 })).stdout as unknown as Buffer);
      const referenceMs = (reference.samples.length * 1000) / reference.sampleRate;
      expect(Math.abs(prompt.durationMs - referenceMs)).toBeLessThan(60);

      const port = await freePort();
      const phone = await receiver(port, caps, decode, rate);
      const session = await open(codec, port);
      expect(await new PromptPlayer(session).play(prompt)).toBe('done');
      const expected = (prompt.durationMs * rate) / 1000;
      const heard = await waitFor(() => (phone.samples().length >= expected * 0.98 ? phone.samples() : undefined), { what: 'the whole prompt decoded' });

      const received = envelope(heard, rate);
      const spoken = received.filter((e) => e > 0.02).length / received.length;
      expect(spoken).toBeGreaterThan(0.4);
      expect(correlation(received, envelope(reference.samples, reference.sampleRate))).toBeGreaterThan(0.85);
    });
  });

  it('speaks a prompt once: concurrent requests share one espeak-ng, and a restart reads the disk cache', async () => {
    const log = join(dir, 'espeak-calls.log');
    const counting = join(dir, 'counting-espeak');
    await writeFile(counting, `#!/bin/sh\necho call >> '${log}'\nexec espeak-ng "$@"\n`);
    await chmod(counting, 0o755);
    const cacheDir = join(dir, 'cache-check');
    const text = 'Your floor request is registered.';
    const first = new PromptLibrary({ cacheDir, espeakPath: counting });
    const [a, b, c] = await Promise.all([first.prompt(text, 'PCMA'), first.prompt(text, 'PCMA'), first.prompt(`  ${text}  `, 'PCMA')]);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect((await readFile(log, 'utf8')).trim().split('\n')).toHaveLength(1);

    const restarted = new PromptLibrary({ cacheDir, espeakPath: counting });
    const again = await restarted.prompt(text, 'PCMA');
    expect(again.frames).toEqual(a.frames);
    expect((await readFile(log, 'utf8')).trim().split('\n')).toHaveLength(1);

    await restarted.prompt(text, 'PCMA', 'fr');
    expect((await readFile(log, 'utf8')).trim().split('\n')).toHaveLength(2);
    await expect(restarted.prompt(text, 'PCMA', '--help')).rejects.toThrow(/invalid espeak-ng voice/);
    await expect(restarted.prompt('', 'PCMA')).rejects.toThrow(/prompt text/);
  });
});

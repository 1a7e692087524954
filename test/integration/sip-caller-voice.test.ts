import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { types } from 'mediasoup';
import { RoomMedia, type WorkerPool } from '../../media/index.js';
import { CallerVoice } from '../../server/dial-in/mix/caller-voice.js';
import { isRtcp, readRtpHeader } from '../../server/recording/rtp-packet.js';
import { startPool, testLimits, testLog } from '../helpers/media.js';
import { decodeOpusPackets, toneAmplitude } from '../helpers/recorded-audio.js';
import { waitFor } from '../helpers/wait.js';

// A phone caller's voice into mediasoup, on real parts: a GStreamer "phone" sends a tone as G.711 or Opus
// RTP to a UDP socket of the test, whose packets are written to CallerVoice; a PlainTransport consumer of
// its producer receives Opus, which GStreamer decodes, and the tone's level is measured in it.

const TONE = 600;

let pool: WorkerPool;
let media: RoomMedia;
const cleanup: Array<() => void> = [];

beforeAll(async () => {
  pool = await startPool();
  media = await RoomMedia.create(pool.leastLoaded()!, testLimits, testLog);
});
afterEach(() => {
  for (const c of cleanup.splice(0).reverse()) c();
});
afterAll(() => {
  media?.close();
  pool?.close();
});

const PHONE: Record<'PCMU' | 'PCMA' | 'opus', { pt: number; encode: string[] }> = {
  PCMU: { pt: 0, encode: ['audio/x-raw,rate=8000,channels=1', '!', 'mulawenc', '!', 'rtppcmupay'] },
  PCMA: { pt: 8, encode: ['audio/x-raw,rate=8000,channels=1', '!', 'alawenc', '!', 'rtppcmapay'] },
  opus: { pt: 111, encode: ['opusenc', '!', 'rtpopuspay', 'pt=111'] },
};

/** A phone sending a tone as RTP to a socket of the test, which writes every packet to `voice`. */
async function phone(codec: keyof typeof PHONE, voice: CallerVoice): Promise<void> {
  const socket = createSocket('udp4');
  socket.on('message', (packet) => voice.write(packet));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const child = spawn('gst-launch-1.0', ['-q', 'audiotestsrc', 'is-live=true', `freq=${TONE}`, 'volume=0.5', '!', 'audioconvert', '!', 'audioresample', '!', ...PHONE[codec].encode, '!', 'udpsink', 'host=127.0.0.1', `port=${socket.address().port}`], { stdio: 'ignore' });
  cleanup.push(() => {
    child.kill('SIGKILL');
    socket.close();
  });
}

/** What the room receives from the producer: a PlainTransport consumer sending to a socket of the test. */
class Ear {
  readonly packets: Buffer[] = [];
  private constructor(
    private readonly socket: Socket,
    readonly consumer: types.Consumer,
  ) {}

  static async create(producer: types.Producer): Promise<Ear> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const transport = await media.router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false });
    await transport.connect({ ip: '127.0.0.1', port: socket.address().port });
    const consumer = await transport.consume({
      producerId: producer.id,
      rtpCapabilities: { codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, preferredPayloadType: 100 }], headerExtensions: [] },
    });
    const ear = new Ear(socket, consumer);
    socket.on('message', (packet) => {
      if (!isRtcp(packet)) ear.packets.push(packet);
    });
    cleanup.push(() => {
      transport.close();
      socket.close();
    });
    return ear;
  }

  /** The tone's amplitude in what arrives during the next `ms`, decoded by GStreamer. */
  async level(ms: number): Promise<{ tone: number; packets: number }> {
    const from = this.packets.length;
    const until = Date.now() + ms;
    await waitFor(() => Date.now() >= until, { intervalMs: 20, timeoutMs: ms + 1000, what: `${ms} ms of packets` });
    const packets = this.packets.slice(from);
    return { tone: toneAmplitude(await decodeOpusPackets(packets), 48000, TONE), packets: packets.length };
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a phone caller\'s voice as a mediasoup producer', () => {
  it.each(['PCMU', 'PCMA'] as const)('transcodes %s to the router\'s Opus while the producer may be heard', async (codec) => {
    const voice = await CallerVoice.open(media.router, codec, { gstLaunch: 'gst-launch-1.0', restartDelayMs: 100, log: testLog });
    cleanup.push(() => voice.close());
    expect(voice.producer.rtpParameters.codecs[0]!.mimeType).toBe('audio/opus');
    expect(voice.producer.appData).toEqual({ source: 'mic', channel: 'floor' });
    expect(voice.transport.appData.direction).toBe('send');
    const ear = await Ear.create(voice.producer);
    await phone(codec, voice);
    await waitFor(async () => (await ear.level(400)).tone > 0.3, { what: 'the caller\'s tone in the room' });
    const heard = await ear.level(1000);
    expect(heard.tone).toBeGreaterThan(0.35);
    expect(heard.tone).toBeLessThan(0.65);
    for (const p of ear.packets.slice(-10)) expect(readRtpHeader(p)!.payloadType).toBe(100);

    // Paused (the caller does not hold the floor): the transcoder stops; resumed, it starts again.
    const pid = voice.transcoderPid!;
    expect(pid).toBeGreaterThan(0);
    await voice.producer.pause();
    await waitFor(() => voice.transcoderPid === undefined && !alive(pid), { what: 'the transcoder to stop' });
    await voice.producer.resume();
    await waitFor(() => voice.transcoderPid !== undefined, { what: 'the transcoder to start again' });
    expect(voice.transcoderPid).not.toBe(pid);
    await waitFor(async () => (await ear.level(400)).tone > 0.3, { what: 'the tone after the resume' });
    // A packet that is not the caller's voice (an RFC 4733 event's payload type) does not reach the transcoder.
    const before = voice.dropped;
    voice.write(Buffer.from([0x80, 101, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 1, 0x0a, 0, 0xa0]));
    expect(voice.dropped).toBe(before + 1);

    const last = voice.transcoderPid!;
    voice.close();
    expect(voice.producer.closed).toBe(true);
    expect(voice.transport.closed).toBe(true);
    await waitFor(() => !alive(last), { what: 'the transcoder to end with the voice' });
  });

  it('passes an Opus caller\'s packets through, with the router\'s payload type', async () => {
    const voice = await CallerVoice.open(media.router, 'opus', { gstLaunch: 'gst-launch-1.0', payloadType: 111, log: testLog });
    cleanup.push(() => voice.close());
    const ear = await Ear.create(voice.producer);
    await phone('opus', voice);
    await waitFor(async () => (await ear.level(400)).tone > 0.3, { what: 'the caller\'s tone in the room' });
    expect(voice.transcoderPid).toBeUndefined();
    expect(voice.dropped).toBe(0);
  });
});

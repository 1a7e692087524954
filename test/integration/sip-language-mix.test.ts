import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RoomMedia, type WorkerPool } from '../../media/index.js';
import { CloseReason } from '../../protocol/errors.js';
import { LanguageMixes, type MixSubscribeOptions } from '../../server/dial-in/mix/language-mixes.js';
import type { PhoneCodec } from '../../server/dial-in/mix/mix-pipelines.js';
import { readRtpHeader } from '../../server/recording/rtp-packet.js';
import type { Participant } from '../../server/rooms/participant.js';
import { Room } from '../../server/rooms/room.js';
import { grants } from '../helpers/grants.js';
import { startPool, testLimits, testLog } from '../helpers/media.js';
import { decodeOpusPackets, toneAmplitude, ToneSource } from '../helpers/recorded-audio.js';
import { waitFor } from '../helpers/wait.js';

// What a phone caller hears, on real parts: mediasoup workers, GStreamer opusenc tones as the floor speaker's
// and the French interpreter's microphones, the server's own Room deciding who is heard, and the mixers'
// gst-launch processes. The G.711 a caller receives is decoded here (μ-law by hand), the Opus by GStreamer,
// and each tone's level is measured in it.

const FLOOR_A = 400;
const FLOOR_B = 600;
const FR_1 = 1000;
const FR_2 = 1400;
/** Both tones are sent at half scale (ToneSource's volume). */
const FULL = 0.5;

let pool: WorkerPool;
let room: Room;
let mixes: LanguageMixes;
const tones: ToneSource[] = [];
/** Each person's microphone (producer id). */
const mics = new Map<string, string>();
const unsubscribes: Array<() => void> = [];

beforeAll(async () => {
  pool = await startPool();
  const media = await RoomMedia.create(pool.leastLoaded()!, testLimits, testLog);
  room = new Room('plenary', media, { idleCloseMs: 60_000, languages: ['fr', 'es'], handoverTakeAfterMs: 300, floor: { controlled: true, speakingTimeLimitMs: 180_000, speakingTimeWarningMs: 30_000 } }, testLog);
  mixes = new LanguageMixes(room, { gstLaunch: 'gst-launch-1.0', lingerMs: 300, restartDelayMs: 200, log: testLog });
});
afterEach(() => {
  for (const off of unsubscribes.splice(0)) off();
});
afterAll(() => {
  mixes?.close();
  for (const t of tones.splice(0)) t.close();
  room?.close(CloseReason.SERVER_SHUTDOWN);
  pool?.close();
});

function person(id: string, booths: string[] = []): Participant {
  return room.join(id, grants({ room: 'plenary', person: id, name: `Name ${id}`, entity: { name: 'Kenya', type: 'member_state' }, publish: { floor: booths.length === 0, booths, captions: false } }), room.media.rtpCapabilities, () => undefined);
}

/** A microphone in a channel: a tone, adopted and announced as a client's producer would be. */
async function microphone(p: Participant, channel: string, frequency: number, ssrc: number): Promise<void> {
  const tone = await ToneSource.create(room.media.router, frequency, ssrc, { channel, source: 'mic' });
  tones.push(tone);
  p.endpoint.adoptProducer(tone.producer, room.media.router);
  if (channel !== 'floor') await room.interpretation.onProducer(p, tone.producer);
  room.announceProducer(p, tone.producer);
  mics.set(p.id, tone.producer.id);
}

/** A phone listener: every packet it is sent, in order of arrival. */
class Listener {
  readonly packets: Buffer[] = [];
  constructor(
    readonly channel: string,
    readonly codec: PhoneCodec,
    options: MixSubscribeOptions = {},
  ) {
    unsubscribes.push((this.off = mixes.subscribe(channel, codec, (rtp) => this.packets.push(rtp), options)));
  }
  off: () => void;

  /** The packets that arrive during the next `ms`. */
  async next(ms: number): Promise<Buffer[]> {
    const from = this.packets.length;
    const until = Date.now() + ms;
    await waitFor(() => Date.now() >= until, { intervalMs: 20, timeoutMs: ms + 1000, what: `${ms} ms of packets` });
    return this.packets.slice(from);
  }
}

/** G.711 μ-law to linear (ITU-T G.711), scaled to -1..1. */
function ulaw(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << exponent) - 0x84;
  return ((u & 0x80) !== 0 ? -magnitude : magnitude) / 32768;
}

function decodePcmu(packets: Buffer[]): Float64Array {
  const payloads = packets.map((p) => p.subarray(readRtpHeader(p)!.payloadOffset));
  const out = new Float64Array(payloads.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of payloads) for (const b of p) out[i++] = ulaw(b);
  return out;
}

/** Each person's tone level in what a listener receives during the next `ms`. */
async function levels(listener: Listener, ms: number): Promise<Record<'a' | 'b' | 'fr1' | 'fr2', number> & { packets: Buffer[] }> {
  const packets = await listener.next(ms);
  const rate = listener.codec === 'opus' ? 48000 : 8000;
  const samples = listener.codec === 'opus' ? await decodeOpusPackets(packets) : decodePcmu(packets);
  const level = (f: number): number => toneAmplitude(samples, rate, f);
  return { a: level(FLOOR_A), b: level(FLOOR_B), fr1: level(FR_1), fr2: level(FR_2), packets };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('phone listening mixes', () => {
  it('mixes a language as the SDK plays it, follows the floor and the booth, one process per channel, stopped after its last listener', async () => {
    const a = person('a');
    const b = person('b');
    const fr1 = person('fr1', ['fr']);
    const fr2 = person('fr2', ['fr']);
    await microphone(a, 'floor', FLOOR_A, 101);
    await microphone(b, 'floor', FLOOR_B, 102);
    await microphone(fr1, 'fr', FR_1, 201);
    await microphone(fr2, 'fr', FR_2, 202);
    room.floor.request({ id: 'a', name: 'Name a', entity: 'Kenya', kind: 'speaker' });
    room.floor.give('a');
    await room.interpretation.act('fr', (booth) => booth.goLive('fr1'));

    const french = new Listener('fr', 'PCMU');
    // The interpreter at full level, the floor ducked to 15 % under them.
    await waitFor(async () => {
      const l = await levels(french, 400);
      return l.fr1 > 0.8 * FULL && l.a > 0.05 * FULL;
    }, { what: 'the interpreter over the ducked floor' });
    const live = await levels(french, 1000);
    expect(live.packets.length).toBeGreaterThan(40);
    // 20 ms packets of G.711: 160 samples each, payload type 0, consecutive sequence numbers.
    for (const p of live.packets) expect([readRtpHeader(p)!.payloadType, p.length - 12]).toEqual([0, 160]);
    const seqs = live.packets.map((p) => readRtpHeader(p)!.sequence);
    expect(seqs.every((s, i) => i === 0 || s === ((seqs[i - 1]! + 1) & 0xffff))).toBe(true);
    expect(live.fr1).toBeGreaterThan(0.8 * FULL);
    expect(live.fr1).toBeLessThan(1.2 * FULL);
    expect(live.a / live.fr1).toBeGreaterThan(0.1);
    expect(live.a / live.fr1).toBeLessThan(0.2);
    expect(Math.max(live.b, live.fr2)).toBeLessThan(0.02);

    // Two listeners of one channel share its mixer; the floor has its own.
    const frPid = mixes.pids().fr!;
    expect(frPid).toBeGreaterThan(0);
    const french2 = new Listener('fr', 'PCMU');
    const floor = new Listener('floor', 'opus');
    await waitFor(() => mixes.processCount === 2, { what: 'the floor mixer' });
    expect(mixes.pids().fr).toBe(frPid);
    expect((await levels(french2, 600)).fr1).toBeGreaterThan(0.8 * FULL);
    // The floor channel: the floor voice at full level, nothing of the booth.
    await waitFor(async () => (await levels(floor, 400)).a > 0.8 * FULL, { what: 'the floor on the floor channel' });
    const onFloor = await levels(floor, 1000);
    expect(onFloor.a).toBeGreaterThan(0.8 * FULL);
    expect(Math.max(onFloor.fr1, onFloor.fr2)).toBeLessThan(0.02);
    for (const p of onFloor.packets) expect(readRtpHeader(p)!.payloadType).toBe(100);

    // The floor passes to b: French listeners hear b ducked under the interpreter, a no more.
    room.floor.request({ id: 'b', name: 'Name b', entity: 'Kenya', kind: 'speaker' });
    room.floor.give('b');
    await waitFor(async () => {
      const l = await levels(french, 400);
      return l.b > 0.05 * FULL && l.a < 0.02 && l.fr1 > 0.8 * FULL;
    }, { what: 'the next speaker under the interpreter' });
    await waitFor(async () => (await levels(floor, 400)).b > 0.8 * FULL, { what: 'the next speaker on the floor channel' });

    // A handover in the booth: the partner's voice, at full level, with no restart.
    await room.interpretation.act('fr', (booth) => booth.handoverAction('fr1', 'offer'));
    await room.interpretation.act('fr', (booth) => booth.handoverAction('fr2', 'accept'));
    await waitFor(async () => {
      const l = await levels(french, 400);
      return l.fr2 > 0.8 * FULL && l.fr1 < 0.02;
    }, { what: 'the partner after the handover' });
    const handedOver = await levels(french, 1000);
    expect(handedOver.b / handedOver.fr2).toBeGreaterThan(0.1);
    expect(handedOver.b / handedOver.fr2).toBeLessThan(0.2);

    // The interpreter goes off: French listeners hear the floor at full level, in the same process.
    await room.interpretation.act('fr', (booth) => booth.goOff('fr2'));
    await waitFor(async () => {
      const l = await levels(french, 400);
      return l.b > 0.8 * FULL && l.fr2 < 0.02;
    }, { what: 'the floor alone once the booth is empty' });
    const empty = await levels(french, 1000);
    expect(empty.b).toBeGreaterThan(0.8 * FULL);
    expect(Math.max(empty.a, empty.fr1, empty.fr2)).toBeLessThan(0.02);
    expect(mixes.pids().fr).toBe(frPid);

    // A mixer that dies is started again, and its listeners hear the channel again.
    process.kill(frPid, 'SIGKILL');
    await waitFor(() => mixes.pids().fr !== undefined && mixes.pids().fr !== frPid, { what: 'the restarted mixer' });
    await waitFor(async () => (await levels(french, 400)).b > 0.8 * FULL, { what: 'the floor after the restart' });

    // An A-law listener: the channel's one mixer encodes that too.
    const alaw = new Listener('fr', 'PCMA');
    await waitFor(() => alaw.packets.length > 10, { what: 'A-law packets' });
    expect(readRtpHeader(alaw.packets.at(-1)!)!.payloadType).toBe(8);
    expect(mixes.processCount).toBe(2);

    // The last listener of each channel leaves: after the linger, no mixer runs.
    const pids = Object.values(mixes.pids()) as number[];
    for (const l of [french, french2, floor, alaw]) l.off();
    await waitFor(() => mixes.processCount === 0 && pids.every((pid) => !alive(pid)), { what: 'the mixers to stop' });
    expect(mixes.pids()).toEqual({});
  });

  it('gives a caller holding the floor a mix without their own voice, while they hold it', async () => {
    // Where the first test left the room: b holds the floor, the French booth is empty.
    await room.interpretation.act('fr', (booth) => booth.goLive('fr2'));
    const others = new Listener('fr', 'PCMU');
    const speaker = new Listener('fr', 'PCMU', { except: mics.get('b') });
    await waitFor(() => mixes.processCount === 2 && mixes.pids()[`fr/-${mics.get('b')}`] !== undefined, { what: 'the mix-minus' });
    await waitFor(async () => {
      const l = await levels(speaker, 400);
      return l.fr2 > 0.8 * FULL && l.b < 0.01;
    }, { what: 'the interpreter without the caller\'s own voice' });
    await waitFor(async () => {
      const l = await levels(others, 400);
      return l.fr2 > 0.8 * FULL && l.b > 0.05 * FULL;
    }, { what: 'the caller under the interpreter for the others' });

    // The floor passes on: the caller is back in the channel's mix, and the mix-minus stops.
    room.floor.request({ id: 'a', name: 'Name a', entity: 'Kenya', kind: 'speaker' });
    room.floor.give('a');
    await waitFor(() => mixes.processCount === 1 && Object.keys(mixes.pids()).join() === 'fr', { what: 'the mix-minus to stop' });
    await waitFor(async () => {
      const l = await levels(speaker, 400);
      return l.fr2 > 0.8 * FULL && l.a > 0.05 * FULL && l.b < 0.01;
    }, { what: 'the channel\'s mix for the former speaker' });
  });

  it('refuses a channel the room does not interpret', () => {
    expect(() => mixes.subscribe('de', 'PCMU', () => undefined)).toThrow(/no de channel/);
  });
});

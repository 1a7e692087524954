import { randomInt } from 'node:crypto';
import type { Logger } from '../../logger.js';
import { AudioSplicer } from '../../recording/audio-splicer.js';
import { OPUS_PAYLOAD_TYPE } from '../../recording/gst-pipelines.js';
import { OPUS_SILENCE_20MS, opusSamples } from '../../recording/opus-packet.js';
import { monotonicMs } from '../../recording/rtcp-sender-report.js';
import { framed } from '../../recording/rtp-packet.js';
import { GstChild } from './gst-child.js';
import { channelMix, mixLayout, type MixLayout, type PhoneCodec } from './mix-pipelines.js';
import { opusSilence } from './opus-silence.js';

export interface ChannelMixOptions {
  /** 'floor', or the language of a booth. */
  channel: string;
  gstLaunch: string;
  /** How many floor voices are mixed at once. */
  floorVoices: number;
  /** How far behind real time the inputs run, so that late packets still find their place. */
  delayMs: number;
  /** First wait before a mixer that died is started again; doubles up to 8x while it keeps dying. */
  restartDelayMs: number;
  /** Whether the booth has a live interpreter now (the floor is ducked under it); language channels only. */
  boothLive: () => boolean;
  log: Logger;
}

/** Inputs are fed every 20 ms: one Opus packet per input per tick, as the mixer consumes them. */
const TICK_MS = 20;
/** A mixer that has run this long is healthy again: the restart backoff starts over. */
const HEALTHY_AFTER_MS = 30_000;

type Sink = (rtp: Buffer) => void;

/**
 * One channel as phone callers hear it, for every caller of the room on it: the booth's live interpreter
 * and the floor's voices, each followed by an AudioSplicer (a continuous Opus stream, silence where nobody
 * speaks), mixed by one gst-launch process that encodes the mix once per codec in use. While the booth is
 * live each floor voice goes to the mixer's ducked input (15 %), else to its full one; the other input
 * gets the same packet's length of silence. The caller of `follow*` decides what each input follows.
 */
export class ChannelMix {
  private readonly interpreter: AudioSplicer | undefined;
  private readonly floor: AudioSplicer[];
  private readonly layout: MixLayout;
  private readonly codecs = new Set<PhoneCodec>();
  private readonly ssrcs = new Map<PhoneCodec, number>();
  private readonly sinks = new Map<PhoneCodec, Set<Sink>>();
  private process: GstChild | undefined;
  private readonly timer: NodeJS.Timeout;
  private restartTimer: NodeJS.Timeout | undefined;
  private healthyTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  /** The instant of the current tick: every splicer flushes up to the same horizon, so inputs stay in step. */
  private tickNow = monotonicMs();
  /** Frames of the current tick, by input fd. */
  private frames = new Map<number, Buffer[]>();
  private ducked = false;

  constructor(private readonly options: ChannelMixOptions) {
    const language = options.channel !== 'floor';
    // Inputs do not depend on the codecs: their fds are the same in every process of this mix.
    this.layout = mixLayout(language, options.floorVoices, []);
    const splicer = (send: (packet: Buffer) => void): AudioSplicer =>
      new AudioSplicer({ originMs: this.tickNow, startAt: 0, delayMs: options.delayMs, payloadType: OPUS_PAYLOAD_TYPE, now: () => this.tickNow, send });
    const interpreterFd = this.layout.interpreter;
    this.interpreter = interpreterFd === undefined ? undefined : splicer((packet) => this.queue(interpreterFd, packet));
    this.floor = this.layout.floorFull.map((full, i) => {
      const ducked = this.layout.floorDucked[i];
      return splicer((packet) => {
        if (ducked === undefined) return this.queue(full, packet);
        this.queue(this.ducked ? ducked : full, packet);
        this.queue(this.ducked ? full : ducked, silenceTwin(packet));
      });
    });
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  get channel(): string {
    return this.options.channel;
  }

  get pid(): number | undefined {
    return this.process?.running ? this.process.pid : undefined;
  }

  get subscribers(): number {
    let n = 0;
    for (const set of this.sinks.values()) n += set.size;
    return n;
  }

  /**
   * A listener of this channel in `codec`; the mixer starts with its first listener, and is started again
   * with one more encoder when a codec it does not yet encode is asked for (a moment's gap for the others).
   */
  add(codec: PhoneCodec, sink: Sink): void {
    if (this.closed) return;
    let set = this.sinks.get(codec);
    if (!set) this.sinks.set(codec, (set = new Set()));
    set.add(sink);
    if (!this.ssrcs.has(codec)) this.ssrcs.set(codec, randomInt(1, 2 ** 32 - 1));
    if (this.codecs.has(codec)) return;
    this.codecs.add(codec);
    this.process?.stop();
    this.process = undefined;
    clearTimeout(this.restartTimer);
    this.start();
  }

  remove(codec: PhoneCodec, sink: Sink): void {
    this.sinks.get(codec)?.delete(sink);
  }

  /** The interpreter input follows this source (an SSRC of the tap), or none (silence). */
  followInterpreter(ssrc: number | undefined): void {
    this.interpreter?.follow(ssrc);
  }

  /** Floor input `slot` follows this source, or none. */
  followFloor(slot: number, ssrc: number | undefined): void {
    this.floor[slot]?.follow(ssrc);
  }

  /** RTP from the tap: each input keeps the packets of the source it follows. */
  rtp(packet: Buffer, arrivalMs: number): void {
    this.interpreter?.rtp(packet, arrivalMs);
    for (const s of this.floor) s.rtp(packet, arrivalMs);
  }

  rtcp(packet: Buffer): void {
    this.interpreter?.rtcp(packet);
    for (const s of this.floor) s.rtcp(packet);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.restartTimer);
    clearTimeout(this.healthyTimer);
    this.process?.stop();
    this.process = undefined;
    this.sinks.clear();
  }

  private queue(fd: number, packet: Buffer): void {
    let list = this.frames.get(fd);
    if (!list) this.frames.set(fd, (list = []));
    list.push(framed(packet));
  }

  /** Every input is flushed up to the same instant, then written to the mixer in one go. */
  private tick(): void {
    this.tickNow = monotonicMs();
    this.ducked = this.interpreter !== undefined && this.options.boothLive();
    this.interpreter?.flush();
    for (const s of this.floor) s.flush();
    const frames = this.frames;
    this.frames = new Map();
    if (frames.size === 0 || !this.process?.running) return;
    this.process.write(new Map([...frames].map(([fd, list]) => [fd, list.length === 1 ? list[0]! : Buffer.concat(list)])));
  }

  private start(): void {
    if (this.closed) return;
    const codecs = [...this.codecs];
    const layout = mixLayout(this.interpreter !== undefined, this.options.floorVoices, codecs);
    const inputs = [...(layout.interpreter === undefined ? [] : [layout.interpreter]), ...layout.floorFull, ...layout.floorDucked];
    const outputs = new Map([...layout.outputs].map(([codec, fd]) => [fd, (packet: Buffer) => this.deliver(codec, packet)] as const));
    const process = new GstChild({ bin: this.options.gstLaunch, args: channelMix(layout, this.ssrcs), inputs, outputs, log: this.options.log });
    this.process = process;
    clearTimeout(this.healthyTimer);
    this.healthyTimer = setTimeout(() => {
      if (this.process === process && process.running) this.failures = 0;
    }, HEALTHY_AFTER_MS);
    this.healthyTimer.unref();
    process.once('exit', ({ expected }) => {
      if (expected || this.closed || this.process !== process) return;
      this.process = undefined;
      this.failures += 1;
      const wait = this.options.restartDelayMs * Math.min(8, 2 ** (this.failures - 1));
      this.options.log.warn({ attempt: this.failures, waitMs: wait }, 'channel mixer died; starting it again');
      this.restartTimer = setTimeout(() => this.start(), wait);
    });
  }

  /** Each listener gets its own copy: the caller's session rewrites the header in place. */
  private deliver(codec: PhoneCodec, packet: Buffer): void {
    const sinks = this.sinks.get(codec);
    if (!sinks) return;
    let last = sinks.size;
    for (const sink of sinks) {
      try {
        sink(--last === 0 ? packet : Buffer.from(packet));
      } catch (error) {
        this.options.log.warn({ err: (error as Error).message }, 'a mix listener failed');
      }
    }
  }
}

/** The same RTP header (12 bytes, as the splicer writes it) around silence of the same length. */
function silenceTwin(packet: Buffer): Buffer {
  const samples = opusSamples(packet.subarray(12));
  const silence = (samples === undefined ? undefined : opusSilence(samples)) ?? OPUS_SILENCE_20MS;
  return Buffer.concat([packet.subarray(0, 12), silence]);
}

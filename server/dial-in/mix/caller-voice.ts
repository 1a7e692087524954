import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from '../../logger.js';
import { OPUS_PAYLOAD_TYPE } from '../../recording/gst-pipelines.js';
import { SAMPLES_PER_MS } from '../../recording/opus-packet.js';
import { monotonicMs } from '../../recording/rtcp-sender-report.js';
import { framed, readRtpHeader } from '../../recording/rtp-packet.js';
import { MAX_FRAME } from './framed-reader.js';
import { GstChild } from './gst-child.js';
import { g711ToOpus, MIX_PAYLOAD_TYPE, PHONE_CODECS, type PhoneCodec } from './mix-pipelines.js';

export interface CallerVoiceOptions {
  /** gst-launch-1.0's path (PLENUM_GST_LAUNCH). */
  gstLaunch: string;
  /** The payload type the caller sends its voice with: required for Opus (negotiated); G.711's are 0 and 8. */
  payloadType?: number;
  /** The producer's appData (default: a floor microphone, `{ source: 'mic', channel: 'floor' }`). */
  appData?: Record<string, unknown>;
  /** First wait before a transcoder that died may start again (default 500 ms; doubles up to 8x). */
  restartDelayMs?: number;
  log: Logger;
}

/** A transcoder that has run this long is healthy again: the restart backoff starts over. */
const HEALTHY_AFTER_MS = 30_000;

/** The router's Opus (media/codecs.ts), as this producer carries it. */
const producerCodec = (): types.RtpCodecParameters => ({ mimeType: 'audio/opus', payloadType: OPUS_PAYLOAD_TYPE, clockRate: 48000, channels: 2 });

/**
 * A phone caller's voice in the room: a mediasoup producer of Opus on a PlainTransport (comedia, loopback),
 * fed from a UDP socket of ours. Opus from the caller goes through as it is (payload type and SSRC made
 * the producer's); G.711 goes through a gst-launch transcoder (rtppcm*depay ! *dec ! audioresample !
 * opusenc ! rtpopuspay), which runs only while the producer may be heard: it starts on the first packet
 * written while the producer is not paused, and stops when the producer is paused (the floor passes on).
 * The caller's session adopts `transport` and `producer` into its participant's endpoint; closing the
 * voice (or the transport) closes everything.
 */
export class CallerVoice extends EventEmitter<{ close: [] }> {
  private transcoder: GstChild | undefined;
  private failures = 0;
  private notBefore = 0;
  private healthyTimer: NodeJS.Timeout | undefined;
  private sequence = randomInt(0, 0x10000);
  /** The last timestamp sent and when, so a new transcoder's stream continues the previous one's. */
  private last: { timestamp: number; atMs: number } | undefined;
  /** The current transcoder's timestamp offset, set by its first packet. */
  private offset: number | undefined;
  private isClosed = false;
  /** Packets refused (not RTP, too long, not the caller's voice payload type). */
  dropped = 0;

  private constructor(
    readonly transport: types.PlainTransport,
    readonly producer: types.Producer,
    private readonly socket: Socket,
    private readonly codec: PhoneCodec,
    private readonly payloadType: number,
    private readonly options: CallerVoiceOptions,
  ) {
    super();
    transport.observer.once('close', () => this.close());
    producer.observer.once('close', () => this.close());
    // Nobody hears a paused producer: its transcoder is not worth its CPU until it is resumed.
    producer.observer.on('pause', () => this.stopTranscoder());
  }

  static async open(router: types.Router, codec: PhoneCodec, options: CallerVoiceOptions): Promise<CallerVoice> {
    if (!PHONE_CODECS.includes(codec)) throw new Error(`no caller voice in ${String(codec)}`);
    const payloadType = codec === 'opus' ? options.payloadType : MIX_PAYLOAD_TYPE[codec];
    if (payloadType === undefined) throw new Error('an Opus caller needs its negotiated payload type');
    const socket = createSocket('udp4');
    // The transport's RTCP (receiver reports) comes back here; a caller's phone needs none of it.
    socket.on('message', () => undefined);
    socket.on('error', (error) => options.log.warn({ err: error.message }, 'caller voice socket error'));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    let transport: types.PlainTransport | undefined;
    try {
      // `direction` lets a participant's MediaEndpoint adopt it as a send transport.
      transport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true, appData: { direction: 'send', phone: true } });
      const producer = await transport.produce({
        kind: 'audio',
        rtpParameters: { codecs: [producerCodec()], encodings: [{ ssrc: randomInt(1, 2 ** 32 - 1) }] },
        appData: options.appData ?? { source: 'mic', channel: 'floor' },
      });
      return new CallerVoice(transport, producer, socket, codec, payloadType, options);
    } catch (error) {
      transport?.close();
      socket.close();
      throw error;
    }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** The transcoder's pid while one runs (G.711 callers): tests and metrics. */
  get transcoderPid(): number | undefined {
    return this.transcoder?.running ? this.transcoder.pid : undefined;
  }

  /** One RTP packet of the caller's voice (RFC 4733 events and anything else are dropped). */
  write(rtp: Buffer): void {
    if (this.isClosed) return;
    const header = rtp.length <= MAX_FRAME ? readRtpHeader(rtp) : undefined;
    if (!header || header.payloadType !== this.payloadType || header.payloadEnd <= header.payloadOffset) {
      this.dropped += 1;
      return;
    }
    if (this.codec === 'opus') return this.send(rewrite(rtp, this.ssrc));
    if (this.producer.paused) return;
    this.startTranscoder()?.write(new Map([[0, framed(rtp)]]));
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.stopTranscoder();
    clearTimeout(this.healthyTimer);
    if (!this.transport.closed) this.transport.close();
    this.socket.close();
    this.emit('close');
  }

  private get ssrc(): number {
    return this.producer.rtpParameters.encodings![0]!.ssrc!;
  }

  private send(packet: Buffer): void {
    if (this.isClosed) return;
    this.socket.send(packet, this.transport.tuple.localPort, '127.0.0.1');
  }

  /** The running transcoder, or a new one (unless one died too recently). */
  private startTranscoder(): GstChild | undefined {
    if (this.transcoder?.running) return this.transcoder;
    if (monotonicMs() < this.notBefore) return undefined;
    const child = new GstChild({
      bin: this.options.gstLaunch,
      args: g711ToOpus(this.codec as 'PCMU' | 'PCMA'),
      inputs: [0],
      outputs: new Map([[1, (packet: Buffer) => this.fromTranscoder(packet)]]),
      log: this.options.log,
    });
    this.transcoder = child;
    this.offset = undefined;
    child.once('exit', ({ expected }) => {
      if (this.transcoder === child) this.transcoder = undefined;
      if (expected || this.isClosed) return;
      this.failures += 1;
      const wait = (this.options.restartDelayMs ?? 500) * Math.min(8, 2 ** (this.failures - 1));
      this.notBefore = monotonicMs() + wait;
      this.options.log.warn({ attempt: this.failures, waitMs: wait }, 'caller transcoder died; the next packet after the wait starts another');
    });
    clearTimeout(this.healthyTimer);
    this.healthyTimer = setTimeout(() => {
      if (this.transcoder === child && child.running) this.failures = 0;
    }, HEALTHY_AFTER_MS);
    this.healthyTimer.unref();
    return child;
  }

  private stopTranscoder(): void {
    this.transcoder?.stop();
    this.transcoder = undefined;
  }

  /**
   * The transcoder's Opus, made one stream whatever the process: our sequence numbers, and timestamps that
   * go on from the last packet by the time that passed (a new process starts its own).
   */
  private fromTranscoder(packet: Buffer): void {
    const header = readRtpHeader(packet);
    if (!header) return;
    const now = monotonicMs();
    if (this.offset === undefined) {
      const expected = this.last ? this.last.timestamp + Math.round((now - this.last.atMs) * SAMPLES_PER_MS) : randomInt(0, 2 ** 32 - 1);
      this.offset = expected - header.timestamp;
    }
    const timestamp = (header.timestamp + this.offset) >>> 0;
    this.last = { timestamp, atMs: now };
    this.sequence = (this.sequence + 1) & 0xffff;
    const out = rewrite(packet, this.ssrc);
    out.writeUInt16BE(this.sequence, 2);
    out.writeUInt32BE(timestamp, 4);
    this.send(out);
  }
}

/** A copy of the packet with the producer's payload type and SSRC. */
function rewrite(packet: Buffer, ssrc: number): Buffer {
  const out = Buffer.from(packet);
  out[1] = (out[1]! & 0x80) | OPUS_PAYLOAD_TYPE;
  out.writeUInt32BE(ssrc >>> 0, 8);
  return out;
}

// The RTP side of one phone call: a UDP socket facing the caller's phone (or the PBX's media relay). Inbound
// it sorts the caller's packets into voice and keyed digits; outbound it presents whatever the call plays
// (prompts made here, mix packets made elsewhere) as ONE continuous RTP stream, as a phone expects.

import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import { randomInt } from 'node:crypto';
import { isRtcp, readRtpHeader, rtpPacket } from '../../recording/rtp-packet.js';
import { opusSamples } from '../../recording/opus-packet.js';
import { DtmfDecoder } from './rfc4733-dtmf.js';

export type CallCodecName = 'opus' | 'PCMU' | 'PCMA';

export interface CallCodec {
  name: CallCodecName;
  payloadType: number;
  clockRate: number;
}

export interface CallRtpSessionOptions {
  /** Local address to bind (the address the SDP offers). */
  address: string;
  /** Port range for the call's RTP; an even free port is taken (RTP convention, RFC 3550 §11). */
  ports: { min: number; max: number };
  codec: CallCodec;
  /** The negotiated telephone-event (RFC 4733); none when the caller offered none. */
  telephoneEvent?: { payloadType: number; clockRate?: number };
  /** Where the SDP says the caller's RTP comes from and goes to. */
  remote: { address: string; port: number };
  /** A digit whose end packets were all lost is reported after this long without its packets. */
  dtmfEndTimeoutMs?: number;
  /** Larger datagrams are not a phone's RTP (default 1500, an Ethernet MTU). */
  maxPacketBytes?: number;
}

export interface CallRtpStats {
  received: number;
  /** From elsewhere than the caller, not RTP, or of a payload type not negotiated. */
  dropped: number;
  rtcp: number;
  sent: number;
}

/** Wrap-aware: is `a` after `b` in 16-bit sequence space. */
function seqAfter(a: number, b: number): boolean {
  return ((a - b) & 0xffff) !== 0 && ((a - b) & 0xffff) < 0x8000;
}

/** Wrap-aware: is `a` after `b` in 32-bit timestamp space. */
function tsAfter(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x80000000;
}

async function bindInRange(address: string, ports: { min: number; max: number }): Promise<Socket> {
  const { min, max } = ports;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
    throw new Error(`invalid RTP port range ${min}-${max}`);
  }
  const firstEven = min % 2 === 0 ? min : min + 1;
  const candidates = firstEven <= max ? Math.floor((max - firstEven) / 2) + 1 : 0;
  const port = (i: number): number => (candidates > 0 ? firstEven + 2 * i : min + i);
  const count = candidates > 0 ? candidates : max - min + 1;
  // Start at a random place so that concurrent calls do not race for the same ports.
  const start = randomInt(count);
  for (let k = 0; k < count; k++) {
    const candidate = port((start + k) % count);
    const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
    const bound = await new Promise<boolean>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolve(false);
        else reject(error);
      };
      socket.once('error', onError);
      socket.bind(candidate, address, () => {
        socket.off('error', onError);
        resolve(true);
      });
    }).catch((error: unknown) => {
      socket.close();
      throw error;
    });
    if (bound) return socket;
    socket.close();
  }
  throw new Error(`no free RTP port in range ${min}-${max} on ${address}`);
}

export class CallRtpSession extends EventEmitter<{ digit: [string]; audio: [Buffer]; close: [] }> {
  readonly ssrc = randomInt(1, 0xffffffff);
  readonly stats: CallRtpStats = { received: 0, dropped: 0, rtcp: 0, sent: 0 };
  private readonly remote: { address: string; port: number };
  private latched = false;
  private closed = false;
  private readonly dtmf: DtmfDecoder | undefined;
  private dtmfTimer: NodeJS.Timeout | undefined;
  private receivedAt: number | undefined;

  // The outbound stream's state: the next sequence number, the last timestamp sent and how many samples
  // that packet held, when it was sent, and which source it came from (with its offsets into our stream).
  private nextSeq = randomInt(0x10000);
  private lastTs = randomInt(0x100000000);
  private lastSamples = 0;
  private lastSentAt: number | undefined;
  private source: string | number | undefined;
  private seqOffset = 0;
  private tsOffset = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly options: CallRtpSessionOptions,
  ) {
    super();
    this.remote = { ...options.remote };
    const te = options.telephoneEvent;
    this.dtmf = te ? new DtmfDecoder(te.clockRate ?? 8000) : undefined;
    socket.on('message', (packet, from) => this.receive(packet, from));
    // A send to an unreachable phone reports ICMP errors here; the call's signaling decides when it is over.
    socket.on('error', () => undefined);
  }

  static async open(options: CallRtpSessionOptions): Promise<CallRtpSession> {
    return new CallRtpSession(await bindInRange(options.address, options.ports), options);
  }

  get localAddress(): string {
    return this.options.address;
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  get codec(): CallCodec {
    return this.options.codec;
  }

  /** Where the caller's RTP comes from now (after latching). */
  get remoteAddress(): { address: string; port: number } {
    return { ...this.remote };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** When the caller's last accepted packet arrived (performance.now() ms): silence this long means a dead call. */
  get lastReceivedAt(): number | undefined {
    return this.receivedAt;
  }

  private receive(packet: Buffer, from: { address: string; port: number }): void {
    if (this.closed) return;
    const fromElsewhere = from.address !== this.remote.address || (from.port !== this.remote.port && this.latched);
    if (fromElsewhere || packet.length > (this.options.maxPacketBytes ?? 1500)) {
      this.stats.dropped++;
      return;
    }
    if (isRtcp(packet)) {
      this.stats.rtcp++;
      return;
    }
    const header = readRtpHeader(packet);
    const te = this.options.telephoneEvent;
    const known = header && (header.payloadType === this.options.codec.payloadType || header.payloadType === te?.payloadType);
    if (!header || !known) {
      this.stats.dropped++;
      return;
    }
    // Symmetric RTP (RFC 4961): a phone behind NAT sends from another port than its SDP says; the first
    // valid packet from the caller's address fixes the port both ways.
    if (!this.latched) {
      this.latched = true;
      this.remote.port = from.port;
    }
    this.stats.received++;
    this.receivedAt = performance.now();
    if (header.payloadType === this.options.codec.payloadType) {
      if (header.payloadEnd > header.payloadOffset) this.emit('audio', packet);
      return;
    }
    for (const d of this.dtmf!.push(header.timestamp, packet.subarray(header.payloadOffset, header.payloadEnd))) {
      this.emit('digit', d.digit);
    }
    clearTimeout(this.dtmfTimer);
    this.dtmfTimer = setTimeout(() => {
      const lost = this.dtmf?.flush();
      if (lost && !this.closed) this.emit('digit', lost.digit);
    }, this.options.dtmfEndTimeoutMs ?? 1000);
  }

  /** Samples a payload of the negotiated codec holds, at its clock rate. */
  private payloadSamples(payload: Buffer): number {
    const { name, clockRate } = this.options.codec;
    if (name !== 'opus') return payload.length * (clockRate / 8000);
    return Math.round(((opusSamples(payload) ?? 960) * clockRate) / 48000);
  }

  /**
   * The timestamp that continues our stream for a packet sent now from another source (or after a pause):
   * at least one packet's worth after the last, and as far as wall time has moved, so that the phone's
   * jitter buffer sees the same clock throughout.
   */
  private continuationTimestamp(now: number): number {
    if (this.lastSentAt === undefined) return this.lastTs;
    const elapsed = Math.round(((now - this.lastSentAt) * this.options.codec.clockRate) / 1000);
    return (this.lastTs + Math.max(this.lastSamples, elapsed)) >>> 0;
  }

  private send(payload: Buffer, h: { sequence: number; timestamp: number; marker: boolean }, samples: number, now: number): void {
    if (seqAfter(h.sequence, (this.nextSeq - 1) & 0xffff) || this.lastSentAt === undefined) this.nextSeq = (h.sequence + 1) & 0xffff;
    if (tsAfter(h.timestamp, this.lastTs) || this.lastSentAt === undefined || h.timestamp === this.lastTs) {
      this.lastTs = h.timestamp;
      this.lastSamples = samples;
    }
    this.lastSentAt = now;
    const packet = rtpPacket({ payloadType: this.options.codec.payloadType, marker: h.marker, sequence: h.sequence, timestamp: h.timestamp, ssrc: this.ssrc }, payload);
    this.stats.sent++;
    this.socket.send(packet, this.remote.port, this.remote.address, () => undefined);
  }

  /**
   * Sends one frame made here (a prompt) of `samples` samples at the codec's clock rate. `talkspurt`: the
   * first frame after a pause (a new prompt), whose timestamp catches up with wall time.
   */
  sendPayload(payload: Buffer, samples: number, talkspurt = false): void {
    if (this.closed) return;
    const now = performance.now();
    const fresh = talkspurt || this.source !== 'own' || this.lastSentAt === undefined;
    const timestamp = fresh ? this.continuationTimestamp(now) : (this.lastTs + this.lastSamples) >>> 0;
    this.source = 'own';
    this.send(payload, { sequence: this.nextSeq, timestamp, marker: fresh }, samples, now);
  }

  /**
   * Sends a packet made elsewhere (a language's mix) under our SSRC, sequence and timestamps. A new source
   * (another SSRC, or another `sourceKey` when given) continues our stream where it stands; within one
   * source its own spacing (and gaps: losses stay visible) is kept. Returns false for bytes that are not RTP.
   */
  forward(rtp: Buffer, sourceKey?: string): boolean {
    if (this.closed) return false;
    const header = readRtpHeader(rtp);
    if (!header || isRtcp(rtp)) return false;
    const payload = rtp.subarray(header.payloadOffset, header.payloadEnd);
    const now = performance.now();
    const key = sourceKey ?? header.ssrc;
    let marker = header.marker;
    if (key !== this.source || this.lastSentAt === undefined) {
      this.source = key;
      this.seqOffset = (this.nextSeq - header.sequence) & 0xffff;
      this.tsOffset = (this.continuationTimestamp(now) - header.timestamp) >>> 0;
      marker = true;
    }
    this.send(
      payload,
      { sequence: (header.sequence + this.seqOffset) & 0xffff, timestamp: (header.timestamp + this.tsOffset) >>> 0, marker },
      this.payloadSamples(payload),
      now,
    );
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.dtmfTimer);
    this.socket.close();
    this.emit('close');
  }
}

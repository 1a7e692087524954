// RTP for the plenary benchmark, for a server in the bench's own process: a few delegates are "wired" — their
// server endpoint gets a PlainTransport (from the bench) instead of a WebRTC one, so that their microphone's
// producer (made through the real `produce` request) receives RTP with audio levels, and their consumers (made
// through `consume`, or by the server itself) send RTP to a UDP socket here. Everything else about them (join,
// floor, selection) is the server's ordinary path.
import { createSocket, type Socket } from 'node:dgram';
import type { types } from 'mediasoup';
import type { Room } from '../../server/rooms/room.js';
import { AUDIO_LEVEL_EXT_ID, OPUS_PT } from './plenary-delegate.js';

/**
 * A PlainTransport put into a participant's endpoint as its send or receive transport (MediaEndpoint.adoptTransport).
 * A receive one must be adopted before the participant has any other: the server's consumers for it (selective
 * forwarding) go to the endpoint's first receive transport, so they land here and send RTP to `sinkPort`.
 */
export async function wireTransport(room: Room, participantId: string, direction: 'send' | 'recv', sinkPort?: number): Promise<types.PlainTransport> {
  const participant = room.participants.get(participantId);
  if (!participant) throw new Error(`wire: no participant ${participantId}`);
  if (direction === 'recv' && [...participant.endpoint.transports.values()].some((t) => t.appData.direction === 'recv')) {
    throw new Error(`wire: ${participantId} already has a receive transport; the server's consumers would go there`);
  }
  const router = room.media.router;
  const transport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: direction === 'send', appData: { direction } });
  if (direction === 'recv') await transport.connect({ ip: '127.0.0.1', port: sinkPort! });
  participant.endpoint.adoptTransport(transport, router);
  return transport;
}

/** Opus-like RTP at 50 packets/s carrying the ssrc-audio-level extension (RFC 6464): 0 is loudest, 127 silence. */
export class Talker {
  level = 127;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly socket: Socket = createSocket('udp4');

  constructor(
    private readonly port: number,
    private readonly ssrc: number,
  ) {}

  private packet(): Buffer {
    this.seq += 1;
    const p = Buffer.alloc(12 + 8 + 60, 0xab);
    p[0] = 0x90; // V=2, X=1
    p[1] = OPUS_PT;
    p.writeUInt16BE(this.seq & 0xffff, 2);
    p.writeUInt32BE((this.seq * 960) >>> 0, 4);
    p.writeUInt32BE(this.ssrc >>> 0, 8);
    p.writeUInt16BE(0xbede, 12); // one-byte header extensions
    p.writeUInt16BE(1, 14); // one 32-bit word
    p[16] = (AUDIO_LEVEL_EXT_ID << 4) | 0; // id, length - 1
    // Voice activity flag, and a level that moves a little, as a real voice does.
    const level = this.level >= 127 ? 127 : Math.min(126, this.level + Math.floor(Math.random() * 6));
    p[17] = (this.level < 127 ? 0x80 : 0) | level;
    p[18] = 0;
    p[19] = 0;
    return p;
  }

  start(): void {
    this.timer ??= setInterval(() => this.socket.send(this.packet(), this.port, '127.0.0.1'), 20);
  }

  close(): void {
    clearInterval(this.timer);
    this.socket.close();
  }
}

/** A silence longer than this (a talker sends every 20 ms) means the stream was paused and resumed. */
const RESTART_GAP_MS = 100;

/**
 * A wired receiver's UDP socket: it learns which producer each SSRC carries from the participant's consumers
 * on the server, and resolves waits for the first packet of a producer after a given moment.
 */
export class Receiver {
  readonly socket: Socket = createSocket('udp4');
  private readonly producerOfSsrc = new Map<number, string>();
  private readonly startedAt = new Map<number, number>();
  private readonly lastAt = new Map<number, number>();
  private waits: Array<{ producerId: string; since: number; resolve: (at: number) => void }> = [];
  packets = 0;

  constructor(
    private readonly room: Room,
    readonly participantId: string,
  ) {
    this.socket.on('message', (msg) => {
      const at = performance.now();
      const pt = msg[1]! & 0x7f;
      if (msg.length < 12 || (pt >= 72 && pt <= 78)) return; // RTCP
      this.packets += 1;
      const ssrc = msg.readUInt32BE(8);
      // When each stream (re)started: its first packet, or the first after a gap (a paused producer resumed).
      // The start counts even if it came before its consumer was known here or before the wait began.
      const last = this.lastAt.get(ssrc);
      if (last === undefined || at - last > RESTART_GAP_MS) this.startedAt.set(ssrc, at);
      this.lastAt.set(ssrc, at);
      const producerId = this.producerOf(ssrc);
      if (producerId) this.settle(producerId, ssrc);
    });
  }

  async bind(): Promise<number> {
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    return this.socket.address().port;
  }

  private producerOf(ssrc: number): string | undefined {
    const known = this.producerOfSsrc.get(ssrc);
    if (known) return known;
    const consumers = this.room.participants.get(this.participantId)?.endpoint.consumers.values() ?? [];
    for (const c of consumers) {
      const s = c.rtpParameters.encodings?.[0]?.ssrc;
      if (s !== undefined) this.producerOfSsrc.set(s, c.producerId);
    }
    return this.producerOfSsrc.get(ssrc);
  }

  /** Resolves the waits for this producer whose moment its stream (re)started after. */
  private settle(producerId: string, ssrc: number): void {
    const started = this.startedAt.get(ssrc)!;
    this.waits = this.waits.filter((w) => {
      if (w.producerId !== producerId || started < w.since) return true;
      w.resolve(started);
      return false;
    });
  }

  /** When the first packet of `producerId` after `since` arrived, or null if none did within `timeoutMs`. */
  firstPacket(producerId: string, since: number, timeoutMs: number): Promise<number | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waits = this.waits.filter((w) => w.resolve !== done);
        resolve(null);
      }, timeoutMs);
      const done = (at: number): void => {
        clearTimeout(timer);
        resolve(at);
      };
      this.waits.push({ producerId, since, resolve: done });
      // It may have started already (before the giveFloor answer reached this process).
      for (const ssrc of this.startedAt.keys()) if (this.producerOf(ssrc) === producerId) this.settle(producerId, ssrc);
    });
  }

  close(): void {
    this.socket.close();
  }
}

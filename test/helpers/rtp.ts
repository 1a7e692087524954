import { createSocket, type Socket } from 'node:dgram';
import type { types } from 'mediasoup';

/** A minimal RTP packet: 12-byte header and an arbitrary payload (the SFU forwards without decoding audio). */
export function rtpPacket(payloadType: number, seq: number, timestamp: number, ssrc: number, payload = Buffer.alloc(40, 0xab)): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = payloadType & 0x7f;
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE(timestamp >>> 0, 4);
  header.writeUInt32BE(ssrc >>> 0, 8);
  return Buffer.concat([header, payload]);
}

export const OPUS_PT = 100;

/** Injects Opus-like RTP into a router through a comedia PlainTransport, 50 packets/s like a real talker. */
export class RtpInjector {
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly socket: Socket = createSocket('udp4');

  private constructor(
    readonly transport: types.PlainTransport,
    readonly producer: types.Producer,
    private readonly ssrc: number,
  ) {}

  static async create(router: types.Router, ssrc: number, appData: Record<string, unknown> = {}): Promise<RtpInjector> {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
    const producer = await transport.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PT, clockRate: 48000, channels: 2 }],
        encodings: [{ ssrc }],
      },
      appData,
    });
    return new RtpInjector(transport, producer, ssrc);
  }

  /** Packets sent so far. */
  get sent(): number {
    return this.seq;
  }

  send(count = 1): void {
    for (let i = 0; i < count; i++) {
      this.seq += 1;
      this.socket.send(rtpPacket(OPUS_PT, this.seq, this.seq * 960, this.ssrc), this.transport.tuple.localPort, '127.0.0.1');
    }
  }

  start(intervalMs = 20): void {
    this.timer ??= setInterval(() => this.send(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    this.socket.close();
    this.transport.close();
  }
}

/** A UDP sink behind a PlainTransport consumer; counts the RTP packets the SFU forwards to it, per SSRC. */
export class RtpSink {
  readonly packetsBySsrc = new Map<number, number>();
  private readonly socket: Socket = createSocket('udp4');

  private constructor(readonly transport: types.PlainTransport) {
    this.socket.on('message', (msg) => {
      // RTCP (types 200-206) shows as 72-78 in RTP's payload-type bits; RFC 5761 keeps RTP out of that range.
      const pt = msg[1]! & 0x7f;
      if (msg.length < 12 || (pt >= 72 && pt <= 78)) return;
      const ssrc = msg.readUInt32BE(8);
      this.packetsBySsrc.set(ssrc, (this.packetsBySsrc.get(ssrc) ?? 0) + 1);
    });
  }

  static async create(router: types.Router): Promise<RtpSink> {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false });
    const sink = new RtpSink(transport);
    await new Promise<void>((resolve) => sink.socket.bind(0, '127.0.0.1', resolve));
    await transport.connect({ ip: '127.0.0.1', port: sink.socket.address().port });
    return sink;
  }

  get total(): number {
    let n = 0;
    for (const v of this.packetsBySsrc.values()) n += v;
    return n;
  }

  /** Consumes with Opus only and no feedback extensions, so no bandwidth probing reaches this plain sink. */
  consume(producer: types.Producer, paused = false): Promise<types.Consumer> {
    return this.transport.consume({
      producerId: producer.id,
      paused,
      appData: { ...producer.appData },
      rtpCapabilities: {
        codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, preferredPayloadType: OPUS_PT }],
        headerExtensions: [],
      },
    });
  }

  close(): void {
    this.socket.close();
    this.transport.close();
  }
}

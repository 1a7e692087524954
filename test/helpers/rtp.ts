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

/** The ssrc-audio-level extension's id in the injectors' RTP (RFC 6464, in a one-byte header extension, RFC 8285). */
export const AUDIO_LEVEL_EXT_ID = 1;

/** An RTP packet carrying the audio level: `level` is -dBov (0 loudest, 127 silence), as browsers send it. */
export function rtpPacketWithAudioLevel(payloadType: number, seq: number, timestamp: number, ssrc: number, level: number, payload = Buffer.alloc(40, 0xab)): Buffer {
  const header = rtpPacket(payloadType, seq, timestamp, ssrc, Buffer.alloc(0));
  header[0] = 0x90; // version 2, extension bit
  const extension = Buffer.from([0xbe, 0xde, 0x00, 0x01, (AUDIO_LEVEL_EXT_ID << 4) | 0, 0x80 | (level & 0x7f), 0x00, 0x00]);
  return Buffer.concat([header, extension, payload]);
}

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

  /**
   * With `audioLevel`, the producer declares the ssrc-audio-level extension and every packet carries
   * `level` (-dBov; set it to change how loud this talker is to mediasoup's level observers).
   */
  static async create(router: types.Router, ssrc: number, appData: Record<string, unknown> = {}, options: { audioLevel?: number } = {}): Promise<RtpInjector> {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
    const producer = await transport.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PT, clockRate: 48000, channels: 2 }],
        encodings: [{ ssrc }],
        ...(options.audioLevel === undefined ? {} : { headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level' as const, id: AUDIO_LEVEL_EXT_ID }] }),
      },
      appData,
    });
    const injector = new RtpInjector(transport, producer, ssrc);
    injector.level = options.audioLevel;
    return injector;
  }

  /** -dBov carried in each packet (0 loudest, 127 silence); undefined: no audio level extension. */
  level: number | undefined;

  /** Packets sent so far. */
  get sent(): number {
    return this.seq;
  }

  send(count = 1): void {
    for (let i = 0; i < count; i++) {
      this.seq += 1;
      const packet =
        this.level === undefined ? rtpPacket(OPUS_PT, this.seq, this.seq * 960, this.ssrc) : rtpPacketWithAudioLevel(OPUS_PT, this.seq, this.seq * 960, this.ssrc, this.level);
      this.socket.send(packet, this.transport.tuple.localPort, '127.0.0.1');
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

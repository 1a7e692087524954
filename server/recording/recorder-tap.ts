import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from '../logger.js';
import { OPUS_PAYLOAD_TYPE, VP8_PAYLOAD_TYPE } from './gst-pipelines.js';
import { monotonicMs } from './rtcp-sender-report.js';
import { isRtcp } from './rtp-packet.js';

/** Where a tap delivers what its consumers send. */
export interface TapSink {
  rtp(packet: Buffer, arrivalMs: number): void;
  rtcp(packet: Buffer): void;
}

/** What a recorder accepts: the one codec it stores as is, and no feedback but keyframe requests. */
const capabilities: Record<'audio' | 'video', types.RtpCapabilities> = {
  audio: { codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, preferredPayloadType: OPUS_PAYLOAD_TYPE }], headerExtensions: [] },
  video: {
    codecs: [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000, preferredPayloadType: VP8_PAYLOAD_TYPE, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }] }],
    headerExtensions: [],
  },
};

/**
 * A channel recorder's ear in one router of a room: a PlainTransport whose consumers send RTP and RTCP
 * (sender reports) to a UDP socket on loopback. It lives as long as the router (a worker that dies takes it
 * along, and `close` says so); the recorder it feeds lives on.
 */
export class RecorderTap extends EventEmitter<{ close: [] }> {
  private readonly consumers = new Map<string, types.Consumer>();
  private closed = false;

  private constructor(
    private readonly transport: types.PlainTransport,
    private readonly socket: Socket,
    private readonly kind: 'audio' | 'video',
    private readonly log: Logger,
  ) {
    super();
    transport.observer.once('close', () => this.close());
  }

  static async create(router: types.Router, kind: 'audio' | 'video', sink: TapSink, log: Logger): Promise<RecorderTap> {
    const socket = createSocket('udp4');
    let from: number | undefined;
    socket.on('message', (packet, sender) => {
      // Only the transport's own packets: another local process cannot slip media into a recording.
      if (sender.port !== from || sender.address !== '127.0.0.1') return;
      if (isRtcp(packet)) sink.rtcp(packet);
      else sink.rtp(packet, monotonicMs());
    });
    socket.on('error', (error) => log.warn({ err: error.message }, 'recorder tap socket error'));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    let transport: types.PlainTransport;
    try {
      transport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false, appData: { recorder: true } });
      await transport.connect({ ip: '127.0.0.1', port: socket.address().port });
      from = transport.tuple.localPort;
    } catch (error) {
      socket.close();
      throw error;
    }
    return new RecorderTap(transport, socket, kind, log);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Consumes a producer (once); answers the SSRC its packets carry here, or undefined if it cannot be recorded. */
  async consume(producer: types.Producer): Promise<number | undefined> {
    if (this.closed || producer.closed) return undefined;
    let consumer = this.consumers.get(producer.id);
    if (!consumer) {
      try {
        consumer = await this.transport.consume({ producerId: producer.id, rtpCapabilities: capabilities[this.kind], appData: { recorder: true } });
      } catch (error) {
        this.log.warn({ producer: producer.id, err: (error as Error).message }, 'recorder cannot consume this producer');
        return undefined;
      }
      if (this.closed) {
        consumer.close();
        return undefined;
      }
      const own = consumer;
      this.consumers.set(producer.id, own);
      own.observer.once('close', () => {
        if (this.consumers.get(producer.id) === own) this.consumers.delete(producer.id);
      });
    }
    if (this.kind === 'video') await consumer.requestKeyFrame().catch(() => undefined);
    return consumer.rtpParameters.encodings?.[0]?.ssrc;
  }

  /** Stops consuming a producer the recorder no longer follows. */
  release(producerId: string): void {
    this.consumers.get(producerId)?.close();
  }

  /** Asks the producer behind a consumer for a keyframe (a video file starts on one). */
  async requestKeyFrame(producerId: string): Promise<void> {
    await this.consumers.get(producerId)?.requestKeyFrame();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.transport.closed) this.transport.close();
    this.socket.close();
    this.emit('close');
  }
}

// One simulated delegate of the plenary benchmark, over real signaling (socket.io-client): it joins with a real
// signed join token, publishes a microphone and a camera (RTP parameters as a browser would declare them; no RTP
// unless the bench wires a PlainTransport in, see plenary-media.ts), and consumes what the server tells it about,
// as the SDK does. It counts every server→client event it receives.
import type { Socket } from 'socket.io-client';
import { call, connectFollowing } from '../helpers/signaling-client.js';

export const OPUS_PT = 100;
export const VP8_PT = 101;
export const AUDIO_LEVEL_EXT_ID = 10;
export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

/** Opus with the audio-level header extension (as browsers send it), one SSRC. */
export function micParameters(ssrc: number) {
  return {
    codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PT, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 } }],
    headerExtensions: [{ uri: AUDIO_LEVEL_URI, id: AUDIO_LEVEL_EXT_ID }],
    encodings: [{ ssrc }],
  };
}

/** VP8 with nack and pli, one SSRC (the bench sends no video RTP: cameras are declared, never fed). */
export function cameraParameters(ssrc: number) {
  return {
    codecs: [{ mimeType: 'video/VP8', payloadType: VP8_PT, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] }],
    encodings: [{ ssrc }],
  };
}

interface Caps {
  codecs?: Array<{ rtcpFeedback?: Array<{ type: string }> }>;
  headerExtensions?: Array<{ uri: string }>;
}
/**
 * The router's capabilities without bandwidth estimation (transport-cc, REMB, abs-send-time): the bench's plain
 * receivers answer no feedback, and would otherwise get probation padding (LOAD_TESTING.md).
 */
export function benchCapabilities(routerCaps: Caps): Caps {
  return {
    ...routerCaps,
    codecs: routerCaps.codecs?.map((c) => ({ ...c, rtcpFeedback: c.rtcpFeedback?.filter((f) => f.type !== 'transport-cc' && f.type !== 'goog-remb') })),
    headerExtensions: routerCaps.headerExtensions?.filter((h) => !/transport-wide-cc|abs-send-time/.test(h.uri)),
  };
}

interface ProducerAnnouncement {
  producerId: string;
}

/** Where a wired delegate's transports come from (the bench puts PlainTransports into its server endpoint). */
export interface TransportSource {
  send?: () => Promise<string>;
  recv?: () => Promise<string>;
}

export interface DelegateStats {
  events: number;
  eventsByName: Record<string, number>;
  requests: number;
  consumed: number;
  errors: Record<string, number>;
}

export class Delegate {
  events = 0;
  readonly eventsByName: Record<string, number> = {};
  requests = 0;
  readonly consumers = new Map<string, string>(); // consumerId -> producerId
  readonly errors: Record<string, number> = {};
  joinMs = NaN;
  url = '';
  /** Consumes wait for the receive transport (announcements may arrive while the delegate still publishes). */
  private recvReady!: () => void;
  private consuming = new Promise<void>((resolve) => (this.recvReady = resolve));

  private constructor(readonly socket: Socket) {
    socket.onAny((event: string, data: unknown) => {
      this.events += 1;
      this.eventsByName[event] = (this.eventsByName[event] ?? 0) + 1;
      if (event === 'newProducer') this.follow([data as ProducerAnnouncement]);
      else if (event === 'consumerClosed') this.consumers.delete((data as { consumerId: string }).consumerId);
      else this.adoptServerConsumer(data);
    });
  }

  /** Connects (following a redirect to the room's node), asks for the router's capabilities and joins. */
  static async join(url: string, token: string): Promise<{ delegate: Delegate; answer: Record<string, unknown> }> {
    const t0 = performance.now();
    const { socket, url: at } = await connectFollowing(url, token);
    const delegate = new Delegate(socket);
    delegate.url = at;
    const caps = await delegate.request<{ rtpCapabilities: Caps }>('getRouterRtpCapabilities', {});
    const answer = await delegate.request<Record<string, unknown>>('join', { rtpCapabilities: benchCapabilities(caps.rtpCapabilities) });
    delegate.joinMs = performance.now() - t0;
    return { delegate, answer };
  }

  async request<T>(method: string, data: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      this.requests += 1;
      const ack = await call<T>(this.socket, method, data);
      if (ack.ok) return ack.data;
      // The bench raises the rate limit; should it still bite, back off as a client would.
      if (ack.error.code === 'RATE_LIMITED' && attempt < 20) {
        await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
        continue;
      }
      throw Object.assign(new Error(`${method}: ${ack.error.code} ${ack.error.message}`), { code: ack.error.code });
    }
  }

  /** A microphone and a camera on the floor. */
  async publish(ssrcBase: number, source: TransportSource = {}): Promise<{ mic: string; camera: string }> {
    const transportId = source.send ? await source.send() : (await this.request<{ id: string }>('createWebRtcTransport', { direction: 'send' })).id;
    const mic = await this.request<{ producerId: string }>('produce', { transportId, kind: 'audio', rtpParameters: micParameters(ssrcBase), source: 'mic', channel: 'floor' });
    const camera = await this.request<{ producerId: string }>('produce', { transportId, kind: 'video', rtpParameters: cameraParameters(ssrcBase + 1), source: 'camera', channel: 'floor' });
    return { mic: mic.producerId, camera: camera.producerId };
  }

  /** A receive transport, then every producer of the join answer and every one announced later is consumed. */
  async receive(answer: Record<string, unknown>, source: TransportSource = {}): Promise<void> {
    if (source.recv) await source.recv();
    else await this.request('createWebRtcTransport', { direction: 'recv' });
    this.recvReady();
    this.follow((answer.producers as ProducerAnnouncement[] | undefined) ?? []);
    await this.consuming;
  }

  /** Consumes (one request at a time per delegate) and resumes, as the SDK does once a track is wired. */
  private follow(producers: ProducerAnnouncement[]): void {
    for (const { producerId } of producers) {
      this.consuming = this.consuming.then(async () => {
        if (!this.socket.connected || [...this.consumers.values()].includes(producerId)) return;
        try {
          const c = await this.request<{ consumerId: string }>('consume', { producerId });
          this.consumers.set(c.consumerId, producerId);
          await this.request('resumeConsumer', { consumerId: c.consumerId });
        } catch (error) {
          const code = (error as { code?: string }).code ?? 'TIMEOUT';
          this.errors[`consume ${code}`] = (this.errors[`consume ${code}`] ?? 0) + 1;
        }
      });
    }
  }

  /**
   * A consumer the server created by itself (server-side selection): whatever the event is called, a payload
   * naming a consumer and its producer is one. It is resumed, as a client would once its track is wired.
   */
  private adoptServerConsumer(data: unknown): void {
    const d = data as { consumerId?: unknown; producerId?: unknown } | undefined;
    if (!d || typeof d.consumerId !== 'string' || typeof d.producerId !== 'string' || this.consumers.has(d.consumerId)) return;
    this.consumers.set(d.consumerId, d.producerId);
    this.request('resumeConsumer', { consumerId: d.consumerId }).catch(() => undefined);
  }

  stats(): DelegateStats {
    return { events: this.events, eventsByName: { ...this.eventsByName }, requests: this.requests, consumed: this.consumers.size, errors: { ...this.errors } };
  }

  close(): void {
    this.socket.close();
  }
}

/** Sums the stats of many delegates. */
export function sumStats(all: DelegateStats[]): DelegateStats {
  const total: DelegateStats = { events: 0, eventsByName: {}, requests: 0, consumed: 0, errors: {} };
  for (const s of all) {
    total.events += s.events;
    total.requests += s.requests;
    total.consumed += s.consumed;
    for (const [k, v] of Object.entries(s.eventsByName)) total.eventsByName[k] = (total.eventsByName[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.errors)) total.errors[k] = (total.errors[k] ?? 0) + v;
  }
  return total;
}

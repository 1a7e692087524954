// One simulated delegate of the plenary benchmark, over real signaling (socket.io-client): it joins with a real
// signed join token, publishes a microphone and a camera (RTP parameters as a browser would declare them; no RTP
// unless the bench wires a PlainTransport in, see plenary-media.ts), declares its screen (a stage and a gallery
// page) and takes what the server pushes or announces, as the SDK does. It counts every server→client event it
// receives and every request it makes.
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
interface PeerInfo {
  id: string;
}

/** The gallery each simulated screen renders: a stage and a page of tiles (BENCH_PLENARY_TILES, default 9, max 25). */
export const GALLERY_TILES = Math.min(25, Number(process.env.BENCH_PLENARY_TILES ?? 9));
const STAGE = { width: 1280, height: 720 };
const CONNECT_TIMEOUT_MS = 30_000;
const TILE = { width: 320, height: 180 };

/** Where a wired delegate's transports come from (the bench puts PlainTransports into its server endpoint). */
export interface TransportSource {
  send?: () => Promise<string>;
  recv?: () => Promise<string>;
}

export interface DelegateStats {
  events: number;
  eventsByName: Record<string, number>;
  requests: number;
  requestsByName: Record<string, number>;
  consumed: number;
  errors: Record<string, number>;
}

/**
 * One delegate as the SDK (client-sdk/src/meeting-client.ts) behaves: listeners for the server's pushes from
 * the connection on; after the join, a receive transport at once, then its screen (`setView`: a stage and a
 * gallery page), then its microphone and camera. Server-made consumers (`newConsumer`, selective forwarding)
 * are taken in, video resumed; announced producers (`newProducer`, forwarding all) are consumed and resumed.
 */
export class Delegate {
  events = 0;
  readonly eventsByName: Record<string, number> = {};
  requests = 0;
  readonly requestsByName: Record<string, number> = {};
  readonly consumers = new Map<string, string>(); // consumerId -> producerId
  readonly errors: Record<string, number> = {};
  activeSpeaker: string | null = null;
  /** When each event last arrived, and when the server's consumer of each producer was announced (performance.now()). */
  readonly lastAt: Record<string, number> = {};
  readonly pushedAt = new Map<string, number>();
  joinMs = NaN;
  url = '';
  /** Consumes wait for the receive transport (announcements may arrive before it exists). */
  private recvReady!: () => void;
  private consuming = new Promise<void>((resolve) => (this.recvReady = resolve));
  private receiving = false;
  /** The gallery page shown: the join answer's first roster page, filled from later joins while not full. */
  private readonly tiles: string[] = [];
  private viewSending = false;
  private selfId: string | undefined;
  private viewAgain = false;

  private constructor(readonly socket: Socket) {
    socket.onAny((event: string) => {
      this.lastAt[event] = performance.now();
      this.events += 1;
      this.eventsByName[event] = (this.eventsByName[event] ?? 0) + 1;
    });
    socket.on('newConsumer', (info: { consumerId: string; producerId: string; paused: boolean }) => this.adoptPushed(info));
    socket.on('consumerClosed', ({ consumerId }: { consumerId: string }) => void this.consumers.delete(consumerId));
    socket.on('activeSpeaker', ({ peerId }: { peerId: string | null }) => (this.activeSpeaker = peerId));
    socket.on('newProducer', (info: ProducerAnnouncement) => this.follow([info]));
    socket.on('peersChanged', ({ joined, left }: { joined: PeerInfo[]; left: string[] }) => this.galleryChanged(joined, left));
  }

  /** Connects (following a redirect to the room's node), asks for the router's capabilities and joins. */
  static async join(url: string, token: string): Promise<{ delegate: Delegate; answer: Record<string, unknown> }> {
    const t0 = performance.now();
    // A connection the server drops before it answers the handshake fires neither `connect` nor `connect_error`
    // (socket.io-client: `disconnect` only), and connectFollowing would wait for ever: such a join fails here.
    let timer: NodeJS.Timeout | undefined;
    const { socket, url: at } = await Promise.race([
      connectFollowing(url, token),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('no handshake answer'), { code: 'CONNECT_TIMEOUT' })), CONNECT_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    const delegate = new Delegate(socket);
    delegate.url = at;
    const caps = await delegate.request<{ rtpCapabilities: Caps }>('getRouterRtpCapabilities', {});
    const answer = await delegate.request<Record<string, unknown>>('join', { rtpCapabilities: benchCapabilities(caps.rtpCapabilities) });
    delegate.joinMs = performance.now() - t0;
    delegate.activeSpeaker = (answer.activeSpeaker as string | null | undefined) ?? null;
    const self = (answer.self as PeerInfo | undefined)?.id;
    delegate.selfId = self;
    // A batch of joins may have come before the answer: a peer is shown once.
    for (const peer of (answer.peers as PeerInfo[] | undefined) ?? []) {
      if (peer.id !== self && delegate.tiles.length < GALLERY_TILES && !delegate.tiles.includes(peer.id)) delegate.tiles.push(peer.id);
    }
    return { delegate, answer };
  }

  async request<T>(method: string, data: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      this.requests += 1;
      this.requestsByName[method] = (this.requestsByName[method] ?? 0) + 1;
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

  /**
   * Right after the join, as the SDK: a receive transport (the server's consumers follow its answer), the
   * screen (setView), and the join answer's producers to consume (forwarding all; none with selection).
   */
  async receive(answer: Record<string, unknown>, source: TransportSource = {}): Promise<void> {
    if (source.recv) await source.recv();
    else await this.request('createWebRtcTransport', { direction: 'recv' });
    this.receiving = true;
    this.recvReady();
    this.sendView();
    this.follow((answer.producers as ProducerAnnouncement[] | undefined) ?? []);
    await this.consuming;
  }

  /** The gallery page follows the roster while it is not full, and loses who left. */
  private galleryChanged(joined: PeerInfo[], left: string[]): void {
    let changed = false;
    for (const id of left) {
      const i = this.tiles.indexOf(id);
      if (i >= 0) {
        this.tiles.splice(i, 1);
        changed = true;
      }
    }
    for (const peer of joined) {
      if (this.tiles.length >= GALLERY_TILES) break;
      if (peer.id === this.selfId || this.tiles.includes(peer.id)) continue;
      this.tiles.push(peer.id);
      changed = true;
    }
    if (changed) this.sendView();
  }

  /** setView with the stage and the gallery page; one at a time, the newest view last. */
  private sendView(): void {
    if (!this.receiving || !this.socket.connected) return;
    if (this.viewSending) {
      this.viewAgain = true;
      return;
    }
    this.viewSending = true;
    const view = { stage: STAGE, tiles: this.tiles.map((peerId) => ({ peerId, ...TILE })) };
    this.request('setView', view)
      .catch((error: unknown) => this.count(`setView ${(error as { code?: string }).code ?? 'TIMEOUT'}`))
      .finally(() => {
        this.viewSending = false;
        if (this.viewAgain) {
          this.viewAgain = false;
          this.sendView();
        }
      });
  }

  /** Forwarding all: consumes (one request at a time per delegate) and resumes, as the SDK does once a track is wired. */
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
          // The floor moved on, or the server sends this one itself: not an error (as the SDK treats them).
          if (code !== 'NOT_AUDIBLE' && code !== 'SERVER_SELECTED') this.count(`consume ${code}`);
        }
      });
    }
  }

  /** A consumer the server made for this delegate: kept, and resumed when it came paused (video), as the SDK does. */
  private adoptPushed(info: { consumerId: string; producerId: string; paused: boolean }): void {
    this.pushedAt.set(info.producerId, performance.now());
    this.consumers.set(info.consumerId, info.producerId);
    if (!info.paused) return;
    this.request('resumeConsumer', { consumerId: info.consumerId }).catch((error: unknown) => {
      // Closed by the server meanwhile (the stage moved on): nothing to resume.
      if (this.consumers.has(info.consumerId)) this.count(`resumeConsumer ${(error as { code?: string }).code ?? 'TIMEOUT'}`);
    });
  }

  private count(what: string): void {
    this.errors[what] = (this.errors[what] ?? 0) + 1;
  }

  stats(): DelegateStats {
    return {
      events: this.events,
      eventsByName: { ...this.eventsByName },
      requests: this.requests,
      requestsByName: { ...this.requestsByName },
      consumed: this.consumers.size,
      errors: { ...this.errors },
    };
  }

  close(): void {
    this.socket.close();
  }
}

/** Sums the stats of many delegates. */
export function sumStats(all: DelegateStats[]): DelegateStats {
  const total: DelegateStats = { events: 0, eventsByName: {}, requests: 0, requestsByName: {}, consumed: 0, errors: {} };
  for (const s of all) {
    total.events += s.events;
    total.requests += s.requests;
    total.consumed += s.consumed;
    for (const [k, v] of Object.entries(s.eventsByName)) total.eventsByName[k] = (total.eventsByName[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.requestsByName)) total.requestsByName[k] = (total.requestsByName[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.errors)) total.errors[k] = (total.errors[k] ?? 0) + v;
  }
  return total;
}

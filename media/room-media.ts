import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { routerMediaCodecs } from './codecs.js';
import type { MediaLogger } from './logger.js';
import { MediaEndpoint, type EndpointLimits } from './media-endpoint.js';
import type { MediaWorker } from './media-worker.js';

export type RoomMediaCloseReason = 'closed' | 'worker-died';
type RoomMediaEvents = { close: [RoomMediaCloseReason] };

/**
 * A room's media: one router on one worker and the endpoints (one per connected client) on it.
 * Closing it closes the router, and mediasoup closes every transport, producer and consumer below.
 */
export class RoomMedia extends EventEmitter<RoomMediaEvents> {
  private readonly endpoints = new Map<string, MediaEndpoint>();
  private isClosed = false;

  private constructor(
    readonly router: types.Router,
    readonly worker: MediaWorker,
    private readonly limits: EndpointLimits,
    private readonly log: MediaLogger,
  ) {
    super();
    router.on('workerclose', () => this.closeWith('worker-died'));
  }

  static async create(worker: MediaWorker, limits: EndpointLimits, log: MediaLogger): Promise<RoomMedia> {
    const router = await worker.createRouter(routerMediaCodecs);
    return new RoomMedia(router, worker, limits, log);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get rtpCapabilities(): types.RtpCapabilities {
    return this.router.rtpCapabilities;
  }

  createEndpoint(id: string): MediaEndpoint {
    if (this.isClosed) throw new Error('room media is closed');
    if (this.endpoints.has(id)) throw new Error(`endpoint ${id} exists`);
    const endpoint = new MediaEndpoint(id, this.router, this.worker.webRtcServer, this.limits, this.log.child({ endpoint: id }));
    this.endpoints.set(id, endpoint);
    endpoint.once('close', () => this.endpoints.delete(id));
    return endpoint;
  }

  /** A producer of any endpoint in this room. */
  findProducer(producerId: string): types.Producer | undefined {
    for (const endpoint of this.endpoints.values()) {
      const producer = endpoint.producers.get(producerId);
      if (producer) return producer;
    }
    return undefined;
  }

  close(): void {
    this.closeWith('closed');
  }

  private closeWith(reason: RoomMediaCloseReason): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const endpoint of [...this.endpoints.values()]) endpoint.close();
    if (!this.router.closed) this.router.close();
    this.emit('close', reason);
  }
}

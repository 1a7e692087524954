import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { routerMediaCodecs } from './codecs.js';
import type { MediaLogger } from './logger.js';
import { MediaEndpoint, type EndpointLimits, type MediaPlacement, type TransportDirection } from './media-endpoint.js';
import type { MediaWorker } from './media-worker.js';
import type { WorkerPool } from './worker-pool.js';

export type RoomMediaCloseReason = 'closed' | 'worker-died';
type RoomMediaEvents = { close: [RoomMediaCloseReason]; edgeopened: [RouterSlot]; edgeclosed: [RouterSlot] };

/** One router of a room, on one worker, and how many consumers on receive transports it carries. */
export interface RouterSlot {
  router: types.Router;
  worker: MediaWorker;
  consumers: number;
  recvTransports: number;
}

export interface RoomMediaOptions {
  /**
   * Past this many consumers on a router, new receive transports go to another router of the room on
   * another worker, which gets the producers it needs through pipeToRouter on demand.
   */
  maxConsumersPerRouter: number;
  /** Where edge routers are placed; without it the room stays on its origin worker. */
  pool?: WorkerPool;
}

/**
 * A room's media: an origin router (every producer lives there) and, once it carries enough listeners,
 * edge routers on other workers that receive the room's producers by piping. The endpoints (one per
 * client) sit on these routers. Closing the room closes every router, and mediasoup closes every
 * transport, producer and consumer below; an edge router left without receive transports is closed, which
 * tears down its pipes.
 */
export class RoomMedia extends EventEmitter<RoomMediaEvents> implements MediaPlacement {
  private readonly endpoints = new Map<string, MediaEndpoint>();
  /** Every endpoint's producers by id: a consume looks its producer up once, whatever the room's size. */
  private readonly producers = new Map<string, types.Producer>();
  readonly origin: RouterSlot;
  private readonly edges: RouterSlot[] = [];
  private readonly creatingEdge = new Map<MediaWorker, Promise<RouterSlot>>();
  private readonly pipes = new Map<string, Promise<void>>();
  private isClosed = false;

  private constructor(
    router: types.Router,
    worker: MediaWorker,
    private readonly limits: EndpointLimits,
    private readonly options: RoomMediaOptions,
    private readonly log: MediaLogger,
  ) {
    super();
    this.origin = this.watch({ router, worker, consumers: 0, recvTransports: 0 });
  }

  static async create(worker: MediaWorker, limits: EndpointLimits, log: MediaLogger, options: RoomMediaOptions = { maxConsumersPerRouter: Infinity }): Promise<RoomMedia> {
    const router = await worker.createRouter(routerMediaCodecs);
    return new RoomMedia(router, worker, limits, options, log);
  }

  /** The origin router (producers, and the first listeners). */
  get router(): types.Router {
    return this.origin.router;
  }

  get worker(): MediaWorker {
    return this.origin.worker;
  }

  get routers(): RouterSlot[] {
    return [this.origin, ...this.edges];
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get rtpCapabilities(): types.RtpCapabilities {
    return this.origin.router.rtpCapabilities;
  }

  createEndpoint(id: string): MediaEndpoint {
    if (this.isClosed) throw new Error('room media is closed');
    if (this.endpoints.has(id)) throw new Error(`endpoint ${id} exists`);
    const endpoint = new MediaEndpoint(id, this, this.limits, this.log.child({ endpoint: id }));
    this.endpoints.set(id, endpoint);
    endpoint.once('close', () => this.endpoints.delete(id));
    endpoint.on('newproducer', (producer) => this.addProducer(producer));
    return endpoint;
  }

  /** Makes a producer on the origin router consumable by the room's endpoints (a client's, or one piped in). */
  addProducer(producer: types.Producer): void {
    this.producers.set(producer.id, producer);
    producer.observer.once('close', () => this.producers.delete(producer.id));
  }

  /** A producer of any endpoint in this room. */
  findProducer(producerId: string): types.Producer | undefined {
    return this.producers.get(producerId);
  }

  /** Sending transports stay on the origin; receiving ones go where there is room. */
  async routerFor(direction: TransportDirection): Promise<{ router: types.Router; webRtcServer: types.WebRtcServer }> {
    const slot = direction === 'send' ? this.origin : await this.listenerSlot();
    return { router: slot.router, webRtcServer: slot.worker.webRtcServer };
  }

  /** Makes an origin producer consumable on `router`, piping it there the first time. */
  async ensureProducerOn(producer: types.Producer, router: types.Router): Promise<void> {
    if (router === this.origin.router) return;
    const key = `${producer.id}:${router.id}`;
    let pipe = this.pipes.get(key);
    if (!pipe) {
      pipe = this.origin.router.pipeToRouter({ producerId: producer.id, router }).then(() => undefined);
      this.pipes.set(key, pipe);
      const forget = (): void => void this.pipes.delete(key);
      producer.observer.once('close', forget);
      router.observer.once('close', forget);
      pipe.catch(forget);
    }
    await pipe;
  }

  close(): void {
    this.closeWith('closed');
  }

  private async listenerSlot(): Promise<RouterSlot> {
    const max = this.options.maxConsumersPerRouter;
    const open = this.routers.filter((s) => s.consumers < max);
    if (open.length > 0) return open.reduce((a, b) => (b.consumers < a.consumers ? b : a));
    const pool = this.options.pool;
    const used = new Set(this.routers.map((s) => s.worker));
    const worker = pool?.workers.filter((w) => !used.has(w)).sort((a, b) => a.score - b.score)[0];
    // Every worker already carries a router of this room: share the least busy one rather than stack routers.
    if (!worker) return this.routers.reduce((a, b) => (b.consumers < a.consumers ? b : a));
    let creating = this.creatingEdge.get(worker);
    if (!creating) {
      creating = this.openEdge(worker).finally(() => this.creatingEdge.delete(worker));
      this.creatingEdge.set(worker, creating);
    }
    return creating;
  }

  private async openEdge(worker: MediaWorker): Promise<RouterSlot> {
    const router = await worker.createRouter(routerMediaCodecs);
    if (this.isClosed) {
      router.close();
      throw new Error('room media is closed');
    }
    const slot = this.watch({ router, worker, consumers: 0, recvTransports: 0 });
    this.edges.push(slot);
    this.log.info({ worker: worker.index, edges: this.edges.length }, 'room spans another worker');
    this.emit('edgeopened', slot);
    return slot;
  }

  /** Counts a router's listeners from mediasoup's own events; closes an edge nobody listens on any more. */
  private watch(slot: RouterSlot): RouterSlot {
    slot.router.on('workerclose', () => this.closeWith('worker-died'));
    slot.router.observer.on('newtransport', (transport) => {
      if (transport.appData.direction !== 'recv') return;
      slot.recvTransports += 1;
      transport.observer.on('newconsumer', (consumer) => {
        slot.consumers += 1;
        consumer.observer.once('close', () => (slot.consumers -= 1));
      });
      transport.observer.once('close', () => {
        slot.recvTransports -= 1;
        if (slot !== this.origin && slot.recvTransports === 0 && !this.isClosed) this.closeEdge(slot);
      });
    });
    return slot;
  }

  private closeEdge(slot: RouterSlot): void {
    const i = this.edges.indexOf(slot);
    if (i >= 0) this.edges.splice(i, 1);
    if (!slot.router.closed) slot.router.close();
    this.log.info({ worker: slot.worker.index }, 'edge router closed (no listeners left)');
    this.emit('edgeclosed', slot);
  }

  private closeWith(reason: RoomMediaCloseReason): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const endpoint of [...this.endpoints.values()]) endpoint.close();
    for (const slot of this.edges.splice(0)) if (!slot.router.closed) slot.router.close();
    if (!this.origin.router.closed) this.origin.router.close();
    this.emit('close', reason);
  }
}

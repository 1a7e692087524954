import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { AudioLevels, type AudioLevelsOptions } from './audio-levels.js';
import { routerMediaCodecs } from './codecs.js';
import type { MediaLogger } from './logger.js';
import { MediaEndpoint, type EndpointLimits, type MediaPlacement, type TransportDirection, type TransportPlacement } from './media-endpoint.js';
import type { MediaWorker } from './media-worker.js';
import type { WorkerPool } from './worker-pool.js';

export type RoomMediaCloseReason = 'closed' | 'worker-died';
type RoomMediaEvents = { close: [RoomMediaCloseReason]; edgeopened: [RouterSlot]; edgeclosed: [RouterSlot] };

/** One router of a room, on one worker, and what its clients' transports carry (counted from mediasoup's events). */
export interface RouterSlot {
  router: types.Router;
  worker: MediaWorker;
  /** Consumers on receive transports. */
  consumers: number;
  recvTransports: number;
  /** Producers on send transports (publishers placed here; pipe producers do not count). */
  producers: number;
  sendTransports: number;
}

export interface RoomMediaOptions {
  /**
   * Past this many consumers on a router, new receive transports go to another router of the room on
   * another worker, which gets the producers it needs through pipeToRouter on demand.
   */
  maxConsumersPerRouter: number;
  /**
   * Past this many producers on a router (a send transport that has not produced yet counts as one), new
   * send transports go to another router of the room on another worker. Default: no limit (one router).
   */
  maxProducersPerRouter?: number;
  /** Where further routers are placed; without it the room stays on its origin worker. */
  pool?: WorkerPool;
}

/** Per slot, what placement needs beyond the public counts. */
interface SlotState {
  /** Send transports without a producer yet: each counts as one publisher until it produces. */
  idleSendTransports: number;
  /** Send transports placed here whose creation is still awaited. */
  reserved: number;
  /** Transports of either direction placed here whose creation is still awaited: the router stays. */
  inFlight: number;
}

/**
 * A room's media: an origin router (the room's level observers, and its first clients) and, as the room
 * grows, further routers on other workers. Send transports go to the least loaded router with room for
 * publishers, receive transports to the least loaded router with room for consumers; a producer lives on
 * its send transport's router and is piped to any other router of the room the first time it is consumed
 * there. Closing the room closes every router, and mediasoup closes every transport, producer and consumer
 * below; a router other than the origin left without client transports is closed, which tears down its
 * pipes. The death of any of its workers closes the room (`worker-died`).
 */
export class RoomMedia extends EventEmitter<RoomMediaEvents> implements MediaPlacement {
  private readonly endpoints = new Map<string, MediaEndpoint>();
  /** Every producer of the room by id, with the router it lives on: a consume finds it once, whatever the room's size. */
  private readonly producers = new Map<string, { producer: types.Producer; router: types.Router }>();
  readonly origin: RouterSlot;
  private readonly edges: RouterSlot[] = [];
  private readonly state = new WeakMap<RouterSlot, SlotState>();
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
    this.origin = this.watch(router, worker);
  }

  static async create(worker: MediaWorker, limits: EndpointLimits, log: MediaLogger, options: RoomMediaOptions = { maxConsumersPerRouter: Infinity }): Promise<RoomMedia> {
    const router = await worker.createRouter(routerMediaCodecs);
    return new RoomMedia(router, worker, limits, options, log);
  }

  /** The origin router: the room's level observers, the cascade's pipes to other nodes, the first clients. */
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
    endpoint.on('newproducer', (producer, router) => this.addProducer(producer, router));
    return endpoint;
  }

  /**
   * Makes a producer consumable by the room's endpoints on any of its routers: a client's, or one piped in
   * from another node. `router` is the router it lives on (the origin unless said otherwise).
   */
  addProducer(producer: types.Producer, router: types.Router = this.origin.router): void {
    this.producers.set(producer.id, { producer, router });
    producer.observer.once('close', () => this.producers.delete(producer.id));
  }

  /** A producer of any endpoint in this room. */
  findProducer(producerId: string): types.Producer | undefined {
    return this.producers.get(producerId)?.producer;
  }

  /** The router a producer of this room lives on (its send transport's), not the routers it is piped to. */
  producerRouter(producerId: string): types.Router | undefined {
    return this.producers.get(producerId)?.router;
  }

  /** Send transports go to the least loaded router with room for publishers; receive ones where there is room for consumers. */
  async routerFor(direction: TransportDirection): Promise<TransportPlacement> {
    if (direction === 'send') return this.publisherPlacement();
    return this.reserve(await this.listenerSlot(), false);
  }

  /**
   * Makes a producer of this room consumable on `router`: piped there from the router it lives on the
   * first time, once per (producer, router); the pipe is forgotten when either closes.
   */
  async ensureProducerOn(producer: types.Producer, router: types.Router): Promise<void> {
    const home = this.producers.get(producer.id)?.router ?? this.origin.router;
    if (router === home) return;
    const key = `${producer.id}:${router.id}`;
    let pipe = this.pipes.get(key);
    if (!pipe) {
      const forget = (): void => {
        if (this.pipes.get(key) === pipe) this.pipes.delete(key);
      };
      pipe = home.pipeToRouter({ producerId: producer.id, router }).then(({ pipeProducer }) => {
        // The piped copy can go first (its pipe transport closed with a router): pipe again next time.
        pipeProducer?.observer.once('close', forget);
      });
      this.pipes.set(key, pipe);
      producer.observer.once('close', forget);
      router.observer.once('close', forget);
      pipe.catch(forget);
    }
    await pipe;
  }

  /** The room's audio level observers, on the origin router: producers of other routers are piped there to be observed. */
  createAudioLevels(options: AudioLevelsOptions): Promise<AudioLevels> {
    const origin = this.origin.router;
    return AudioLevels.create(origin, options, (producer) => this.ensureProducerOn(producer, origin));
  }

  close(): void {
    this.closeWith('closed');
  }

  private async listenerSlot(): Promise<RouterSlot> {
    const max = this.options.maxConsumersPerRouter;
    const open = this.routers.filter((s) => s.consumers < max);
    if (open.length > 0) return open.reduce((a, b) => (b.consumers < a.consumers ? b : a));
    // Every worker already carries a router of this room: share the least busy one rather than stack routers.
    return (await this.openRouter()) ?? this.routers.reduce((a, b) => (b.consumers < a.consumers ? b : a));
  }

  /**
   * The least loaded router with room for one more publisher, or a new one on another worker. The choice
   * is reserved in the same synchronous step (until the transport exists and is counted), so a join wave
   * does not pile onto one router; callers that waited for a new router choose again once it is open.
   */
  private async publisherPlacement(): Promise<TransportPlacement> {
    const max = this.options.maxProducersPerRouter ?? Infinity;
    const lighter = (a: RouterSlot, b: RouterSlot): RouterSlot => (this.load(b) < this.load(a) ? b : a);
    for (;;) {
      const open = this.routers.filter((s) => this.publishers(s) < max);
      if (open.length > 0) return this.reserve(open.reduce(lighter));
      const opened = await this.openRouter();
      // Every worker already carries a router of this room: share the least loaded one.
      if (!opened) return this.reserve(this.routers.reduce(lighter));
    }
  }

  /**
   * Holds a router for a transport being made: a publisher's counts until its transport exists. A router
   * other than the origin that ends up with no transport (the transport could not be made) closes.
   */
  private reserve(slot: RouterSlot, publisher = true): TransportPlacement {
    const state = this.state.get(slot)!;
    if (publisher) state.reserved += 1;
    state.inFlight += 1;
    let released = false;
    const done = (): void => {
      if (released) return;
      released = true;
      if (publisher) state.reserved -= 1;
      state.inFlight -= 1;
      this.closeIfUnused(slot);
    };
    return { router: slot.router, webRtcServer: slot.worker.webRtcServer, done };
  }

  /** A router other than the origin with no client transport, and none being made, closes. */
  private closeIfUnused(slot: RouterSlot): void {
    const state = this.state.get(slot)!;
    if (slot === this.origin || this.isClosed || slot.router.closed || !this.edges.includes(slot)) return;
    if (slot.recvTransports + slot.sendTransports === 0 && state.inFlight === 0) this.closeEdge(slot);
  }

  /** Publishers on a router: its producers, plus send transports that have not produced yet or are being made. */
  private publishers(slot: RouterSlot): number {
    const state = this.state.get(slot)!;
    return slot.producers + state.idleSendTransports + state.reserved;
  }

  /** What a router forwards and receives, to pick the least loaded. */
  private load(slot: RouterSlot): number {
    return this.publishers(slot) + slot.consumers;
  }

  /** A router on the least loaded worker of the pool without one of this room's routers; undefined when there is none. */
  private async openRouter(): Promise<RouterSlot | undefined> {
    const used = new Set(this.routers.map((s) => s.worker));
    const worker = this.options.pool?.workers.filter((w) => !used.has(w)).sort((a, b) => a.score - b.score)[0];
    if (!worker) return undefined;
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
    const slot = this.watch(router, worker);
    this.edges.push(slot);
    this.log.info({ worker: worker.index, edges: this.edges.length }, 'room spans another worker');
    this.emit('edgeopened', slot);
    return slot;
  }

  /**
   * Counts a router's client transports, producers and consumers from mediasoup's own events (pipe and
   * plain transports carry no direction and are not counted); closes a router other than the origin once
   * no client transport is left on it.
   */
  private watch(router: types.Router, worker: MediaWorker): RouterSlot {
    const slot: RouterSlot = { router, worker, consumers: 0, recvTransports: 0, producers: 0, sendTransports: 0 };
    const state: SlotState = { idleSendTransports: 0, reserved: 0, inFlight: 0 };
    this.state.set(slot, state);
    router.on('workerclose', () => this.closeWith('worker-died'));
    const leftEmpty = (): void => this.closeIfUnused(slot);
    router.observer.on('newtransport', (transport) => {
      const direction = transport.appData.direction;
      if (direction === 'recv') {
        slot.recvTransports += 1;
        transport.observer.on('newconsumer', (consumer) => {
          slot.consumers += 1;
          consumer.observer.once('close', () => (slot.consumers -= 1));
        });
        transport.observer.once('close', () => {
          slot.recvTransports -= 1;
          leftEmpty();
        });
      } else if (direction === 'send') {
        slot.sendTransports += 1;
        let producing = 0;
        let idle = false;
        const setIdle = (value: boolean): void => {
          if (value !== idle) state.idleSendTransports += value ? 1 : -1;
          idle = value;
        };
        setIdle(true);
        transport.observer.on('newproducer', (producer) => {
          slot.producers += 1;
          producing += 1;
          setIdle(false);
          producer.observer.once('close', () => {
            slot.producers -= 1;
            producing -= 1;
            setIdle(producing === 0 && !transport.closed);
          });
        });
        transport.observer.once('close', () => {
          slot.sendTransports -= 1;
          setIdle(false);
          leftEmpty();
        });
      }
    });
    return slot;
  }

  private closeEdge(slot: RouterSlot): void {
    const i = this.edges.indexOf(slot);
    if (i >= 0) this.edges.splice(i, 1);
    if (!slot.router.closed) slot.router.close();
    this.log.info({ worker: slot.worker.index }, 'router closed (no client transport left on it)');
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

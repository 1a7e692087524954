import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { MediaLogger } from './logger.js';

export type TransportDirection = 'send' | 'recv';

export interface EndpointLimits {
  /** Transports per direction per endpoint (a client needs one of each; ICE restarts reuse them). */
  maxTransportsPerDirection: number;
  maxProducers: number;
  maxConsumers: number;
  /** Starting estimate for the downlink, in bps. */
  initialAvailableOutgoingBitrate: number;
}

/** Where a transport goes. `done`, when given, is called once the transport exists and is counted, or could not be made. */
export interface TransportPlacement {
  router: types.Router;
  webRtcServer: types.WebRtcServer;
  done?(): void;
}

/** Where an endpoint's transports go, and how a producer reaches the router of a receive transport. */
export interface MediaPlacement {
  routerFor(direction: TransportDirection): Promise<TransportPlacement>;
  ensureProducerOn(producer: types.Producer, router: types.Router): Promise<void>;
}

export class MediaLimitError extends Error {}
export class MediaNotFoundError extends Error {}
export class MediaStateError extends Error {}

type EndpointEvents = {
  close: [];
  /** A producer, and the router it lives on (its send transport's). */
  newproducer: [types.Producer, types.Router];
  /** A consumer closed because its producer (or its transport) went away. */
  consumerclose: [types.Consumer];
  consumerlayerschange: [types.Consumer, types.ConsumerLayers | undefined];
  /** The remote producer behind a consumer was paused or resumed. */
  consumerproducerpause: [types.Consumer];
  consumerproducerresume: [types.Consumer];
};

/**
 * One client's media on a room's router: its WebRTC transports and the producers and consumers on them.
 * Ownership follows mediasoup's: closing a transport closes its producers and consumers; closing the
 * endpoint closes its transports.
 */
export class MediaEndpoint extends EventEmitter<EndpointEvents> {
  readonly transports = new Map<string, types.WebRtcTransport>();
  private readonly routerOf = new Map<string, types.Router>();
  readonly producers = new Map<string, types.Producer>();
  readonly consumers = new Map<string, types.Consumer>();
  /**
   * Slots taken by calls still awaiting mediasoup. A limit is checked and its slot reserved in the same
   * synchronous step, so parallel calls cannot all pass the check before any of them is counted.
   */
  private readonly pending = { send: 0, recv: 0, producers: 0, consumers: 0 };
  /** Producers being consumed right now: a second parallel consume of one producer is refused too. */
  private readonly consuming = new Set<string>();
  /** Producers taken in from elsewhere (no transport of this endpoint owns them). */
  private readonly adopted = new Set<types.Producer>();
  private isClosed = false;

  constructor(
    readonly id: string,
    private readonly placement: MediaPlacement,
    private readonly limits: EndpointLimits,
    private readonly log: MediaLogger,
  ) {
    super();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  async createWebRtcTransport(direction: TransportDirection): Promise<types.WebRtcTransport> {
    this.assertOpen();
    const sameDirection = [...this.transports.values()].filter((t) => t.appData.direction === direction).length;
    if (sameDirection + this.pending[direction] >= this.limits.maxTransportsPerDirection) {
      throw new MediaLimitError(`at most ${this.limits.maxTransportsPerDirection} ${direction} transport(s)`);
    }
    this.pending[direction] += 1;
    let placed: TransportPlacement | undefined;
    try {
      placed = await this.placement.routerFor(direction);
      const { router, webRtcServer } = placed;
      const transport = await router.createWebRtcTransport({
        webRtcServer,
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: this.limits.initialAvailableOutgoingBitrate,
        appData: { direction },
      });
      if (this.isClosed) {
        transport.close();
        throw new MediaStateError('endpoint closed');
      }
      this.transports.set(transport.id, transport);
      this.routerOf.set(transport.id, router);
      transport.observer.once('close', () => {
        this.transports.delete(transport.id);
        this.routerOf.delete(transport.id);
      });
      return transport;
    } finally {
      placed?.done?.();
      this.pending[direction] -= 1;
    }
  }

  /**
   * Takes in a transport made elsewhere on `router` (one of the room's) as this endpoint's send or receive
   * transport (`appData.direction`): benchmarks and tests put a PlainTransport in a client's place to send
   * or receive real RTP. Its WebRTC-only calls (connectWebRtcTransport, restartIce) are never made on it.
   */
  adoptTransport(transport: types.Transport, router: types.Router): void {
    this.assertOpen();
    if (transport.appData.direction !== 'send' && transport.appData.direction !== 'recv') throw new MediaStateError('appData.direction must be send or recv');
    this.transports.set(transport.id, transport as types.WebRtcTransport);
    this.routerOf.set(transport.id, router);
    transport.observer.once('close', () => {
      this.transports.delete(transport.id);
      this.routerOf.delete(transport.id);
    });
  }

  /**
   * Takes in a producer made elsewhere on `router` as this endpoint's: a delegate served by an edge node
   * publishes there, and the origin holds the piped copy under the same id. It closes with the endpoint.
   */
  adoptProducer(producer: types.Producer, router: types.Router): void {
    this.assertOpen();
    this.producers.set(producer.id, producer);
    this.adopted.add(producer);
    producer.observer.once('close', () => {
      this.producers.delete(producer.id);
      this.adopted.delete(producer);
    });
    this.emit('newproducer', producer, router);
  }

  transport(transportId: string, direction?: TransportDirection): types.WebRtcTransport {
    const transport = this.transports.get(transportId);
    if (!transport || (direction && transport.appData.direction !== direction)) {
      throw new MediaNotFoundError(`no ${direction ?? ''} transport ${transportId}`.replace('  ', ' '));
    }
    return transport;
  }

  async connectTransport(transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    const transport = this.transport(transportId);
    if (transport.dtlsState !== 'new') throw new MediaStateError('transport already connected');
    await transport.connect({ dtlsParameters });
  }

  async produce(
    transportId: string,
    kind: types.MediaKind,
    rtpParameters: types.RtpParameters,
    appData: Record<string, unknown>,
  ): Promise<types.Producer> {
    this.assertOpen();
    const transport = this.transport(transportId, 'send');
    if (this.producers.size + this.pending.producers >= this.limits.maxProducers) throw new MediaLimitError(`at most ${this.limits.maxProducers} producers`);
    this.pending.producers += 1;
    let producer: types.Producer;
    try {
      producer = await transport.produce({ kind, rtpParameters, appData: { ...appData, endpointId: this.id } });
    } finally {
      this.pending.producers -= 1;
    }
    if (this.isClosed || transport.closed) {
      producer.close();
      throw new MediaStateError('endpoint closed');
    }
    this.producers.set(producer.id, producer);
    producer.observer.once('close', () => this.producers.delete(producer.id));
    this.emit('newproducer', producer, this.routerOf.get(transport.id)!);
    return producer;
  }

  producer(producerId: string): types.Producer {
    const producer = this.producers.get(producerId);
    if (!producer) throw new MediaNotFoundError(`no producer ${producerId}`);
    return producer;
  }

  /**
   * Consumes a producer of this room on this endpoint's receive transport, by default paused until the
   * client resumes (the server's own consumers of audio start flowing at once).
   */
  async consume(producer: types.Producer, rtpCapabilities: types.RtpCapabilities, options: { paused?: boolean; spatialLayer?: number } = {}): Promise<types.Consumer> {
    this.assertOpen();
    const transport = [...this.transports.values()].find((t) => t.appData.direction === 'recv');
    if (!transport) throw new MediaStateError('create a receive transport first');
    if (this.consumers.size + this.pending.consumers >= this.limits.maxConsumers) throw new MediaLimitError(`at most ${this.limits.maxConsumers} consumers`);
    for (const c of this.consumers.values()) {
      if (c.producerId === producer.id) throw new MediaStateError(`already consuming ${producer.id}`);
    }
    if (this.consuming.has(producer.id)) throw new MediaStateError(`already consuming ${producer.id}`);
    this.pending.consumers += 1;
    this.consuming.add(producer.id);
    let consumer: types.Consumer;
    try {
      const router = this.routerOf.get(transport.id)!;
      // A receive transport on an edge router needs the producer piped there first (once per router).
      await this.placement.ensureProducerOn(producer, router);
      if (this.isClosed || transport.closed) throw new MediaStateError('endpoint closed');
      if (!router.canConsume({ producerId: producer.id, rtpCapabilities })) {
        throw new MediaStateError('these RTP capabilities cannot receive this producer');
      }
      consumer = await transport.consume({
        producerId: producer.id,
        rtpCapabilities,
        paused: options.paused ?? true,
        // Set with the consumer (one request to the worker, not two).
        ...(options.spatialLayer !== undefined ? { preferredLayers: { spatialLayer: options.spatialLayer } } : {}),
        appData: { ...producer.appData },
      });
    } finally {
      this.pending.consumers -= 1;
      this.consuming.delete(producer.id);
    }
    if (this.isClosed || transport.closed) {
      consumer.close();
      throw new MediaStateError('endpoint closed');
    }
    this.consumers.set(consumer.id, consumer);
    const gone = (): void => {
      if (!this.consumers.delete(consumer.id)) return;
      this.emit('consumerclose', consumer);
    };
    consumer.on('producerclose', gone);
    consumer.on('transportclose', gone);
    consumer.observer.once('close', () => this.consumers.delete(consumer.id));
    consumer.on('producerpause', () => this.emit('consumerproducerpause', consumer));
    consumer.on('producerresume', () => this.emit('consumerproducerresume', consumer));
    consumer.on('layerschange', (layers) => this.emit('consumerlayerschange', consumer, layers));
    return consumer;
  }

  consumer(consumerId: string): types.Consumer {
    const consumer = this.consumers.get(consumerId);
    if (!consumer) throw new MediaNotFoundError(`no consumer ${consumerId}`);
    return consumer;
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const transport of [...this.transports.values()]) transport.close();
    for (const producer of [...this.adopted]) producer.close();
    this.log.debug({ endpoint: this.id }, 'media endpoint closed');
    this.emit('close');
  }

  private assertOpen(): void {
    if (this.isClosed) throw new MediaStateError('endpoint closed');
  }
}

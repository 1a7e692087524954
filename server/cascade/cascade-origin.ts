import type { types } from 'mediasoup';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { ClusterBus } from '../cluster/cluster-bus.js';
import type { ClusterKeys } from '../cluster/cluster-keys.js';
import { forClient, type Coordinator } from '../cluster/coordinator.js';
import type { Logger } from '../logger.js';
import { producerInfo } from '../rooms/participant.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { cascadeRequests, relayedEvents, roomTopic, type CascadeMethod, type CascadeParams, type CascadeResult, type RelayedEvent, type RoomSnapshot, type RoomTopicFrame, type RoomTopicMessage, type StreamPosition } from './cascade-protocol.js';
import { OriginDelegates } from './origin-delegates.js';
import { createPipeTransport, pipeEndpoint, type PipeAddressing } from './pipe-addressing.js';
import { openEndpoint, sealEndpoint } from './srtp-seal.js';

/** One edge node's pipe from a room here: a PipeTransport and one pipe consumer per producer sent. */
interface EdgePipe {
  transport: types.PipeTransport;
  consumers: Map<string, types.Consumer>;
}

const RELAYED = new Set<string>(relayedEvents);

/**
 * The origin side of the cascade, on the node that owns a room: opens pipes to the edge nodes that ask,
 * sends producers through them on demand, and publishes what the room says to everyone on the room's
 * topic so that edges repeat it to their listeners. Pipes to an edge node that stopped heartbeating are
 * closed; a room's pipes close with its router.
 */
export class CascadeOrigin {
  private readonly pipes = new Map<string, Map<string, EdgePipe>>();
  /** Per room served here: its epoch and the sequence number of the last message published on its topic. */
  private readonly streams = new Map<string, StreamPosition>();
  private readonly sweeper: NodeJS.Timeout;
  /** The delegates edge nodes serve in rooms here. */
  readonly delegates: OriginDelegates;

  constructor(
    private readonly rooms: RoomRegistry,
    private readonly bus: ClusterBus,
    private readonly coordinator: Coordinator,
    private readonly addressing: PipeAddressing,
    private readonly keys: ClusterKeys,
    private readonly log: Logger,
    sweepIntervalMs: number,
    /** The epoch (lease token) under which this node serves a room. */
    private readonly epochOf: (roomId: string) => number | undefined,
  ) {
    this.delegates = new OriginDelegates(bus, (roomId, edge) => this.pipes.get(roomId)?.get(edge)?.transport, log);
    bus.serve((method, params, from) => this.handle(method, params, from));
    rooms.on('roomcreated', (room) => this.relay(room));
    this.sweeper = setInterval(() => void this.sweep(), sweepIntervalMs);
    this.sweeper.unref();
  }

  /** Edge nodes with a pipe from this room. */
  edgesOf(roomId: string): string[] {
    return [...(this.pipes.get(roomId)?.keys() ?? [])];
  }

  /** Where a room's stream stands (epoch and last sequence number sent), while this node serves the room. */
  streamOf(roomId: string): StreamPosition | undefined {
    const stream = this.streams.get(roomId);
    return stream && { ...stream };
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const edges of this.pipes.values()) for (const pipe of edges.values()) pipe.transport.close();
    this.pipes.clear();
  }

  private async handle(method: string, raw: unknown, from: string): Promise<unknown> {
    if (!(method in cascadeRequests)) throw new ProtocolError(ErrorCode.UNKNOWN_METHOD, `unknown cluster request ${method.slice(0, 64)}`);
    const m = method as CascadeMethod;
    const parsed = cascadeRequests[m].params.safeParse(raw);
    if (!parsed.success) throw new ProtocolError(ErrorCode.BAD_REQUEST, `invalid ${m} parameters`);
    switch (m) {
      case 'cascade.attach':
        return this.attach(parsed.data as CascadeParams<'cascade.attach'>, from);
      case 'cascade.pipe':
        return this.pipe(parsed.data as CascadeParams<'cascade.pipe'>, from);
      case 'cascade.snapshot': {
        const roomId = (parsed.data as CascadeParams<'cascade.snapshot'>).roomId;
        return { snapshot: this.snapshotOf(this.originRoom(roomId)), at: this.positionOf(roomId) } satisfies CascadeResult<'cascade.snapshot'>;
      }
      case 'cascade.detach':
        this.detach((parsed.data as CascadeParams<'cascade.detach'>).roomId, from);
        return null;
      case 'cascade.unpipe': {
        const { roomId, producerId } = parsed.data as CascadeParams<'cascade.unpipe'>;
        this.pipes.get(roomId)?.get(from)?.consumers.get(producerId)?.close();
        return null;
      }
      case 'cascade.seat': {
        const params = parsed.data as CascadeParams<'cascade.seat'>;
        return this.delegates.seat(this.originRoom(params.roomId), from, params);
      }
      case 'cascade.unseat': {
        const params = parsed.data as CascadeParams<'cascade.unseat'>;
        return this.delegates.unseat(this.originRoom(params.roomId), from, params);
      }
      case 'cascade.publish': {
        const params = parsed.data as CascadeParams<'cascade.publish'>;
        return this.delegates.publish(this.originRoom(params.roomId), from, params);
      }
      case 'cascade.unpublish': {
        const params = parsed.data as CascadeParams<'cascade.unpublish'>;
        return this.delegates.unpublish(this.originRoom(params.roomId), from, params);
      }
      case 'cascade.forward': {
        const params = parsed.data as CascadeParams<'cascade.forward'>;
        return this.delegates.forward(this.originRoom(params.roomId), from, params);
      }
    }
  }

  /** What an edge mirrors: the room's view, and its cameras for the edge's gallery tiles. */
  private snapshotOf(room: Room): RoomSnapshot {
    return { ...room.view(), cameras: room.cameraInfos(), recording: room.recording };
  }

  /** Taken in the same tick as the view it goes with: the two agree. */
  private positionOf(roomId: string): StreamPosition {
    const stream = this.streams.get(roomId);
    if (!stream) throw new ProtocolError(ErrorCode.ROOM_ELSEWHERE, `this node does not serve room ${roomId}`);
    return { ...stream };
  }

  private originRoom(roomId: string): Room {
    const room = this.rooms.get(roomId);
    if (!room || room.closed || room.isEdge) throw new ProtocolError(ErrorCode.ROOM_ELSEWHERE, `this node does not serve room ${roomId}`);
    return room;
  }

  /**
   * `from` is the sender named in the signed envelope. The pipe goes only to where that node registered
   * its pipes: a message naming another address (a third party to flood with media) is refused.
   */
  private async attach({ roomId, edge: wire }: CascadeParams<'cascade.attach'>, from: string): Promise<CascadeResult<'cascade.attach'>> {
    const room = this.originRoom(roomId);
    if (from === this.bus.nodeId) throw new ProtocolError(ErrorCode.FORBIDDEN, 'a node does not attach to itself');
    const registered = (await forClient(() => this.coordinator.liveNodes())).find((n) => n.nodeId === from)?.pipe;
    if (!registered) throw new ProtocolError(ErrorCode.FORBIDDEN, `node ${from} is not a live node of this cluster`);
    if (wire.ip !== registered.address || wire.port < registered.minPort || wire.port > registered.maxPort) {
      this.log.warn({ room: roomId, edge: from, ip: wire.ip, port: wire.port }, 'attach refused: the address is not the edge node\'s');
      throw new ProtocolError(ErrorCode.FORBIDDEN, `${wire.ip}:${wire.port} is not where node ${from} receives pipes`);
    }
    const context = { roomId, originNode: this.bus.nodeId, edgeNode: from };
    const edge = openEndpoint(wire, this.keys, { ...context, side: 'edge' });
    const transport = await createPipeTransport(room.media.router, this.addressing, { edge: from });
    try {
      await transport.connect({ ip: edge.ip, port: edge.port, srtpParameters: edge.srtpParameters });
    } catch (error) {
      transport.close();
      throw new ProtocolError(ErrorCode.BAD_REQUEST, `cannot connect the pipe to ${edge.ip}:${edge.port}: ${(error as Error).message}`);
    }
    const edges = this.pipes.get(roomId) ?? new Map<string, EdgePipe>();
    this.pipes.set(roomId, edges);
    // An edge that attaches again (it restarted or resynced) replaces its old pipe.
    edges.get(from)?.transport.close();
    const pipe: EdgePipe = { transport, consumers: new Map() };
    edges.set(from, pipe);
    transport.observer.once('close', () => {
      if (edges.get(from) === pipe) edges.delete(from);
      if (edges.size === 0 && this.pipes.get(roomId) === edges) this.pipes.delete(roomId);
      // The delegates that edge served published through this pipe: their copies go with it.
      this.delegates.edgeGone(this.rooms.get(roomId), from);
    });
    this.log.info({ room: roomId, edge: from, edges: edges.size }, 'edge attached');
    return { origin: sealEndpoint(pipeEndpoint(transport, this.addressing), this.keys, { ...context, side: 'origin' }), snapshot: this.snapshotOf(room), at: this.positionOf(roomId) };
  }

  private async pipe({ roomId, producerId }: CascadeParams<'cascade.pipe'>, from: string): Promise<CascadeResult<'cascade.pipe'>> {
    const room = this.originRoom(roomId);
    const pipe = this.pipes.get(roomId)?.get(from);
    if (!pipe) throw new ProtocolError(ErrorCode.INVALID_STATE, 'attach before piping producers');
    const producer = room.media.findProducer(producerId);
    if (!producer) throw new ProtocolError(ErrorCode.NOT_FOUND, `no producer ${producerId} in room ${roomId}`);
    let consumer = pipe.consumers.get(producerId);
    if (!consumer) {
      // The pipes to edge nodes leave from the origin router; a producer published on another router of the room is piped there first.
      await room.media.ensureProducerOn(producer, room.media.router);
      consumer = await pipe.transport.consume({ producerId });
      const created = consumer;
      pipe.consumers.set(producerId, created);
      created.observer.once('close', () => pipe.consumers.delete(producerId));
      room.forwarding.heldByEdge(producer, created);
    }
    return {
      kind: consumer.kind,
      rtpParameters: consumer.rtpParameters as CascadeResult<'cascade.pipe'>['rtpParameters'],
      paused: consumer.producerPaused,
      info: producerInfo(producer, producer.appData.endpointId as string),
    };
  }

  private detach(roomId: string, from: string): void {
    this.pipes.get(roomId)?.get(from)?.transport.close();
  }

  /**
   * Repeats the room's broadcasts on its topic, only while it has edges: a room without any costs nothing.
   * Each message carries the room's epoch and the next sequence number: one that fails to go out leaves a
   * gap, on which the edges resynchronise.
   */
  private relay(room: Room): void {
    const stream: StreamPosition = { epoch: this.epochOf(room.id) ?? 0, seq: 0 };
    this.streams.set(room.id, stream);
    const send = (message: RoomTopicMessage): void => {
      const frame: RoomTopicFrame = { epoch: stream.epoch, seq: ++stream.seq, message };
      this.bus.publish(roomTopic(room.id), frame).catch((error: Error) => this.log.debug({ err: error.message, room: room.id }, 'room event not relayed'));
    };
    const publish = (message: RoomTopicMessage): void => {
      if (this.pipes.has(room.id)) send(message);
    };
    room.on('relay', (event, data) => {
      if (RELAYED.has(event)) publish({ type: 'event', event: event as RelayedEvent, data } as RoomTopicMessage);
      // A hidden floor microphone stops flowing to the edges too (they pipe it again when it is audible). A
      // camera leaving the stage may still be on gallery tiles there: each edge lets it go (unpipe) when unused.
      if (event === 'producerHidden') {
        const producerId = (data as { producerId: string }).producerId;
        for (const pipe of this.pipes.get(room.id)?.values() ?? []) {
          const consumer = pipe.consumers.get(producerId);
          if (consumer?.kind === 'audio') consumer.close();
        }
      }
    });
    room.on('producerstate', (producerId, paused) => publish({ type: 'paused', producerId, paused }));
    room.on('camerapublished', (info) => publish({ type: 'camera', info }));
    // The pipes close with the router, before this: say it whether or not edges remain.
    room.once('close', (reason) => {
      this.pipes.delete(room.id);
      if (this.streams.get(room.id) === stream) this.streams.delete(room.id);
      send({ type: 'closed', reason });
    });
  }

  private async sweep(): Promise<void> {
    if (this.pipes.size === 0) return;
    let live: Set<string>;
    try {
      live = new Set((await this.coordinator.liveNodes()).map((n) => n.nodeId));
    } catch {
      return; // the store is away: keep the pipes; media between nodes does not need it
    }
    for (const [roomId, edges] of this.pipes) {
      for (const [nodeId, pipe] of edges) {
        if (live.has(nodeId)) continue;
        this.log.info({ room: roomId, edge: nodeId }, 'edge node gone; closing its pipe');
        pipe.transport.close();
      }
    }
  }
}

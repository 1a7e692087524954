import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { RoomMedia, routerMediaCodecs, type EndpointLimits, type WorkerPool } from '../../media/index.js';
import { CloseReason, ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { Logger } from '../logger.js';
import type { RoomLease } from '../cluster/coordinator.js';
import type { RoomOwnership } from '../cluster/room-ownership.js';
import { Room, type RoomOptions, type RoomUpstream } from './room.js';

/** Connects an edge room to its origin on another node. */
export type UpstreamFactory = (room: Room, owner: RoomLease) => Promise<RoomUpstream>;

/** The rooms this node hosts. Concurrent first joins to one room create it once. */
export class RoomRegistry extends EventEmitter<{ roomcreated: [Room]; edgecreated: [Room] }> {
  private readonly rooms = new Map<string, Room>();
  private readonly creating = new Map<string, Promise<Room>>();
  private readonly edgeOwners = new WeakMap<Room, RoomLease>();
  private closed = false;
  /** Every router has the same capabilities (same codecs): learnt once, answered to clients before they join. */
  private capabilities: Promise<types.RtpCapabilities> | undefined;
  upstreams: UpstreamFactory | undefined;

  constructor(
    private readonly pool: WorkerPool,
    private readonly limits: EndpointLimits & { maxConsumersPerRouter: number; maxProducersPerRouter?: number },
    /** Options of a room, from its session (languages); unknown rooms (dev mode) get the defaults. */
    private readonly optionsFor: (roomId: string) => Promise<RoomOptions>,
    private readonly log: Logger,
    private readonly ownership?: RoomOwnership,
  ) {
    super();
    // A lost lease means another node now serves the room: clients reconnect and are sent there.
    ownership?.on('lost', (roomId) => this.rooms.get(roomId)?.close(CloseReason.SERVER_SHUTDOWN));
  }

  get all(): IterableIterator<Room> {
    return this.rooms.values();
  }

  get(roomId: string): Room | undefined {
    return this.rooms.get(roomId);
  }

  get size(): number {
    return this.rooms.size;
  }

  /** The room this node owns; an edge copy left from before this node took the room over is closed first. */
  async getOrCreate(roomId: string): Promise<Room> {
    const existing = this.rooms.get(roomId);
    if (existing && !existing.closed && !existing.isEdge) return existing;
    if (existing?.isEdge) existing.close(CloseReason.SERVER_SHUTDOWN);
    return this.createOnce(roomId, () => this.create(roomId));
  }

  /**
   * An edge of a room that `owner` serves: its listeners here receive the origin's producers through a pipe.
   * If this node owns the room after all, that room serves them.
   */
  async getOrCreateEdge(roomId: string, owner: RoomLease): Promise<Room> {
    // A room being made is not ready (an edge room is registered before its upstream attaches): wait for it.
    const pending = this.creating.get(roomId);
    if (pending) return pending;
    const existing = this.rooms.get(roomId);
    if (existing && !existing.closed) {
      if (!existing.isEdge) return existing;
      const seen = this.edgeOwners.get(existing);
      if (seen?.nodeId === owner.nodeId && seen.token === owner.token) return existing;
      existing.close(CloseReason.SERVER_SHUTDOWN); // the origin moved: follow it
    }
    return this.createOnce(roomId, () => this.createEdge(roomId, owner));
  }

  /**
   * The routers' RTP capabilities, without creating a room: a connection asks before it joins, and only a
   * join may create a room. Read from a live room, or once from a short-lived router.
   */
  async rtpCapabilities(): Promise<types.RtpCapabilities> {
    for (const room of this.rooms.values()) if (!room.closed) return room.media.rtpCapabilities;
    this.capabilities ??= (async () => {
      const worker = this.pool.leastLoaded();
      if (!worker) throw new ProtocolError(ErrorCode.UNAVAILABLE, 'no media worker is available; try again shortly');
      const router = await worker.createRouter(routerMediaCodecs);
      try {
        return router.rtpCapabilities;
      } finally {
        router.close();
      }
    })().catch((error: unknown) => {
      this.capabilities = undefined;
      throw error;
    });
    return this.capabilities;
  }

  private createOnce(roomId: string, create: () => Promise<Room>): Promise<Room> {
    const pending = this.creating.get(roomId);
    if (pending) return pending;
    const creation = create().finally(() => this.creating.delete(roomId));
    this.creating.set(roomId, creation);
    return creation;
  }

  closeAll(reason: CloseReason = CloseReason.SERVER_SHUTDOWN): void {
    this.closed = true;
    for (const room of [...this.rooms.values()]) room.close(reason);
  }

  private async create(roomId: string): Promise<Room> {
    // Only the lease holder serves a room: two nodes never both do.
    let room: Room;
    try {
      room = await this.build(roomId, async () => this.ownership?.ensure(roomId));
    } catch (error) {
      // Never built: the lease goes with it, unless admitted connections hold it.
      void this.ownership?.release(roomId);
      throw error;
    }
    room.once('close', () => void this.ownership?.release(roomId));
    this.emit('roomcreated', room);
    return room;
  }

  private async createEdge(roomId: string, owner: RoomLease): Promise<Room> {
    const upstreams = this.upstreams;
    if (!upstreams) throw new ProtocolError(ErrorCode.ROOM_ELSEWHERE, 'this room is served by another node');
    // An edge keeps no floor of its own (it mirrors the origin's), so no saved speakers list is loaded.
    const room = await this.build(roomId, async () => undefined, { floorSnapshot: undefined });
    try {
      room.attachUpstream(await upstreams(room, owner));
    } catch (error) {
      room.close(CloseReason.SERVER_SHUTDOWN);
      throw error;
    }
    this.edgeOwners.set(room, owner);
    this.log.info({ room: roomId, origin: owner.nodeId }, 'edge of a room served by another node');
    this.emit('edgecreated', room);
    return room;
  }

  private async build(roomId: string, claim: () => Promise<unknown>, overrides: Partial<RoomOptions> = {}): Promise<Room> {
    if (this.closed) throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the server is shutting down');
    const worker = this.pool.leastLoaded();
    if (!worker) throw new ProtocolError(ErrorCode.UNAVAILABLE, 'no media worker is available; try again shortly');
    await claim();
    const log = this.log.child({ room: roomId });
    const media = await RoomMedia.create(worker, this.limits, log, { maxConsumersPerRouter: this.limits.maxConsumersPerRouter, maxProducersPerRouter: this.limits.maxProducersPerRouter, pool: this.pool });
    let options: RoomOptions;
    try {
      // Read after the lease is taken: the state the previous owner wrote is complete by then.
      options = { ...(await this.optionsFor(roomId)), ...overrides };
    } catch (error) {
      media.close();
      throw error;
    }
    const room = new Room(roomId, media, options, log);
    this.rooms.set(roomId, room);
    room.once('close', () => {
      if (this.rooms.get(roomId) === room) this.rooms.delete(roomId);
    });
    log.info({ worker: worker.index }, 'room created');
    return room;
  }
}

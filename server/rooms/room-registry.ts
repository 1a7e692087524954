import { EventEmitter } from 'node:events';
import { RoomMedia, type EndpointLimits, type WorkerPool } from '../../media/index.js';
import { CloseReason, ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { Logger } from '../logger.js';
import type { RoomOwnership } from '../cluster/room-ownership.js';
import { Room, type RoomOptions } from './room.js';

/** The rooms this node hosts. Concurrent first joins to one room create it once. */
export class RoomRegistry extends EventEmitter<{ roomcreated: [Room] }> {
  private readonly rooms = new Map<string, Room>();
  private readonly creating = new Map<string, Promise<Room>>();
  private closed = false;

  constructor(
    private readonly pool: WorkerPool,
    private readonly limits: EndpointLimits & { maxConsumersPerRouter: number },
    /** Options of a room, from its session (languages); unknown rooms (dev mode) get the defaults. */
    private readonly optionsFor: (roomId: string) => RoomOptions,
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

  async getOrCreate(roomId: string): Promise<Room> {
    const existing = this.rooms.get(roomId);
    if (existing && !existing.closed) return existing;
    const pending = this.creating.get(roomId);
    if (pending) return pending;
    const creation = this.create(roomId).finally(() => this.creating.delete(roomId));
    this.creating.set(roomId, creation);
    return creation;
  }

  closeAll(reason: CloseReason = CloseReason.SERVER_SHUTDOWN): void {
    this.closed = true;
    for (const room of [...this.rooms.values()]) room.close(reason);
  }

  private async create(roomId: string): Promise<Room> {
    if (this.closed) throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the server is shutting down');
    const worker = this.pool.leastLoaded();
    if (!worker) throw new ProtocolError(ErrorCode.UNAVAILABLE, 'no media worker is available; try again shortly');
    // Only the lease holder serves a room: two nodes never both do.
    await this.ownership?.ensure(roomId);
    const log = this.log.child({ room: roomId });
    const media = await RoomMedia.create(worker, this.limits, log, { maxConsumersPerRouter: this.limits.maxConsumersPerRouter, pool: this.pool });
    const room = new Room(roomId, media, this.optionsFor(roomId), log);
    this.rooms.set(roomId, room);
    room.once('close', () => {
      if (this.rooms.get(roomId) === room) this.rooms.delete(roomId);
      void this.ownership?.release(roomId);
    });
    log.info({ worker: worker.index }, 'room created');
    this.emit('roomcreated', room);
    return room;
  }
}

import { EventEmitter } from 'node:events';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { Logger } from '../logger.js';
import { CoordinatorUnavailableError, pickNode, type Coordinator, type RoomLease } from './coordinator.js';

export type RoomLocation = { local: true } | { local: false; url: string };

/**
 * Which node serves which room. A room belongs to the node holding its lease; a new room goes to the least
 * loaded live node. This node renews the leases it holds and gives up a room whose lease it lost (after a
 * pause or a partition), so two nodes never both serve one room.
 */
export class RoomOwnership extends EventEmitter<{ lost: [string] }> {
  private readonly leases = new Map<string, RoomLease>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly coordinator: Coordinator,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {
    super();
  }

  start(): void {
    this.timer = setInterval(() => void this.renewAll(), Math.max(100, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Where a client asking for this room should be served. Takes the lease when the room comes here. */
  async locate(roomId: string): Promise<RoomLocation> {
    try {
      if (this.leases.has(roomId)) return { local: true };
      for (let attempt = 0; attempt < 2; attempt++) {
        const owner = await this.coordinator.roomOwner(roomId);
        const nodes = await this.coordinator.liveNodes();
        if (owner && owner.nodeId !== this.coordinator.nodeId) {
          const node = nodes.find((n) => n.nodeId === owner.nodeId);
          // The owner stopped heartbeating but its lease still runs: the room moves once the lease expires.
          if (!node) throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the node serving this room is not answering; retry shortly');
          return { local: false, url: node.url };
        }
        if (!owner) {
          const target = pickNode(nodes);
          if (target && target.nodeId !== this.coordinator.nodeId) return { local: false, url: target.url };
        }
        const lease = await this.coordinator.acquireRoom(roomId, this.ttlMs);
        if (lease) {
          this.leases.set(roomId, lease);
          return { local: true };
        }
      }
      throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the room is moving between nodes; retry shortly');
    } catch (error) {
      if (error instanceof CoordinatorUnavailableError) throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the cluster store is unavailable; try again shortly');
      throw error;
    }
  }

  /** The lease of a room created here (taken by `locate`, or now). Throws when another node holds it. */
  async ensure(roomId: string): Promise<RoomLease> {
    const held = this.leases.get(roomId);
    if (held) return held;
    const located = await this.locate(roomId);
    if (!located.local) throw new ProtocolError(ErrorCode.ROOM_ELSEWHERE, 'this room is served by another node');
    return this.leases.get(roomId)!;
  }

  async release(roomId: string): Promise<void> {
    const lease = this.leases.get(roomId);
    this.leases.delete(roomId);
    if (lease) await this.coordinator.releaseRoom(lease).catch(() => undefined);
  }

  private async renewAll(): Promise<void> {
    for (const [roomId, lease] of [...this.leases]) {
      let kept: boolean;
      try {
        kept = await this.coordinator.renewRoom(lease, this.ttlMs);
      } catch {
        continue; // Redis away: keep serving; the lease may still be ours when it is back
      }
      if (!kept) {
        this.leases.delete(roomId);
        this.log.warn({ roomId, token: lease.token }, 'room lease lost; giving the room up');
        this.emit('lost', roomId);
      }
    }
  }
}

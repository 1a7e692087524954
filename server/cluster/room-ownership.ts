import { EventEmitter } from 'node:events';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { Logger } from '../logger.js';
import { forClient, pickNode, type Coordinator, type RoomLease } from './coordinator.js';

/** Where a connection is served: here as the owner, at another node, or here as an edge of the owner's room. */
export type RoomLocation = { kind: 'local' } | { kind: 'redirect'; url: string } | { kind: 'edge'; owner: RoomLease };

export interface CascadeOptions {
  /** Listeners the origin seats itself before it sends further listeners to edge nodes. */
  afterListeners: number;
  /** Listeners of a room on this node now. */
  localListeners: (roomId: string) => number;
  /** A draining node opens no new edges. */
  draining: () => boolean;
}

const CASCADING = 'cascading';
const LOCAL: RoomLocation = { kind: 'local' };

/**
 * Which node serves which room. A room belongs to the node holding its lease; a new room goes to the least
 * loaded live node. This node renews the leases it holds and gives up a room whose lease it lost (after a
 * pause or a partition), so two nodes never both serve one room. A large room cascades: once its origin
 * seats `afterListeners` listeners, further listeners go to edge nodes, which pipe the room in.
 */
export class RoomOwnership extends EventEmitter<{ lost: [string] }> {
  private readonly leases = new Map<string, RoomLease>();
  /** Admitted connections per room that keep its lease here (a room object may not exist yet). */
  private readonly holds = new Map<string, number>();
  /** Rooms with a room object on this node (created and not yet closed). */
  private readonly serving = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly coordinator: Coordinator,
    private readonly ttlMs: number,
    private readonly log: Logger,
    private readonly cascade?: CascadeOptions,
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

  /**
   * Where a client asking for this room should be served. Takes no lease: that waits until the connection
   * is admitted (`take`), so a refused connection leaves nothing behind.
   */
  locate(roomId: string, listener = false): Promise<RoomLocation> {
    return forClient(() => this.find(roomId, listener, false));
  }

  /**
   * For an admitted connection: takes (or keeps) the room's lease and holds it for that connection until
   * `unhold`. Answers a redirect instead when another node took the room meanwhile (nothing to undo then).
   */
  async take(roomId: string): Promise<RoomLocation> {
    // Counted before the lookup: another connection letting go meanwhile must not drop the lease this one
    // is about to hold. Undone unless the room turns out to be served here.
    this.holds.set(roomId, (this.holds.get(roomId) ?? 0) + 1);
    let location: RoomLocation;
    try {
      location = await forClient(() => this.find(roomId, false, true));
    } catch (error) {
      this.unhold(roomId);
      throw error;
    }
    if (location.kind !== 'local') this.unhold(roomId);
    return location;
  }

  /** A connection that held the room through `take` is gone (refused after all, left, closed). */
  unhold(roomId: string): void {
    const n = (this.holds.get(roomId) ?? 0) - 1;
    if (n > 0) {
      this.holds.set(roomId, n);
      return;
    }
    this.holds.delete(roomId);
    if (!this.serving.has(roomId)) void this.drop(roomId);
  }

  private async find(roomId: string, listener: boolean, take: boolean): Promise<RoomLocation> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const held = this.leases.get(roomId);
      const owner = await this.coordinator.roomOwner(roomId);
      if (held) {
        if (owner?.nodeId === held.nodeId && owner.token === held.token) return (listener && (await this.overflow(held))) || LOCAL;
        // This node was paused or cut off past its lease and has not noticed yet: give the room up now.
        this.giveUp(roomId, held);
      }
      const nodes = await this.coordinator.liveNodes();
      if (owner && owner.nodeId !== this.coordinator.nodeId) {
        const node = nodes.find((n) => n.nodeId === owner.nodeId);
        // The owner stopped heartbeating but its lease still runs: the room moves once the lease expires.
        if (!node) throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the node serving this room is not answering; retry shortly');
        if (listener && this.cascade && !this.cascade.draining() && (await this.coordinator.readRoomState(roomId, CASCADING)) === '1') {
          return { kind: 'edge', owner };
        }
        return { kind: 'redirect', url: node.url };
      }
      if (!owner) {
        const target = pickNode(nodes);
        if (target && target.nodeId !== this.coordinator.nodeId) return { kind: 'redirect', url: target.url };
      }
      // Only an admitted connection (or a room being created) takes the lease.
      if (!take) return LOCAL;
      const lease = await this.coordinator.acquireRoom(roomId, this.ttlMs);
      if (lease) this.leases.set(roomId, lease);
    }
    throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the room is moving between nodes; retry shortly');
  }

  /** The lease of a room created here (taken by `locate`, or now). Throws when another node holds it. */
  async ensure(roomId: string): Promise<RoomLease> {
    this.serving.add(roomId);
    const held = this.leases.get(roomId);
    if (held) return held;
    const located = await forClient(() => this.find(roomId, false, true));
    const lease = this.leases.get(roomId);
    if (located.kind !== 'local' || !lease) throw new ProtocolError(ErrorCode.ROOM_ELSEWHERE, 'this room is served by another node');
    return lease;
  }

  /** This node's lease on a room, while it holds one. */
  leaseOf(roomId: string): RoomLease | undefined {
    return this.leases.get(roomId);
  }

  /** The room object closed (or was never built): the lease goes unless admitted connections still hold it. */
  async release(roomId: string): Promise<void> {
    this.serving.delete(roomId);
    if ((this.holds.get(roomId) ?? 0) > 0) return;
    await this.drop(roomId);
  }

  private async drop(roomId: string): Promise<void> {
    const lease = this.leases.get(roomId);
    this.leases.delete(roomId);
    if (lease) await this.coordinator.releaseRoom(lease).catch(() => undefined);
  }

  /**
   * On the origin: once it seats enough listeners, marks the room as cascading (a fenced write, so a stale
   * owner cannot) and sends this listener to the least loaded other node, which will serve it as an edge.
   */
  private async overflow(lease: RoomLease): Promise<RoomLocation | undefined> {
    const c = this.cascade;
    if (!c || c.localListeners(lease.roomId) < c.afterListeners) return undefined;
    const target = pickNode((await this.coordinator.liveNodes()).filter((n) => n.nodeId !== this.coordinator.nodeId));
    if (!target) return undefined;
    if (!(await this.coordinator.writeRoomState(lease, CASCADING, '1'))) return undefined;
    return { kind: 'redirect', url: target.url };
  }

  private async renewAll(): Promise<void> {
    for (const [roomId, lease] of [...this.leases]) {
      let kept: boolean;
      try {
        kept = await this.coordinator.renewRoom(lease, this.ttlMs);
      } catch {
        continue; // Redis away: keep serving; the lease may still be ours when it is back
      }
      if (!kept && this.leases.get(roomId) === lease) this.giveUp(roomId, lease);
    }
  }

  private giveUp(roomId: string, lease: RoomLease): void {
    this.leases.delete(roomId);
    this.log.warn({ roomId, token: lease.token }, 'room lease lost; giving the room up');
    this.emit('lost', roomId);
  }
}

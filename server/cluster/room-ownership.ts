import { EventEmitter } from 'node:events';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { EdgeSeat } from '../cascade/edge-policy.js';
import type { Logger } from '../logger.js';
import { forClient, pickNode, type Coordinator, type RoomLease } from './coordinator.js';

/** Where a connection is served: here as the owner, at another node, or here as an edge of the owner's room. */
export type RoomLocation = { kind: 'local' } | { kind: 'redirect'; url: string } | { kind: 'edge'; owner: RoomLease };

export interface CascadeOptions {
  /** Listeners the origin seats itself before it sends further listeners to edge nodes. */
  afterListeners: number;
  /** Listeners of a room on this node now. */
  localListeners: (roomId: string) => number;
  /** Delegates (who speak on the floor, nothing more) the origin seats itself before further ones go to edge nodes. */
  afterDelegates: number;
  /** Delegates of a room on this node now (not those served by edges). */
  localDelegates: (roomId: string) => number;
  /** A draining node opens no new edges. */
  draining: () => boolean;
}

/**
 * How long a lease lasts and how early its holder gives it up. `now` is a monotonic clock in milliseconds
 * (never the wall clock: a clock step must not extend a lease); tests pass a fake one.
 */
export interface LeaseTiming {
  ttlMs: number;
  /** The node stops serving a room this long before its lease could expire in Redis. */
  safetyMarginMs: number;
  now?: () => number;
}

/** The default margin: a fifth of the lease, and at least a second unless the lease is under four seconds. */
export function defaultSafetyMarginMs(ttlMs: number): number {
  return Math.ceil(Math.max(ttlMs * 0.2, Math.min(1000, ttlMs / 4)));
}

/** Leases are renewed every third of their life, and not more often than every 100 ms. */
export function renewIntervalMs(ttlMs: number): number {
  return Math.max(100, Math.floor(ttlMs / 3));
}

/**
 * Why this timing cannot work, or undefined. The margin must leave the node at least half the lease to
 * serve, and at least one renewal must go out before a lease confirmed by the previous one runs out.
 */
export function leaseTimingProblem(ttlMs: number, safetyMarginMs: number): string | undefined {
  if (!(safetyMarginMs > 0)) return 'the lease safety margin must be positive';
  if (safetyMarginMs * 2 >= ttlMs) return `the lease safety margin (${safetyMarginMs} ms) must be under half the lease (${ttlMs} ms)`;
  const renew = renewIntervalMs(ttlMs);
  if (renew >= ttlMs - safetyMarginMs) return `leases are renewed every ${renew} ms, which leaves no time to renew before the lease time minus the margin (${ttlMs - safetyMarginMs} ms)`;
  return undefined;
}

/** A lease held here, and when the last request that confirmed it was sent (monotonic ms). */
interface Held {
  lease: RoomLease;
  sentAt: number;
  fence: NodeJS.Timeout | undefined;
}

/** Room state keys: the room sends listeners, or delegates, to edge nodes. */
const CASCADING: Record<Exclude<EdgeSeat, null>, string> = { listener: 'cascading', delegate: 'cascading-delegates' };
const LOCAL: RoomLocation = { kind: 'local' };
const monotonic = (): number => performance.now();

/**
 * Which node serves which room. A room belongs to the node holding its lease; a new room goes to the least
 * loaded live node. This node renews the leases it holds and gives up a room whose lease it lost, so two
 * nodes never both serve one room. A large room cascades: once its origin seats `afterListeners`
 * listeners, further listeners go to edge nodes, which pipe the room in.
 *
 * Self-fencing: Redis keeps a lease at least `ttl` after it received the request that set it, so a lease is
 * ours until (the time that request was SENT) + ttl, by our monotonic clock. A room whose lease has not been
 * confirmed by sentAt + ttl - margin is given up (`lost`: the room is closed, its media stops) by a timer
 * of its own, whatever Redis does meanwhile: a renewal that hangs or fails cannot delay it. The margin
 * covers the timer's lateness and the drift between our clock and Redis' (docs/ARCHITECTURE.md).
 */
export class RoomOwnership extends EventEmitter<{ lost: [string] }> {
  private readonly leases = new Map<string, Held>();
  /** Admitted connections per room that keep its lease here (a room object may not exist yet). */
  private readonly holds = new Map<string, number>();
  /** Rooms with a room object on this node (created and not yet closed). */
  private readonly serving = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly ttlMs: number;
  private readonly marginMs: number;
  private readonly now: () => number;

  constructor(
    private readonly coordinator: Coordinator,
    timing: LeaseTiming,
    private readonly log: Logger,
    private readonly cascade?: CascadeOptions,
  ) {
    super();
    const problem = leaseTimingProblem(timing.ttlMs, timing.safetyMarginMs);
    if (problem) throw new Error(problem);
    this.ttlMs = timing.ttlMs;
    this.marginMs = timing.safetyMarginMs;
    this.now = timing.now ?? monotonic;
  }

  start(): void {
    this.timer = setInterval(() => this.renewAll(), renewIntervalMs(this.ttlMs));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    for (const held of this.leases.values()) clearTimeout(held.fence);
  }

  /**
   * Where a client asking for this room should be served. Takes no lease: that waits until the connection
   * is admitted (`take`), so a refused connection leaves nothing behind.
   */
  locate(roomId: string, seat: EdgeSeat = null): Promise<RoomLocation> {
    return forClient(() => this.find(roomId, seat, false));
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
      location = await forClient(() => this.find(roomId, null, true));
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

  private async find(roomId: string, seat: EdgeSeat, take: boolean): Promise<RoomLocation> {
    for (let attempt = 0; attempt < 3; attempt++) {
      // leaseOf first: a lease past its deadline on the clock is given up here, not trusted.
      const held = this.leaseOf(roomId) && this.leases.get(roomId);
      const owner = await this.coordinator.roomOwner(roomId);
      if (held && this.leases.get(roomId) === held) {
        const lease = held.lease;
        if (owner?.nodeId === lease.nodeId && owner.token === lease.token) return (seat && (await this.overflow(lease, seat))) || LOCAL;
        // Redis says another node (or nobody) holds the room: this node missed it; give the room up now.
        this.giveUp(roomId, held);
      }
      const nodes = await this.coordinator.liveNodes();
      if (owner && owner.nodeId !== this.coordinator.nodeId) {
        const node = nodes.find((n) => n.nodeId === owner.nodeId);
        // The owner stopped heartbeating but its lease still runs: the room moves once the lease expires.
        if (!node) throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the node serving this room is not answering; retry shortly');
        if (seat && this.cascade && !this.cascade.draining() && (await this.coordinator.readRoomState(roomId, CASCADING[seat])) === '1') {
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
      const sentAt = this.now();
      const lease = await this.coordinator.acquireRoom(roomId, this.ttlMs);
      if (lease) this.confirmed(lease, sentAt);
    }
    throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the room is moving between nodes; retry shortly');
  }

  /** The lease of a room created here (taken by `locate`, or now). Throws when another node holds it. */
  async ensure(roomId: string): Promise<RoomLease> {
    this.serving.add(roomId);
    const held = this.leaseOf(roomId);
    if (held) return held;
    const located = await forClient(() => this.find(roomId, null, true));
    const lease = this.leaseOf(roomId);
    if (located.kind !== 'local' || !lease) throw new ProtocolError(ErrorCode.ROOM_ELSEWHERE, 'this room is served by another node');
    return lease;
  }

  /**
   * This node's lease on a room, while it holds one that is confirmed on the clock. Checked here too, not
   * only by the fence timer: after a pause, I/O may run before the timer that is already late.
   */
  leaseOf(roomId: string): RoomLease | undefined {
    const held = this.leases.get(roomId);
    if (!held) return undefined;
    if (this.now() < this.deadline(held)) return held.lease;
    // Said on the next tick: the caller (a write about to be made) must not see the room close under it.
    this.giveUp(roomId, held, true);
    return undefined;
  }

  /** The room object closed (or was never built): the lease goes unless admitted connections still hold it. */
  async release(roomId: string): Promise<void> {
    this.serving.delete(roomId);
    if ((this.holds.get(roomId) ?? 0) > 0) return;
    await this.drop(roomId);
  }

  private async drop(roomId: string): Promise<void> {
    const held = this.leases.get(roomId);
    if (!held) return;
    this.forget(roomId, held);
    await this.coordinator.releaseRoom(held.lease).catch(() => undefined);
  }

  /**
   * On the origin: once it seats enough listeners (or delegates), marks the room as cascading them (a fenced
   * write, so a stale owner cannot) and sends this one to the least loaded other node, which will serve it
   * as an edge.
   */
  private async overflow(lease: RoomLease, seat: Exclude<EdgeSeat, null>): Promise<RoomLocation | undefined> {
    const c = this.cascade;
    if (!c) return undefined;
    const full = seat === 'listener' ? c.localListeners(lease.roomId) >= c.afterListeners : c.localDelegates(lease.roomId) >= c.afterDelegates;
    if (!full) return undefined;
    const target = pickNode((await this.coordinator.liveNodes()).filter((n) => n.nodeId !== this.coordinator.nodeId));
    if (!target) return undefined;
    if (!(await this.coordinator.writeRoomState(lease, CASCADING[seat], '1'))) return undefined;
    return { kind: 'redirect', url: target.url };
  }

  /**
   * Sends one renewal per lease, all at once and without waiting for earlier ones: a renewal that hangs
   * must not hold back the others, and the fence timers do not wait for any of them.
   */
  private renewAll(): void {
    for (const [roomId, held] of this.leases) void this.renew(roomId, held);
  }

  private async renew(roomId: string, held: Held): Promise<void> {
    const sentAt = this.now();
    let kept: boolean;
    try {
      kept = await this.coordinator.renewRoom(held.lease, this.ttlMs);
    } catch (error) {
      // Redis away: keep serving until the fence timer says otherwise; a later renewal may still confirm.
      this.log.debug({ roomId, err: (error as Error).message }, 'lease renewal failed');
      return;
    }
    if (this.leases.get(roomId) !== held) return; // given up or released meanwhile
    if (kept) this.confirmed(held.lease, sentAt);
    else this.giveUp(roomId, held);
  }

  /** Redis set the lease for ttl from a moment after `sentAt`: it is ours until sentAt + ttl at least. */
  private confirmed(lease: RoomLease, sentAt: number): void {
    let held = this.leases.get(lease.roomId);
    if (!held || held.lease.token !== lease.token) {
      if (held) this.forget(lease.roomId, held);
      held = { lease, sentAt, fence: undefined };
      this.leases.set(lease.roomId, held);
    } else if (sentAt <= held.sentAt) {
      return; // an answer to an older request than one already confirmed
    } else {
      held.sentAt = sentAt;
    }
    clearTimeout(held.fence);
    const current = held;
    held.fence = setTimeout(() => {
      if (this.leases.get(lease.roomId) === current) this.giveUp(lease.roomId, current);
    }, Math.max(0, this.deadline(held) - this.now()));
    held.fence.unref();
  }

  /** When this node stops serving the room unless a renewal sent after `sentAt` is confirmed first. */
  private deadline(held: Held): number {
    return held.sentAt + this.ttlMs - this.marginMs;
  }

  private forget(roomId: string, held: Held): void {
    clearTimeout(held.fence);
    if (this.leases.get(roomId) === held) this.leases.delete(roomId);
  }

  /**
   * The database refused a write of this node for the room (a newer owner has written): stop serving it and
   * drop the lease, so nothing of this node's is renewed or written for the room again.
   */
  forfeit(roomId: string): void {
    const held = this.leases.get(roomId);
    if (held) this.giveUp(roomId, held);
    else this.emit('lost', roomId);
  }

  private giveUp(roomId: string, held: Held, later = false): void {
    this.forget(roomId, held);
    this.log.warn({ roomId, token: held.lease.token }, 'room lease lost or not confirmed in time; giving the room up');
    if (later) process.nextTick(() => this.emit('lost', roomId));
    else this.emit('lost', roomId);
  }
}

import type { Coordinator, NodeStats, RoomLease } from './coordinator.js';

/** The coordinator of a single node: the same rules, kept in this process. */
export class LocalCoordinator implements Coordinator {
  private stats: NodeStats | undefined;
  private readonly leases = new Map<string, { lease: RoomLease; expiresAt: number }>();
  private readonly fences = new Map<string, number>();
  private readonly state = new Map<string, string>();
  private readonly jtis = new Map<string, number>();
  /** Removals: room + person -> until when (ms). */
  private readonly removals = new Map<string, number>();
  private tokens = 0;

  constructor(
    readonly nodeId: string,
    private readonly staleAfterMs = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  async ready(): Promise<void> {}

  async heartbeat(stats: Omit<NodeStats, 'nodeId' | 'updatedAt'>): Promise<void> {
    this.stats = { ...stats, nodeId: this.nodeId, updatedAt: this.now() };
  }

  async liveNodes(): Promise<NodeStats[]> {
    return this.stats && this.now() - this.stats.updatedAt < this.staleAfterMs ? [this.stats] : [];
  }

  async acquireRoom(roomId: string, ttlMs: number): Promise<RoomLease | null> {
    const held = this.leases.get(roomId);
    if (held && held.expiresAt > this.now() && held.lease.nodeId !== this.nodeId) return null;
    const renewing = held && held.expiresAt > this.now();
    // Fences outlive this process (the database keeps them): a token is at least the clock in ms, so a
    // restarted node's tokens are above its previous life's, as with Redis' ACQUIRE.
    const lease = renewing ? held.lease : { roomId, nodeId: this.nodeId, token: (this.tokens = Math.max(this.tokens + 1, Math.floor(this.now()))) };
    if (!renewing) this.fences.set(roomId, lease.token);
    this.leases.set(roomId, { lease, expiresAt: this.now() + ttlMs });
    return lease;
  }

  async renewRoom(lease: RoomLease, ttlMs: number): Promise<boolean> {
    const held = this.leases.get(lease.roomId);
    const live = held && held.expiresAt > this.now();
    if (live && held.lease.token !== lease.token) return false;
    // A lapsed lease comes back only if nobody took the room since (the same rule as Redis).
    if (!live && lease.token < (this.fences.get(lease.roomId) ?? 0)) return false;
    this.leases.set(lease.roomId, { lease, expiresAt: this.now() + ttlMs });
    return true;
  }

  async releaseRoom(lease: RoomLease): Promise<void> {
    if (this.leases.get(lease.roomId)?.lease.token === lease.token) this.leases.delete(lease.roomId);
  }

  async roomOwner(roomId: string): Promise<RoomLease | null> {
    const held = this.leases.get(roomId);
    return held && held.expiresAt > this.now() ? held.lease : null;
  }

  async writeRoomState(lease: RoomLease, key: string, value: string): Promise<boolean> {
    if (lease.token < (this.fences.get(lease.roomId) ?? 0)) return false;
    this.fences.set(lease.roomId, lease.token);
    this.state.set(`${lease.roomId}\u0000${key}`, value);
    return true;
  }

  async readRoomState(roomId: string, key: string): Promise<string | null> {
    return this.state.get(`${roomId}\u0000${key}`) ?? null;
  }

  async claimJti(jti: string, expiresAtSeconds: number): Promise<boolean> {
    const now = this.now();
    if (this.jtis.size > 10_000) for (const [k, exp] of this.jtis) if (exp * 1000 < now) this.jtis.delete(k);
    if (this.jtis.has(jti)) return false;
    this.jtis.set(jti, expiresAtSeconds);
    return true;
  }

  async recordRemoval(roomId: string, personId: string, ttlMs: number): Promise<void> {
    const now = this.now();
    if (this.removals.size > 10_000) for (const [k, until] of this.removals) if (until < now) this.removals.delete(k);
    this.removals.set(`${roomId}\u0000${personId}`, now + ttlMs);
  }

  async isRemoved(roomId: string, personId: string): Promise<boolean> {
    return (this.removals.get(`${roomId}\u0000${personId}`) ?? 0) > this.now();
  }

  async clearRemoval(roomId: string, personId: string): Promise<void> {
    this.removals.delete(`${roomId}\u0000${personId}`);
  }

  async close(): Promise<void> {}
}

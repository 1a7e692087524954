/**
 * Refuses a token before the costly part of a handshake (a resume asks the registry afresh and writes an
 * audit line) when the token is already being used on this node, or this node saw it spent or refused.
 * The cluster-wide single-use claim stays the authority; this only stops a replayed or parallel token
 * from making the registry and the audit trail work for every attempt.
 */
export class TokenUseGuard {
  private readonly inFlight = new Set<string>();
  /** jti -> expiry (seconds); insertion order is age order. */
  private readonly spent = new Map<string, number>();

  constructor(
    private readonly maxRemembered = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts a handshake with this jti: false if one is under way here, or it was spent or refused here. */
  begin(jti: string): boolean {
    if (this.inFlight.has(jti)) return false;
    const expiresAt = this.spent.get(jti);
    if (expiresAt !== undefined) {
      if (expiresAt * 1000 > this.now()) return false;
      this.spent.delete(jti);
    }
    this.inFlight.add(jti);
    return true;
  }

  inHandshake(jti: string): boolean {
    return this.inFlight.has(jti);
  }

  end(jti: string): void {
    this.inFlight.delete(jti);
  }

  /** This token opened a connection, or was refused for good: later attempts stop at `begin`. */
  markSpent(jti: string, expiresAt: number): void {
    this.spent.delete(jti);
    this.spent.set(jti, expiresAt);
    // Bounded: past the limit the oldest is forgotten (the cluster-wide claim still refuses it, at a cost).
    for (const oldest of this.spent.keys()) {
      if (this.spent.size <= this.maxRemembered) break;
      this.spent.delete(oldest);
    }
  }
}

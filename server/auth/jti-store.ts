/** Remembers join token ids already used by a connection, until the token would have expired anyway. */
export interface JtiStore {
  /** True the first time a jti is claimed; false for every later claim before `expiresAt` (seconds). */
  claim(jti: string, expiresAt: number): Promise<boolean>;
}

/** One node's memory. A cluster needs a shared store (Redis SET NX EX), which the scale-out work adds. */
export class LocalJtiStore implements JtiStore {
  private readonly used = new Map<string, number>();
  private lastSweep = Date.now();

  async claim(jti: string, expiresAt: number): Promise<boolean> {
    const now = Date.now();
    if (now - this.lastSweep > 60_000) {
      for (const [k, exp] of this.used) if (exp * 1000 < now) this.used.delete(k);
      this.lastSweep = now;
    }
    if (this.used.has(jti)) return false;
    this.used.set(jti, expiresAt);
    return true;
  }
}

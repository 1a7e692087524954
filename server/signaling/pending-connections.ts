/**
 * Connections not admitted yet (no valid token seen on them), counted per client address: one address may
 * hold only so many at once, so it cannot park thousands of sockets on the server before authenticating.
 * A connection stops counting once admitted or closed. `maxPerAddress` 0 turns the limit off (behind a
 * reverse proxy every client shares the proxy's address).
 */
export class PendingConnections {
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly maxPerAddress: number) {}

  /** Whether another connection from this address may start its handshake now. */
  allows(address: string): boolean {
    return this.maxPerAddress === 0 || (this.byAddress.get(address) ?? 0) < this.maxPerAddress;
  }

  /** Counts a new connection; answers how to stop counting it (idempotent), or undefined past the limit. */
  enter(address: string): (() => void) | undefined {
    if (!this.allows(address)) return undefined;
    this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1);
    let counted = true;
    return () => {
      if (!counted) return;
      counted = false;
      const left = (this.byAddress.get(address) ?? 1) - 1;
      if (left > 0) this.byAddress.set(address, left);
      else this.byAddress.delete(address);
    };
  }
}

interface SessionAttempts {
  /** Monotonic times of the wrong PINs still within the window, oldest first. */
  failures: number[];
  /** Checks begun and not yet ended: each might be a wrong PIN. */
  pending: number;
}

/**
 * Wrong dial-in PINs per session within a sliding window, across every call to that session (on top of the
 * IVR's tries per call). A check is reserved before the PIN is looked up and counts against the limit while
 * it runs, so parallel calls cannot overshoot it: once wrong PINs and checks under way reach `maxFailures`,
 * PINs for the session are refused unchecked until the oldest failure leaves the window. Kept in this node's
 * memory; at most `maxFailures` entries per session, and only sessions that exist are counted.
 */
export class PinAttemptLimiter {
  private readonly sessions = new Map<string, SessionAttempts>();

  constructor(
    readonly maxFailures: number,
    readonly windowMs: number,
    /** Monotonic milliseconds: a wall-clock step must not open or close the window. */
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!Number.isInteger(maxFailures) || maxFailures < 1) throw new RangeError('maxFailures must be a positive integer');
    if (!(windowMs > 0)) throw new RangeError('windowMs must be positive');
  }

  /** Reserves one PIN check for the session; false (nothing reserved) when the limit is reached. */
  begin(sessionId: string): boolean {
    const s = this.current(sessionId);
    if (s.failures.length + s.pending >= this.maxFailures) return false;
    s.pending += 1;
    this.sessions.set(sessionId, s);
    return true;
  }

  /** Ends a check `begin` reserved; a wrong PIN counts within the window. */
  end(sessionId: string, wrong: boolean): void {
    const s = this.current(sessionId);
    s.pending = Math.max(0, s.pending - 1);
    if (wrong) s.failures.push(this.now());
    if (s.failures.length === 0 && s.pending === 0) this.sessions.delete(sessionId);
    else this.sessions.set(sessionId, s);
  }

  /** Wrong PINs for the session within the window. */
  failures(sessionId: string): number {
    return this.current(sessionId).failures.length;
  }

  /** The session's entry with failures older than the window dropped. */
  private current(sessionId: string): SessionAttempts {
    const s = this.sessions.get(sessionId) ?? { failures: [], pending: 0 };
    const since = this.now() - this.windowMs;
    while (s.failures.length > 0 && s.failures[0]! <= since) s.failures.shift();
    if (s.failures.length === 0 && s.pending === 0) this.sessions.delete(sessionId);
    return s;
  }
}

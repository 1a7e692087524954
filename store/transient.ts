import { setTimeout as delay } from 'node:timers/promises';

/**
 * Errors after which the same write may simply be tried again: the database was unreachable, restarting,
 * failing over to a standby, or refused a serialisation. Anything else (a constraint, a stale owner) is an
 * answer, not an outage.
 */
export function isTransient(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | undefined;
  const code = e?.code ?? '';
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  // SQLSTATE classes 08 (connection), 57P0x (shutdown, crash, cannot connect now), 40001/40P01 (retry).
  if (/^08/.test(code) || /^57P0/.test(code) || code === '40001' || code === '40P01' || code === '53300') return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(e?.message ?? '');
}

export interface RetryOptions {
  /** Give up after this long (the error is thrown then). */
  deadlineMs: number;
  /** First pause; doubles up to 2 s. */
  backoffMs?: number;
  /** Told of each failed attempt (logging). */
  onRetry?: (error: unknown, attempt: number) => void;
}

/** Runs `write` until it succeeds, fails with a non-transient error, or the deadline passes. */
export async function retryTransient<T>(write: () => Promise<T>, options: RetryOptions): Promise<T> {
  const giveUpAt = performance.now() + options.deadlineMs;
  let pause = options.backoffMs ?? 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!isTransient(error) || performance.now() + pause > giveUpAt) throw error;
      options.onRetry?.(error, attempt);
      await delay(pause);
      pause = Math.min(pause * 2, 2000);
    }
  }
}

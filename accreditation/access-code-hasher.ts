import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { ConcurrencyLimit } from './concurrency-limit.js';

/** Too many sign-ins or imports are already waiting for a hash; the caller should answer "try again". */
export class HasherBusyError extends Error {
  constructor() {
    super('too many access-code checks are waiting; try again shortly');
    this.name = 'HasherBusyError';
  }
}

const KEY_LENGTH = 32;
// scrypt's defaults (N=16384, r=8, p=1): 16 MiB and tens of milliseconds per hash; the cap bounds both.
const DUMMY = `${'00'.repeat(16)}:${'00'.repeat(KEY_LENGTH)}`;

function scryptAsync(code: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(code, salt, KEY_LENGTH, (error, key) => (error ? reject(error) : resolve(key))));
}

/**
 * Hashes and checks access codes with scrypt off the event loop (libuv's thread pool), at most
 * `maxConcurrent` at a time, with at most `maxQueued` waiting. Every check costs one hash, whether or not a
 * stored hash exists, so an unknown e-mail takes as long as a wrong code.
 */
export class AccessCodeHasher {
  private readonly limit: ConcurrencyLimit;

  constructor(
    /** Hashes run at once; bulk callers (imports) keep at most this many of theirs in flight. */
    readonly maxConcurrent: number,
    maxQueued = 1000,
  ) {
    this.limit = new ConcurrencyLimit(maxConcurrent, maxQueued, () => new HasherBusyError());
  }

  /** Hashes running now and waiting for a slot. */
  get load(): { active: number; waiting: number } {
    return this.limit.load;
  }

  /** `salt:hash` in hex, the format of the data files. */
  async hash(code: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await this.limit.run(() => scryptAsync(code, salt));
    return `${salt.toString('hex')}:${key.toString('hex')}`;
  }

  /** Whether `code` matches `stored`; without a stored hash, the same work is spent and the answer is false. */
  async verify(code: string, stored: string | undefined): Promise<boolean> {
    const [saltHex, hashHex] = (stored && /^[0-9a-f]{32}:[0-9a-f]{64}$/.test(stored) ? stored : DUMMY).split(':') as [string, string];
    const candidate = await this.limit.run(() => scryptAsync(code, Buffer.from(saltHex, 'hex')));
    return timingSafeEqual(candidate, Buffer.from(hashHex, 'hex')) && stored !== undefined;
  }
}

// The dial-in side of accreditation, put together from configuration: the PIN store (its hashing secret
// from the environment, derived from the cluster's, or a key file in the data directory) and the limit on
// wrong PINs per session.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../../store/open-store.js';
import { DialInPinStore } from './dial-in-pin-store.js';
import { PinAttemptLimiter } from './pin-attempt-limiter.js';
import { DialInPinHasher } from './pin-hasher.js';

export interface DialInPinSettings {
  /** PLENUM_DIAL_IN_PIN_SECRET, or one derived from the cluster secret; undefined: a key file in the data directory. */
  secret?: string;
  /** Digits of a new PIN. */
  length: number;
  /** Wrong PINs per session within `failureWindowMs` before PINs for it are refused unchecked. */
  maxFailures: number;
  failureWindowMs: number;
}

/** What AccreditationService needs to admit callers. */
export interface DialInAccess {
  pins: DialInPinStore;
  attempts: PinAttemptLimiter;
}

export const DIAL_IN_SECRET_FILE = 'dial-in-pin.secret';

export async function openDialInAccess(db: Db, settings: DialInPinSettings, dataDir: string): Promise<DialInAccess> {
  const secret = settings.secret ?? (await localSecret(dataDir));
  return {
    pins: new DialInPinStore(db, new DialInPinHasher(secret), settings.length),
    attempts: new PinAttemptLimiter(settings.maxFailures, settings.failureWindowMs),
  };
}

/**
 * A node with neither PLENUM_DIAL_IN_PIN_SECRET nor a cluster secret keeps a generated one in its data
 * directory (its own user only), so PINs issued before a restart still work. Losing the file voids every PIN.
 */
async function localSecret(dataDir: string): Promise<string> {
  const file = join(dataDir, DIAL_IN_SECRET_FILE);
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored.length >= 32) return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  try {
    // 'wx': of two processes starting at once, the second reads the first one's.
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return (await readFile(file, 'utf8')).trim();
  }
}

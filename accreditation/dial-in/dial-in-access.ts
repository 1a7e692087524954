// The dial-in side of accreditation, put together from configuration: the PIN store (its hashing secret
// from the environment, derived from the cluster's, or a key file in the data directory) and the limit on
// wrong PINs per session.
import { localSecretFile } from '../../store/local-secret-file.js';
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
  // Neither PLENUM_DIAL_IN_PIN_SECRET nor a cluster secret: PINs issued before a restart must still work.
  const secret = settings.secret ?? (await localSecretFile(dataDir, DIAL_IN_SECRET_FILE));
  return {
    pins: new DialInPinStore(db, new DialInPinHasher(secret), settings.length),
    attempts: new PinAttemptLimiter(settings.maxFailures, settings.failureWindowMs),
  };
}

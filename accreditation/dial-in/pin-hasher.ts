// Dial-in PINs are looked up by a keyed hash: HMAC-SHA256 under a key derived (HKDF) from a server secret,
// over the event and the PIN. The database never holds a PIN, and without the secret its rows cannot be
// brute-forced offline (a PIN has only 10^6–10^12 values). Bound to the event, so one PIN in two events gives
// two unrelated hashes.
import { createHmac, hkdfSync, randomInt } from 'node:crypto';

export const PIN_MIN_LENGTH = 6;
export const PIN_MAX_LENGTH = 12;
/** What a keyed PIN may look like; anything else is a wrong PIN without a lookup. */
export const PIN_PATTERN = /^\d{6,12}$/;

export class DialInPinHasher {
  private readonly key: Buffer;

  constructor(secret: string) {
    if (secret.length < 32) throw new Error('the dial-in PIN secret must be at least 32 characters');
    // Its own key, whatever the secret is also used for (a secret derived from the cluster's, say).
    this.key = Buffer.from(hkdfSync('sha256', secret, 'plenum-dial-in-pin', 'pin-lookup', 32));
  }

  /** The hash stored for `pin` in `eventId` (64 hex characters). */
  digest(eventId: string, pin: string): string {
    return createHmac('sha256', this.key).update(eventId).update('\u0000').update(pin).digest('hex');
  }
}

/** A fresh PIN of `length` digits, uniformly drawn from the operating system's random source. */
export function generatePin(length: number): string {
  if (!Number.isInteger(length) || length < PIN_MIN_LENGTH || length > PIN_MAX_LENGTH) throw new RangeError(`a PIN has ${PIN_MIN_LENGTH} to ${PIN_MAX_LENGTH} digits`);
  // 10^12 is below randomInt's 2^48 range; leading zeros are digits like any other.
  return randomInt(0, 10 ** length).toString().padStart(length, '0');
}

import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { BoothSignalKind } from '../../protocol/signaling.js';

/** At most one signal of a kind per booth in this long: a second press by the partner adds nothing, a stuck key floods nobody. */
export const BOOTH_SIGNAL_INTERVAL_MS = 5_000;

/**
 * The booths' "slow down" and "repeat" lamps, as on conference hardware: each booth and kind lights at
 * most once per interval, whichever of the booth's interpreters presses it.
 */
export class BoothSignalLimiter {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly intervalMs = BOOTH_SIGNAL_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a signal, or refuses it (RATE_LIMITED) while the booth's previous one of the same kind is recent. */
  take(language: string, kind: BoothSignalKind): void {
    const key = `${language}\u0000${kind}`;
    const at = this.now();
    const previous = this.last.get(key);
    if (previous !== undefined && at - previous < this.intervalMs) {
      const wait = Math.ceil((this.intervalMs - (at - previous)) / 1000);
      throw new ProtocolError(ErrorCode.RATE_LIMITED, `the ${language} booth sent this signal a moment ago; try again in ${wait} s`);
    }
    this.last.set(key, at);
  }
}

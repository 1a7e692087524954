import { SAMPLES_PER_MS } from './opus-packet.js';
import type { SenderReport } from './rtcp-sender-report.js';

/** A sender report moves a source's place on the session clock only if it disagrees by more than this. */
const REALIGN_SAMPLES = 10 * SAMPLES_PER_MS;

/**
 * Where one RTP source's packets lie on the session clock (48 kHz samples since the recording's origin).
 * Until the source's first RTCP sender report, by arrival time; from then on by the report, which says
 * which RTP timestamp the sender's clock (this host's monotonic clock, for mediasoup) showed at one instant:
 * every channel of the session is then placed by the same clock, whatever delays the packets met on the way.
 */
export class SourceClock {
  /** position = extended RTP timestamp + offset. */
  private offset: number | undefined;
  private extended: number | undefined;
  private aligned = false;

  constructor(
    /** The session clock's origin, in monotonic ms. */
    private readonly originMs: number,
  ) {}

  /** True once a sender report placed this source. */
  get byReport(): boolean {
    return this.aligned;
  }

  position(timestamp: number, arrivalMs: number): number {
    const ext = this.extend(timestamp);
    this.offset ??= Math.round((arrivalMs - this.originMs) * SAMPLES_PER_MS) - ext;
    return ext + this.offset;
  }

  report(sr: SenderReport): void {
    if (this.aligned) return;
    const ext = this.extend(sr.rtpTimestamp, false);
    const offset = Math.round((sr.ntpMs - this.originMs) * SAMPLES_PER_MS) - ext;
    if (this.offset === undefined || Math.abs(offset - this.offset) > REALIGN_SAMPLES) this.offset = offset;
    this.aligned = true;
  }

  /** The 32-bit timestamp unwrapped next to the latest one seen (RTP timestamps wrap every ~25 h at 48 kHz). */
  private extend(timestamp: number, advance = true): number {
    if (this.extended === undefined) {
      if (advance) this.extended = timestamp;
      return timestamp;
    }
    const last = this.extended;
    let delta = timestamp - (last % 2 ** 32);
    if (delta > 2 ** 31) delta -= 2 ** 32;
    else if (delta < -(2 ** 31)) delta += 2 ** 32;
    const ext = last + delta;
    if (advance && ext > last) this.extended = ext;
    return ext;
  }
}

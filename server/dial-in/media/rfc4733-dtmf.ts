// RFC 4733 telephone-events: a key press is one event, identified by the RTP timestamp of its start. The
// sender repeats it while the key is held (growing duration), then sends the end packet (E bit) three
// times; the network may duplicate any of them. A digit is reported once, when its event ends.

/** Event codes 0-15 (RFC 4733 §3.2); other events (flash, tones) are not digits and are ignored. */
const DIGITS = '0123456789*#ABCD';
const PAYLOAD_BYTES = 4;
/** Ended events remembered to drop their late copies; an event's copies arrive within milliseconds. */
const REMEMBERED_ENDS = 32;

export interface TelephoneEventPayload {
  event: number;
  end: boolean;
  volume: number;
  /** In RTP timestamp units since the event's start. */
  duration: number;
}

export interface DtmfDigit {
  digit: string;
  /** How long the key was held, in ms (as far as seen when its end packets were lost). */
  durationMs: number;
  /** The event's RTP timestamp (its identity). */
  timestamp: number;
}

/** The 4-byte telephone-event payload, or undefined when it is not one (strict: exactly one event). */
export function parseTelephoneEvent(payload: Buffer): TelephoneEventPayload | undefined {
  if (payload.length !== PAYLOAD_BYTES) return undefined;
  return {
    event: payload[0]!,
    end: (payload[1]! & 0x80) !== 0,
    volume: payload[1]! & 0x3f,
    duration: payload.readUInt16BE(2),
  };
}

/** Builds a telephone-event payload (for tests and for sending digits). */
export function telephoneEventPayload(e: { event: number; end: boolean; volume?: number; duration: number }): Buffer {
  const payload = Buffer.alloc(PAYLOAD_BYTES);
  payload[0] = e.event & 0xff;
  payload[1] = (e.end ? 0x80 : 0) | ((e.volume ?? 10) & 0x3f);
  payload.writeUInt16BE(e.duration & 0xffff, 2);
  return payload;
}

/**
 * Turns a stream of telephone-event packets into digits, once per event. An event whose end packets were
 * all lost is reported when the next event starts, or by `flush()` (the caller's timer).
 */
export class DtmfDecoder {
  private current: { timestamp: number; event: number; duration: number } | undefined;
  private readonly ended: number[] = [];

  /** `clockRate`: the telephone-event's RTP clock (8000 unless negotiated otherwise). */
  constructor(private readonly clockRate = 8000) {}

  /** One telephone-event RTP packet (its timestamp and payload); returns the digits it completes. */
  push(timestamp: number, payload: Buffer): DtmfDigit[] {
    const parsed = parseTelephoneEvent(payload);
    if (!parsed || parsed.event >= DIGITS.length) return [];
    const ts = timestamp >>> 0;
    if (this.ended.includes(ts)) return [];
    const out: DtmfDigit[] = [];
    if (this.current && this.current.timestamp !== ts) {
      const lost = this.flush();
      if (lost) out.push(lost);
    }
    if (!this.current) this.current = { timestamp: ts, event: parsed.event, duration: 0 };
    // A key's event number cannot change within one event: a packet that says so is not trusted.
    if (parsed.event !== this.current.event) return out;
    this.current.duration = Math.max(this.current.duration, parsed.duration);
    if (parsed.end) {
      out.push(this.finish());
    }
    return out;
  }

  /** Reports the event in progress (its end packets lost), if any. */
  flush(): DtmfDigit | undefined {
    return this.current ? this.finish() : undefined;
  }

  private finish(): DtmfDigit {
    const current = this.current!;
    this.current = undefined;
    this.ended.push(current.timestamp);
    if (this.ended.length > REMEMBERED_ENDS) this.ended.shift();
    return {
      digit: DIGITS[current.event]!,
      durationMs: Math.round((current.duration * 1000) / this.clockRate),
      timestamp: current.timestamp,
    };
  }
}

// Cuts a SIP byte stream (TCP) into messages by Content-Length (RFC 3261 §18.3), with a bounded buffer.

export type FramerOutput =
  | { kind: 'message'; data: Buffer }
  /** A CRLF keep-alive ping (RFC 5626 §4.4.1): answered with a single CRLF. */
  | { kind: 'ping' }
  | { kind: 'error'; detail: string };

export class SipStreamFramer {
  private buffer: Buffer = Buffer.alloc(0);
  private failed = false;

  constructor(private readonly maxMessageBytes: number) {}

  /** Appends bytes and returns what became complete. After an error the stream is unusable (close it). */
  push(chunk: Buffer): FramerOutput[] {
    if (this.failed) return [];
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: FramerOutput[] = [];
    for (;;) {
      // Leading CRLFs between messages are keep-alives.
      if (this.buffer.length >= 4 && this.buffer.subarray(0, 4).toString('latin1') === '\r\n\r\n') {
        this.buffer = this.buffer.subarray(4);
        out.push({ kind: 'ping' });
        continue;
      }
      let skip = 0;
      while (skip + 1 < this.buffer.length && this.buffer[skip] === 0x0d && this.buffer[skip + 1] === 0x0a) skip += 2;
      if (skip > 0 && skip + 1 < this.buffer.length) {
        this.buffer = this.buffer.subarray(skip);
        continue;
      }
      const headEnd = this.buffer.indexOf('\r\n\r\n');
      if (headEnd < 0) {
        if (this.buffer.length > this.maxMessageBytes) return this.fail(out, 'headers too long');
        return out;
      }
      const length = contentLength(this.buffer.toString('latin1', 0, headEnd));
      if (length === undefined) return this.fail(out, 'missing or bad Content-Length');
      const total = headEnd + 4 + length;
      if (total > this.maxMessageBytes) return this.fail(out, 'message too large');
      if (this.buffer.length < total) return out;
      out.push({ kind: 'message', data: Buffer.from(this.buffer.subarray(0, total)) });
      this.buffer = this.buffer.subarray(total);
    }
  }

  private fail(out: FramerOutput[], detail: string): FramerOutput[] {
    this.failed = true;
    this.buffer = Buffer.alloc(0);
    out.push({ kind: 'error', detail });
    return out;
  }
}

/** On a stream Content-Length is mandatory (RFC 3261 §18.3); exactly one, digits only. */
function contentLength(head: string): number | undefined {
  let found: number | undefined;
  for (const line of head.split('\r\n').slice(1)) {
    const match = /^(content-length|l)\s*:\s*(.*)$/i.exec(line);
    if (!match) continue;
    if (found !== undefined || !/^\d{1,9}$/.test((match[2] ?? '').trim())) return undefined;
    found = Number((match[2] ?? '').trim());
  }
  return found;
}

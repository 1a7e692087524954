// RFC 4571 framing read back from a pipe: a 16-bit length, then that many bytes of RTP. A pipe hands over
// chunks that split or join frames however it likes; this puts the packets back together, within bounds.

/** No RTP packet of ours comes near this: a larger length means the stream is not what we think. */
export const MAX_FRAME = 1500;

/**
 * Splits a framed byte stream into packets. A frame longer than MAX_FRAME or shorter than an RTP header
 * calls `onBadFrame` and nothing more is read (the stream is lost: its process is restarted).
 */
export class FramedReader {
  private pending: Buffer = Buffer.alloc(0);
  private broken = false;

  constructor(
    private readonly onPacket: (packet: Buffer) => void,
    private readonly onBadFrame: (length: number) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.broken) return;
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    while (data.length >= 2) {
      const length = data.readUInt16BE(0);
      if (length < 12 || length > MAX_FRAME) {
        this.broken = true;
        this.pending = Buffer.alloc(0);
        this.onBadFrame(length);
        return;
      }
      if (data.length < 2 + length) break;
      this.onPacket(Buffer.from(data.subarray(2, 2 + length)));
      data = data.subarray(2 + length);
    }
    this.pending = Buffer.from(data);
  }
}

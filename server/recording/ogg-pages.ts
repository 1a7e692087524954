// Ogg pages (RFC 3533), read from a byte stream and written back with a new serial number, sequence number
// and granule position. That is all it takes to continue one logical stream across recorder processes.

export interface OggPage {
  headerType: number;
  /** -1n: no packet ends on this page. */
  granule: bigint;
  serial: number;
  sequence: number;
  /** The whole page as read, header included. */
  bytes: Buffer;
  /** Where the body starts in `bytes`. */
  bodyOffset: number;
}

export const OGG_BOS = 0x02;
export const OGG_EOS = 0x04;

const CAPTURE = Buffer.from('OggS');
const HEADER = 27;

const crcTable = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let b = 0; b < 8; b++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** Ogg's CRC-32 (polynomial 0x04c11db7, no reflection, zero start), over a page whose CRC field is zero. */
export function oggCrc(bytes: Buffer): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ crcTable[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  return crc;
}

/** The whole page's length at `offset`, once its header and segment table are there. */
function pageLength(buffer: Buffer, offset: number): number | undefined {
  if (buffer.length < offset + HEADER) return undefined;
  const segments = buffer[offset + 26]!;
  if (buffer.length < offset + HEADER + segments) return undefined;
  let bodyLength = 0;
  for (let i = 0; i < segments; i++) bodyLength += buffer[offset + HEADER + i]!;
  return HEADER + segments + bodyLength;
}

/** The page starting at `offset`, if a whole and valid one is there. */
export function pageAt(buffer: Buffer, offset: number): OggPage | undefined {
  if (!buffer.subarray(offset, offset + 4).equals(CAPTURE) || buffer[offset + 4] !== 0) return undefined;
  const total = pageLength(buffer, offset);
  if (total === undefined || buffer.length < offset + total) return undefined;
  const bytes = Buffer.from(buffer.subarray(offset, offset + total));
  const crc = bytes.readUInt32LE(22);
  bytes.writeUInt32LE(0, 22);
  if (oggCrc(bytes) !== crc) return undefined;
  bytes.writeUInt32LE(crc, 22);
  return {
    headerType: bytes[5]!,
    granule: bytes.readBigInt64LE(6),
    serial: bytes.readUInt32LE(14),
    sequence: bytes.readUInt32LE(18),
    bytes,
    bodyOffset: HEADER + bytes[26]!,
  };
}

/** The page with new identity fields and its CRC computed again. */
export function rewritePage(page: OggPage, fields: { serial: number; sequence: number; granule: bigint; headerType?: number }): Buffer {
  const bytes = Buffer.from(page.bytes);
  bytes[5] = fields.headerType ?? page.headerType;
  bytes.writeBigInt64LE(fields.granule, 6);
  bytes.writeUInt32LE(fields.serial, 14);
  bytes.writeUInt32LE(fields.sequence, 18);
  bytes.writeUInt32LE(0, 22);
  bytes.writeUInt32LE(oggCrc(bytes), 22);
  return bytes;
}

/** Cuts a byte stream (a muxer's output, read in arbitrary chunks) into whole pages. */
export class OggPageReader {
  private pending = Buffer.alloc(0);

  push(chunk: Buffer): OggPage[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const pages: OggPage[] = [];
    let offset = 0;
    for (;;) {
      const start = this.pending.indexOf(CAPTURE, offset);
      if (start < 0) {
        offset = Math.max(offset, this.pending.length - 3);
        break;
      }
      const page = pageAt(this.pending, start);
      if (!page) {
        const total = pageLength(this.pending, start);
        // Not all there yet: wait for more. All there but invalid: not a page, look further.
        if (total === undefined || this.pending.length < start + total) {
          offset = start;
          break;
        }
        offset = start + 1;
        continue;
      }
      pages.push(page);
      offset = start + page.bytes.length;
    }
    this.pending = this.pending.subarray(offset);
    return pages;
  }
}

/**
 * The last valid page in a file's tail, and where it ends: a writer that died mid-page leaves bytes after
 * it, which a continuing writer cuts off.
 */
export function lastWholePage(tail: Buffer): { page: OggPage; end: number } | undefined {
  for (let start = tail.lastIndexOf(CAPTURE); start >= 0; start = start === 0 ? -1 : tail.lastIndexOf(CAPTURE, start - 1)) {
    const page = pageAt(tail, start);
    if (page) return { page, end: start + page.bytes.length };
  }
  return undefined;
}

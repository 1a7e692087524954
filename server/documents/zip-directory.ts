// Reads the entry names of a ZIP archive from its central directory, by hand: DOCX detection needs only the
// names, and a parser we own can bound its work (entries, name lengths) against a crafted archive. Nothing
// is decompressed.

/** Past this many entries an archive is not a document we accept (Word writes a few dozen). */
export const ZIP_MAX_ENTRIES = 10_000;
/** Past this length an entry name is not one of a document's parts. */
export const ZIP_MAX_NAME_BYTES = 1024;

const EOCD_SIGNATURE = 0x06054b50;
const EOCD_SIZE = 22;
const CENTRAL_SIGNATURE = 0x02014b50;
const CENTRAL_SIZE = 46;
const LOCAL_SIGNATURE = 0x04034b50;
const MAX_COMMENT = 0xffff;

export type ZipListing = { ok: true; names: string[] } | { ok: false; reason: string };

const refuse = (reason: string): ZipListing => ({ ok: false, reason });

/**
 * The names of the archive's entries, or why the bytes are not a plain single-disk ZIP that starts with a
 * local header and ends with its central directory (no ZIP64, nothing before or after: a file that is also
 * something else, a polyglot, is refused). Linear in the size of the directory; never throws.
 */
export function listZipEntries(bytes: Uint8Array): ZipListing {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < EOCD_SIZE + 4 || buf.readUInt32LE(0) !== LOCAL_SIGNATURE) return refuse('not a ZIP archive');
  // The end record is the last 22 bytes plus its comment (at most 65535): search backwards that far only.
  let eocd = -1;
  const stop = Math.max(0, buf.length - EOCD_SIZE - MAX_COMMENT);
  for (let at = buf.length - EOCD_SIZE; at >= stop; at -= 1) {
    if (buf.readUInt32LE(at) === EOCD_SIGNATURE && at + EOCD_SIZE + buf.readUInt16LE(at + 20) === buf.length) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) return refuse('no ZIP end record');
  const disk = buf.readUInt16LE(eocd + 4);
  const cdDisk = buf.readUInt16LE(eocd + 6);
  const entriesHere = buf.readUInt16LE(eocd + 8);
  const entries = buf.readUInt16LE(eocd + 10);
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (disk !== 0 || cdDisk !== 0 || entriesHere !== entries) return refuse('a multi-disk ZIP');
  if (entries === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) return refuse('a ZIP64 archive');
  if (entries === 0) return refuse('an empty ZIP');
  if (entries > ZIP_MAX_ENTRIES) return refuse('too many ZIP entries');
  if (cdOffset + cdSize !== eocd) return refuse('the ZIP directory is not where its end record says');

  const names: string[] = [];
  let at = cdOffset;
  for (let i = 0; i < entries; i += 1) {
    if (at + CENTRAL_SIZE > eocd || buf.readUInt32LE(at) !== CENTRAL_SIGNATURE) return refuse('a damaged ZIP directory');
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    const localOffset = buf.readUInt32LE(at + 42);
    if (nameLength === 0 || nameLength > ZIP_MAX_NAME_BYTES) return refuse('a ZIP entry name of an unexpected length');
    const next = at + CENTRAL_SIZE + nameLength + extraLength + commentLength;
    if (next > eocd) return refuse('a damaged ZIP directory');
    if (localOffset + 4 > cdOffset || buf.readUInt32LE(localOffset) !== LOCAL_SIGNATURE) return refuse('a ZIP entry without its local header');
    names.push(buf.toString('utf8', at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLength));
    at = next;
  }
  if (at !== eocd) return refuse('the ZIP directory has bytes its entries do not account for');
  return { ok: true, names };
}

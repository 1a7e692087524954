import { open, type FileHandle } from 'node:fs/promises';
import { lastWholePage, OGG_BOS, OGG_EOS, OggPageReader, rewritePage, type OggPage } from './ogg-pages.js';

/** How much of an existing file's end is read to find its last page (an Ogg page is at most 65,307 bytes). */
const TAIL_BYTES = 256 * 1024;

/**
 * One channel's Ogg Opus file, written as ONE logical stream by a succession of muxer processes: a recorder
 * that died and was started again, or another node that took the room over. Each new muxer's output is cut
 * into pages; its own header pages are dropped once the file has headers, and every page gets the file's
 * serial number, the next sequence number, and a granule position counted on from where the file ends. A
 * player sees one continuous stream; decoders never meet a chain boundary.
 */
export class ContinuousOggFile {
  private serial: number | undefined;
  private sequence = -1;
  /** Granule (48 kHz samples, pre-skip 0) at the end of the last page written. */
  private granule = 0n;
  private writes: Promise<unknown> = Promise.resolve();
  private bytesWritten: number;

  private constructor(
    private readonly file: FileHandle,
    size: number,
    last: OggPage | undefined,
  ) {
    this.bytesWritten = size;
    if (last) {
      this.serial = last.serial;
      this.sequence = last.sequence;
      this.granule = last.granule;
    }
  }

  /** Opens (or creates) the file; an existing one is cut after its last whole page, and its end-of-stream flag cleared. */
  static async open(path: string): Promise<ContinuousOggFile> {
    const file = await open(path, 'a+');
    try {
      const { size } = await file.stat();
      if (size === 0) return new ContinuousOggFile(file, 0, undefined);
      const length = Math.min(size, TAIL_BYTES);
      const tail = Buffer.alloc(length);
      await file.read(tail, 0, length, size - length);
      const found = lastWholePage(tail);
      if (!found || found.page.granule < 0n) {
        // Nothing to continue from (not Ogg, or torn beyond a page): start over rather than append to garbage.
        await file.truncate(0);
        return new ContinuousOggFile(file, 0, undefined);
      }
      const pageStart = size - length + found.end - found.page.bytes.length;
      let end = size - length + found.end;
      if (found.page.headerType & OGG_EOS) {
        // A muxer that ended cleanly (a node shut down); the stream goes on, so its last page is not the last.
        await file.truncate(pageStart);
        await file.write(rewritePage(found.page, { serial: found.page.serial, sequence: found.page.sequence, granule: found.page.granule, headerType: found.page.headerType & ~OGG_EOS }), 0, undefined, pageStart);
      } else if (end < size) await file.truncate(end);
      end = Math.min(end, size);
      return new ContinuousOggFile(file, end, found.page);
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  /** 48 kHz samples in the file so far. */
  get samples(): number {
    return Number(this.granule);
  }

  get bytes(): number {
    return this.bytesWritten;
  }

  /** Whether the file already holds the stream's headers (a new muxer's are then dropped). */
  get hasHeaders(): boolean {
    return this.serial !== undefined;
  }

  /** A sink for one muxer process's output, from its first byte. */
  stream(): (chunk: Buffer) => void {
    const reader = new OggPageReader();
    const base = this.granule;
    const keepHeaders = !this.hasHeaders;
    let headerPages = 0;
    return (chunk) => {
      for (const page of reader.push(chunk)) {
        // An Opus stream's first two pages are its headers (OpusHead, OpusTags): granule 0, no audio.
        const isHeader = (page.headerType & OGG_BOS) !== 0 || (headerPages === 1 && page.granule === 0n);
        if (isHeader) {
          headerPages += 1;
          if (!keepHeaders) continue;
        }
        this.append(page, isHeader ? 0n : base);
      }
    };
  }

  /** Waits for every page handed over so far to be on disk. */
  async flush(): Promise<void> {
    await this.writes;
  }

  async close(): Promise<void> {
    await this.writes;
    await this.file.close();
  }

  private append(page: OggPage, base: bigint): void {
    this.serial ??= page.serial;
    this.sequence += 1;
    const granule = page.granule < 0n ? page.granule : base + page.granule;
    if (granule > this.granule) this.granule = granule;
    const bytes = rewritePage(page, { serial: this.serial, sequence: this.sequence, granule });
    this.bytesWritten += bytes.length;
    this.writes = this.writes.then(() => this.file.write(bytes)).catch(() => undefined);
  }
}

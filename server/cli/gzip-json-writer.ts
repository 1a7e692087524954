import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/**
 * Writes one JSON document through gzip a piece at a time, honouring backpressure, so a large export never sits in
 * memory. To a file: written beside it and renamed when complete, so a failure leaves no half archive under its name.
 */
export class GzipJsonWriter {
  private readonly gzip = createGzip();
  private readonly done: Promise<void>;
  private readonly tmp: string | undefined;

  private constructor(
    private readonly path: string | undefined,
    sink: Writable,
  ) {
    this.tmp = path ? `${path}.${process.pid}.tmp` : undefined;
    this.done = pipeline(this.gzip, sink);
    this.done.catch(() => undefined); // awaited in finish/abort; a write error surfaces there
  }

  static toFile(path: string): GzipJsonWriter {
    return new GzipJsonWriter(path, createWriteStream(`${path}.${process.pid}.tmp`, { flags: 'wx' }));
  }

  static toStdout(): GzipJsonWriter {
    return new GzipJsonWriter(undefined, process.stdout);
  }

  async write(text: string): Promise<void> {
    if (!this.gzip.write(text)) await Promise.race([once(this.gzip, 'drain'), this.done]);
  }

  async finish(): Promise<void> {
    this.gzip.end();
    await this.done;
    if (this.path && this.tmp) await rename(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    this.gzip.destroy();
    await this.done.catch(() => undefined);
    if (this.tmp) await rm(this.tmp, { force: true });
  }
}

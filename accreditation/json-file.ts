import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync, existsSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { z } from 'zod';

/**
 * A JSON document on disk, validated on load and replaced atomically on save (write, fsync, rename), so a
 * crash mid-save leaves the previous version, never half a file.
 */
export class JsonFile<S extends z.ZodType> {
  constructor(
    readonly path: string,
    private readonly schema: S,
  ) {}

  exists(): boolean {
    return existsSync(this.path);
  }

  load(): z.infer<S> {
    const raw = JSON.parse(readFileSync(this.path, 'utf8')) as unknown;
    const parsed = this.schema.safeParse(raw);
    if (!parsed.success) throw new Error(`${this.path} is not valid: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
    return parsed.data;
  }

  /** Synchronous: for small files, and for large ones only before the server listens. */
  save(value: z.infer<S>): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = this.tmpPath();
    writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }

  /**
   * The same atomic replacement, asynchronously, from the document's text in parts (the caller serialises a
   * large document a slice at a time, so neither the serialisation nor the write holds the event loop).
   * The caller makes sure one save of a file runs at a time.
   */
  async saveParts(parts: AsyncIterable<string>): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = this.tmpPath();
    const handle = await open(tmp, 'w');
    try {
      for await (const part of parts) await handle.write(part);
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(tmp, { force: true });
      throw error;
    }
    await handle.close();
    await rename(tmp, this.path);
  }

  private tmpPath(): string {
    return `${this.path}.${process.pid}.tmp`;
  }
}

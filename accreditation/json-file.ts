import { closeSync, constants, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { z } from 'zod';

/**
 * A JSON document on disk, validated on load and replaced atomically on save (write, fsync, rename, fsync of
 * the directory), so a crash mid-save leaves the previous version, never half a file, and a save that
 * returned survives a power cut (the rename itself is durable only once the directory is synced).
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
    fsyncPathSync(tmp);
    renameSync(tmp, this.path);
    fsyncPathSync(dirname(this.path));
  }

  /**
   * Copies the file, as it is, to `path + suffix`, durably, unless that copy already exists (the first
   * original is the one worth keeping). Returns the copy's path.
   */
  backupOnce(suffix: string): string {
    const backup = `${this.path}${suffix}`;
    try {
      copyFileSync(this.path, backup, constants.COPYFILE_EXCL);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return backup;
      throw error;
    }
    fsyncPathSync(backup);
    fsyncPathSync(dirname(this.path));
    return backup;
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
      for await (const part of parts) {
        // write() may write less than it was given (bytesWritten); the rest follows.
        const bytes = Buffer.from(part);
        for (let offset = 0; offset < bytes.length; ) offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten;
      }
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(tmp, { force: true });
      throw error;
    }
    await handle.close();
    await rename(tmp, this.path);
    const dir = await open(dirname(this.path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  private tmpPath(): string {
    return `${this.path}.${process.pid}.tmp`;
  }
}

/** fsync of a file or directory by path (a directory's, to make a rename or a new entry in it durable). */
function fsyncPathSync(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

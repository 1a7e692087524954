import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync, existsSync } from 'node:fs';
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

  save(value: z.infer<S>): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}

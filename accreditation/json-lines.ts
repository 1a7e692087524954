import { mkdirSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Appends JSON lines to files, one write at a time per file, so lines stay whole and in order. */
export class JsonLinesAppender {
  private readonly chains = new Map<string, Promise<void>>();

  append(path: string, record: unknown): Promise<void> {
    const next = (this.chains.get(path) ?? Promise.resolve()).then(async () => {
      mkdirSync(dirname(path), { recursive: true });
      await appendFile(path, `${JSON.stringify(record)}\n`);
    });
    this.chains.set(path, next.catch(() => undefined));
    return next;
  }

  /** Resolves once the writes already queued for `path` are done. */
  settled(path: string): Promise<void> {
    return this.chains.get(path) ?? Promise.resolve();
  }
}

/** Reads a JSON-lines file; a missing file is empty, and a torn last line (after a crash) is skipped. */
export async function readJsonLines<T>(path: string): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a torn line
    }
  }
  return out;
}

import { mkdirSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';

const SAFE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/** Final caption lines per session and language, appended to `<dataDir>/transcripts/<session>/<language>.jsonl`. */
export class TranscriptStore {
  private chains = new Map<string, Promise<void>>();

  constructor(private readonly dir: string) {}

  append(sessionId: string, language: string, line: { at: number; by: string; text: string }): Promise<void> {
    const path = this.path(sessionId, language);
    // One writer per file at a time keeps lines whole and in order.
    const next = (this.chains.get(path) ?? Promise.resolve()).then(async () => {
      mkdirSync(join(this.dir, sessionId), { recursive: true });
      await appendFile(path, `${JSON.stringify(line)}\n`);
    });
    this.chains.set(path, next.catch(() => undefined));
    return next;
  }

  /** The transcript as plain text, one "[HH:MM:SS] text" line per caption; empty when there is none. */
  async read(sessionId: string, language: string): Promise<string> {
    await this.chains.get(this.path(sessionId, language));
    let raw: string;
    try {
      raw = await readFile(this.path(sessionId, language), 'utf8');
    } catch {
      return '';
    }
    return raw
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { at: number; text: string })
      .map((l) => `[${new Date(l.at).toISOString().slice(11, 19)}] ${l.text}`)
      .join('\n');
  }

  private path(sessionId: string, language: string): string {
    // Session ids and language codes are validated upstream; this keeps any path out of the data directory anyway.
    for (const part of [sessionId, language]) if (!SAFE.test(part)) throw new Error(`unsafe transcript path part: ${part}`);
    return join(this.dir, sessionId, `${language}.jsonl`);
  }
}

import { join } from 'node:path';
import { JsonLinesAppender, readJsonLines } from '../../accreditation/json-lines.js';

const SAFE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/** Final caption lines per session and language, appended to `<dataDir>/transcripts/<session>/<language>.jsonl`. */
export class TranscriptStore {
  private readonly appender = new JsonLinesAppender();

  constructor(private readonly dir: string) {}

  append(sessionId: string, language: string, line: { at: number; by: string; text: string }): Promise<void> {
    return this.appender.append(this.path(sessionId, language), line);
  }

  /** The transcript as plain text, one "[HH:MM:SS] text" line per caption; empty when there is none. */
  async read(sessionId: string, language: string): Promise<string> {
    const path = this.path(sessionId, language);
    await this.appender.settled(path);
    return (await readJsonLines<{ at: number; text: string }>(path)).map((l) => `[${new Date(l.at).toISOString().slice(11, 19)}] ${l.text}`).join('\n');
  }

  private path(sessionId: string, language: string): string {
    // Session ids and language codes are validated upstream; this keeps any path out of the data directory anyway.
    for (const part of [sessionId, language]) if (!SAFE.test(part)) throw new Error(`unsafe transcript path part: ${part}`);
    return join(this.dir, sessionId, `${language}.jsonl`);
  }
}

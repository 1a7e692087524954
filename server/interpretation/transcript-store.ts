import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { JsonLinesAppender, readJsonLines } from '../../accreditation/json-lines.js';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';

const SAFE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/** Final caption lines per session and language, appended to `<dataDir>/transcripts/<session>/<language>.jsonl`. */
export class TranscriptStore {
  private readonly appender = new JsonLinesAppender();
  /** Bytes per transcript file: what it held when first used here, and what was appended since. */
  private readonly sizes = new Map<string, { initial: Promise<number>; added: number }>();

  constructor(
    private readonly dir: string,
    /** Most bytes one transcript (a session's language) may hold: a captioner's client cannot fill the disk. */
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {}

  async append(sessionId: string, language: string, line: { at: number; by: string; text: string }): Promise<void> {
    const path = this.path(sessionId, language);
    let size = this.sizes.get(path);
    if (!size) {
      size = { initial: stat(path).then((s) => s.size, () => 0), added: 0 };
      this.sizes.set(path, size);
    }
    const initial = await size.initial;
    // Checked and counted in one synchronous step after the await, so parallel captions cannot overshoot.
    const bytes = Buffer.byteLength(JSON.stringify(line)) + 1;
    if (initial + size.added + bytes > this.maxBytes) {
      throw new ProtocolError(ErrorCode.LIMIT_REACHED, `the ${language} transcript of this session is full; captions are still shown live`);
    }
    size.added += bytes;
    return this.appender.append(path, line);
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

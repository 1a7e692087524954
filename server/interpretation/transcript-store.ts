import { sql } from 'kysely';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { OwnerWrites } from '../cluster/owner-writes.js';

/** Bytes a caption line counts for beyond its text and author: its row's own fields, roughly. */
const LINE_OVERHEAD = 32;

const lineBytes = (by: string, text: string): number => Buffer.byteLength(text) + Buffer.byteLength(by) + LINE_OVERHEAD;

/**
 * Final caption lines per session and language, in the system of record (`transcripts`). Captions are
 * published on the room's owner, so each line is written under the owner's epoch.
 */
export class TranscriptStore {
  /** Bytes per transcript: what it held when first used here (one query), and what was appended since. */
  private readonly sizes = new Map<string, { initial: Promise<number>; added: number }>();

  constructor(
    private readonly owners: OwnerWrites,
    /** Most bytes one transcript (a session's language) may hold: a captioner's client cannot fill the disk. */
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {}

  async append(sessionId: string, language: string, line: { at: number; by: string; text: string }): Promise<void> {
    const owner = this.owners.owner(sessionId); // this moment's epoch: the line is the owner's
    const key = `${sessionId}\u0000${language}`;
    let size = this.sizes.get(key);
    if (!size) {
      const initial = this.storedBytes(sessionId, language);
      size = { initial, added: 0 };
      this.sizes.set(key, size);
      // A failed count is asked again next time rather than remembered.
      initial.catch(() => this.sizes.get(key) === size && this.sizes.delete(key));
    }
    const initial = await size.initial;
    // Checked and counted in one synchronous step after the await, so parallel captions cannot overshoot.
    const bytes = lineBytes(line.by, line.text);
    if (initial + size.added + bytes > this.maxBytes) {
      throw new ProtocolError(ErrorCode.LIMIT_REACHED, `the ${language} transcript of this session is full; captions are still shown live`);
    }
    size.added += bytes;
    try {
      await this.owners.write(owner, (tx) =>
        tx.insertInto('transcripts').values({ session_id: sessionId, language, at: new Date(line.at), by_person: line.by, text: line.text }).execute(),
      );
    } catch (error) {
      size.added -= bytes;
      throw error;
    }
  }

  /** The transcript as plain text, one "[HH:MM:SS] text" line per caption; empty when there is none. */
  async read(sessionId: string, language: string): Promise<string> {
    const rows = await this.owners.db.selectFrom('transcripts').select(['at', 'text']).where('session_id', '=', sessionId).where('language', '=', language).orderBy('id').execute();
    return rows.map((l) => `[${l.at.toISOString().slice(11, 19)}] ${l.text}`).join('\n');
  }

  private async storedBytes(sessionId: string, language: string): Promise<number> {
    const row = await this.owners.db
      .selectFrom('transcripts')
      .select(sql<number>`coalesce(sum(octet_length(text) + octet_length(by_person)), 0) + count(*) * ${LINE_OVERHEAD}`.as('bytes'))
      .where('session_id', '=', sessionId)
      .where('language', '=', language)
      .executeTakeFirstOrThrow();
    return Number(row.bytes);
  }
}

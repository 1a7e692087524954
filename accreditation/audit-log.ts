import { sql } from 'kysely';
import type { Db } from '../store/open-store.js';
import { json } from '../store/schema.js';
import { formatCsv } from './csv.js';

/**
 * What a record says happened. `document-upload`: a session document's version was added (a file or a link;
 * `documentId` and `documentVersion` say which); `document-download`: its file was served to the person;
 * `recording-download`: a recording's file (`recordingId`, `recordingChannel`, `recordingPart`) was served;
 * `dial-in-pin-issue` / `dial-in-pin-revoke`: the secretariat issued or revoked the person's dial-in PIN
 * (event-wide: `sessionId` is empty; the PIN is never recorded).
 */
export const AUDIT_DECISIONS = ['allow', 'lobby', 'deny', 'lobby-admit', 'lobby-deny', 'revoke', 'remove', 'document-upload', 'document-download', 'recording-download', 'dial-in-pin-issue', 'dial-in-pin-revoke'] as const;
export type AuditDecision = (typeof AUDIT_DECISIONS)[number];
/** Where the registration behind a decision came from. */
export type AuditSource = 'live' | 'cache' | 'grace' | 'unavailable' | 'none' | 'secretariat' | 'registry-change' | 'webhook' | 'revalidation';

export interface AuditRecord {
  /** The record's place in the trail: the cursor of paged queries. Absent only on records not stored yet. */
  id?: number;
  at: string;
  eventId: string;
  sessionId: string;
  personId?: string;
  email?: string;
  name?: string;
  entity?: string;
  role?: string;
  decision: AuditDecision;
  reasons: string[];
  source: AuditSource;
  /** Who took a secretariat decision (lobby, removal, a document upload). */
  actor?: string;
  /** Document records: which document and version. */
  documentId?: string;
  documentVersion?: number;
  /** Recording records: which recording, channel and part. */
  recordingId?: string;
  recordingChannel?: string;
  recordingPart?: number;
  /** `dial-in`: a decision on a phone caller (by dial-in PIN) rather than a web sign-in. */
  via?: 'dial-in';
}

export const AUDIT_PAGE_DEFAULT = 100;
export const AUDIT_PAGE_MAX = 1000;

export interface AuditQuery {
  eventId?: string;
  sessionId?: string;
  personId?: string;
  decision?: AuditDecision;
  since?: Date;
  /** A page's `nextCursor`: only records older than that one. */
  before?: number;
  /** Records per page: AUDIT_PAGE_DEFAULT unless given, at most AUDIT_PAGE_MAX. */
  limit?: number;
}

export interface AuditPage {
  /** Newest first. */
  records: AuditRecord[];
  /** Set when older records match: pass it as `before` for the next page. */
  nextCursor?: number;
}

export interface AuditLog {
  /** Resolves once the record is committed. */
  append(record: Omit<AuditRecord, 'at' | 'id'>): Promise<AuditRecord>;
  query(filter: AuditQuery): Promise<AuditPage>;
  close(): Promise<void>;
}

// New columns go at the end, so a reader of the earlier columns by position still reads them.
export const AUDIT_CSV_COLUMNS = ['at', 'eventId', 'sessionId', 'personId', 'email', 'name', 'entity', 'role', 'decision', 'reasons', 'source', 'actor', 'documentId', 'documentVersion'] as const;

export function auditToCsv(records: AuditRecord[]): string {
  return formatCsv(
    AUDIT_CSV_COLUMNS,
    records.map((r) => AUDIT_CSV_COLUMNS.map((c) => (c === 'reasons' ? r.reasons.join(';') : r[c]))),
  );
}

/**
 * The audit trail in the system of record (`audit`): append-only, one row per decision, shared by every node.
 * Queries by event, session or person run on the (…, at, id) indexes, newest first, a page at a time.
 */
export class DatabaseAuditLog implements AuditLog {
  constructor(private readonly db: Db) {}

  async append(input: Omit<AuditRecord, 'at' | 'id'>): Promise<AuditRecord> {
    const at = new Date();
    const row = await this.db
      .insertInto('audit')
      .values({ at, event_id: input.eventId, session_id: input.sessionId, person_id: input.personId ?? null, decision: input.decision, record: json(input) })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: row.id, at: at.toISOString(), ...input };
  }

  async query(filter: AuditQuery): Promise<AuditPage> {
    const limit = Math.min(Math.max(1, Math.floor(filter.limit ?? AUDIT_PAGE_DEFAULT)), AUDIT_PAGE_MAX);
    let q = this.db.selectFrom('audit').select(['id', 'at', 'record']);
    if (filter.eventId) q = q.where('event_id', '=', filter.eventId);
    if (filter.sessionId) q = q.where('session_id', '=', filter.sessionId);
    if (filter.personId) q = q.where('person_id', '=', filter.personId);
    if (filter.decision) q = q.where('decision', '=', filter.decision);
    if (filter.since) q = q.where('at', '>=', filter.since);
    // Keyset paging on (at, id): stable while records are appended, and as cheap on the last page as on the first.
    if (filter.before !== undefined) q = q.where(sql<boolean>`(audit.at, audit.id) < (select c.at, c.id from audit c where c.id = ${filter.before})`);
    const rows = await q.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    const records = page.map((r) => ({ id: r.id, at: r.at.toISOString(), ...(r.record as Omit<AuditRecord, 'at' | 'id'>) }));
    return rows.length > limit ? { records, nextCursor: page.at(-1)!.id } : { records };
  }

  /** The store is closed by its owner. */
  async close(): Promise<void> {}
}

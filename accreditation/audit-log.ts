import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { formatCsv } from './csv.js';
import { readJsonLines } from './json-lines.js';

export type AuditDecision = 'allow' | 'lobby' | 'deny' | 'lobby-admit' | 'lobby-deny' | 'revoke' | 'remove';
/** Where the registration behind a decision came from. */
export type AuditSource = 'live' | 'cache' | 'grace' | 'unavailable' | 'none' | 'secretariat' | 'registry-change' | 'webhook' | 'revalidation';

export interface AuditRecord {
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
  /** Who took a secretariat decision (lobby, removal). */
  actor?: string;
}

export interface AuditQuery {
  eventId?: string;
  sessionId?: string;
  personId?: string;
  decision?: AuditDecision;
  since?: Date;
  limit?: number;
}

export interface AuditLog {
  append(record: Omit<AuditRecord, 'at'>): Promise<AuditRecord>;
  query(filter: AuditQuery): Promise<AuditRecord[]>;
  close(): Promise<void>;
}

export const AUDIT_CSV_COLUMNS = ['at', 'eventId', 'sessionId', 'personId', 'email', 'name', 'entity', 'role', 'decision', 'reasons', 'source', 'actor'] as const;

export function auditToCsv(records: AuditRecord[]): string {
  return formatCsv(
    AUDIT_CSV_COLUMNS,
    records.map((r) => AUDIT_CSV_COLUMNS.map((c) => (c === 'reasons' ? r.reasons.join(';') : r[c]))),
  );
}

/**
 * Append-only JSON lines on disk. `append` resolves once the record is on stable storage (fdatasync);
 * concurrent appends share one sync (group commit), so durability does not serialise a burst of joins.
 */
export class FileAuditLog implements AuditLog {
  private handle: Promise<FileHandle>;
  private pending: Array<{ line: string; done: () => void; fail: (e: unknown) => void }> = [];
  private flushing: Promise<void> | undefined;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.handle = open(path, 'a');
  }

  append(input: Omit<AuditRecord, 'at'>): Promise<AuditRecord> {
    const record: AuditRecord = { at: new Date().toISOString(), ...input };
    return new Promise<AuditRecord>((resolve, reject) => {
      this.pending.push({ line: `${JSON.stringify(record)}\n`, done: () => resolve(record), fail: reject });
      this.flushing ??= this.flush();
    });
  }

  async query(filter: AuditQuery): Promise<AuditRecord[]> {
    await this.flushing;
    const out: AuditRecord[] = [];
    for (const r of await readJsonLines<AuditRecord>(this.path)) {
      if (filter.eventId && r.eventId !== filter.eventId) continue;
      if (filter.sessionId && r.sessionId !== filter.sessionId) continue;
      if (filter.personId && r.personId !== filter.personId) continue;
      if (filter.decision && r.decision !== filter.decision) continue;
      if (filter.since && new Date(r.at) < filter.since) continue;
      out.push(r);
    }
    return filter.limit ? out.slice(-filter.limit) : out;
  }

  async close(): Promise<void> {
    await this.flushing;
    await (await this.handle).close();
  }

  private async flush(): Promise<void> {
    const handle = await this.handle;
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await handle.write(batch.map((b) => b.line).join(''));
        await handle.datasync();
        for (const b of batch) b.done();
      } catch (error) {
        for (const b of batch) b.fail(error);
      }
    }
    this.flushing = undefined;
  }
}

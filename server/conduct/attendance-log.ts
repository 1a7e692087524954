import { join } from 'node:path';
import { formatCsv } from '../../accreditation/csv.js';
import { JsonLinesAppender, readJsonLines } from '../../accreditation/json-lines.js';

export interface AttendanceMark {
  at: number;
  kind: 'join' | 'leave';
  personId: string;
  name: string;
  entity: string;
  entityType: string;
  role: string;
}

export interface AttendanceInterval {
  personId: string;
  name: string;
  entity: string;
  entityType: string;
  role: string;
  from: string;
  /** Absent while still present. */
  to?: string;
}

const SAFE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/**
 * Who was present, from when to when, on behalf of which entity: joins and leaves appended per session to
 * `<dataDir>/attendance/<session>.jsonl`. A restart closes nobody's interval by itself: the server marks
 * everyone present as left when it shuts down cleanly, and intervals still open after a crash stay open.
 */
export class AttendanceLog {
  private readonly appender = new JsonLinesAppender();

  constructor(private readonly dir: string) {}

  mark(sessionId: string, mark: AttendanceMark): Promise<void> {
    return this.appender.append(this.path(sessionId), mark);
  }

  async intervals(sessionId: string): Promise<AttendanceInterval[]> {
    const path = this.path(sessionId);
    await this.appender.settled(path);
    const out: AttendanceInterval[] = [];
    const open = new Map<string, AttendanceInterval>();
    for (const m of await readJsonLines<AttendanceMark>(path)) {
      if (m.kind === 'join') {
        if (open.has(m.personId)) continue; // already present (a second connection replaced the first)
        const interval = { personId: m.personId, name: m.name, entity: m.entity, entityType: m.entityType, role: m.role, from: new Date(m.at).toISOString() };
        open.set(m.personId, interval);
        out.push(interval);
      } else {
        const interval = open.get(m.personId);
        if (interval) interval.to = new Date(m.at).toISOString();
        open.delete(m.personId);
      }
    }
    return out;
  }

  async csv(sessionId: string): Promise<string> {
    const rows = await this.intervals(sessionId);
    return formatCsv(
      ['personId', 'name', 'entity', 'entityType', 'role', 'from', 'to'],
      rows.map((r) => [r.personId, r.name, r.entity, r.entityType, r.role, r.from, r.to ?? '']),
    );
  }

  private path(sessionId: string): string {
    if (!SAFE.test(sessionId)) throw new Error(`unsafe session id: ${sessionId}`);
    return join(this.dir, `${sessionId}.jsonl`);
  }
}

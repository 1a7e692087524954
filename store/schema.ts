// The tables of the system of record, as Kysely sees them. One schema for both engines (PGlite and
// PostgreSQL): the migrations in ./migrations create exactly this.
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** A JSON column: read as the value, written as its JSON text (pg would turn a JS array into a SQL array). */
export type Json<T> = ColumnType<T, string, string>;
/** A timestamp written by the database unless given. */
type CreatedAt = ColumnType<Date, Date | undefined, Date>;

export interface EventsTable {
  event_id: string;
  title: string;
  created_at: CreatedAt;
}

export interface MeetingsTable {
  event_id: string;
  meeting_id: string;
  title: string;
}

export interface SessionsTable {
  session_id: string;
  event_id: string;
  /** The session's rules as accreditation/model.ts defines them (status, languages, booths...). */
  rules: Json<Record<string, unknown>>;
  status: string;
  /** Grows on every write: nodes compare it to know whether their copy is current. */
  revision: ColumnType<number, number | undefined, number>;
  updated_at: CreatedAt;
}

export interface RegistrationsTable {
  event_id: string;
  person_id: string;
  /** Lower-cased; unique within an event. */
  email: string;
  registration: Json<Record<string, unknown>>;
  status: string;
  /** scrypt hash of the person's access code (embedded sign-in), when they have one. */
  access_code_hash: string | null;
  administrator: ColumnType<boolean, boolean | undefined, boolean>;
  updated_at: CreatedAt;
  /** When the status was last set on its own (a revocation): a CSV import begun earlier keeps it (migration 0002). */
  status_changed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface SettingsTable {
  key: string;
  value: Json<unknown>;
}

export interface AuditTable {
  id: Generated<number>;
  at: CreatedAt;
  event_id: string;
  session_id: string;
  person_id: string | null;
  decision: string;
  /** The whole record (accreditation/audit-log.ts AuditRecord without `at`). */
  record: Json<Record<string, unknown>>;
}

export interface AttendanceTable {
  id: Generated<number>;
  event_id: string;
  session_id: string;
  person_id: string;
  name: string;
  entity: string;
  entity_type: string;
  role: string;
  /** `participant` (joined the room) or `listener` (an edge node's listener). */
  presence: string;
  node_id: string;
  /** The room owner's fencing token when the interval was opened. */
  epoch: number;
  joined_at: Date;
  left_at: Date | null;
  /** `leave`, `shutdown`, `takeover` (closed by the next owner after a crash), or `imported-open` (see the legacy import). */
  closed_by: string | null;
}

export interface RoomFencesTable {
  room_id: string;
  /** The highest owner token that has written for the room: a lower one is a stale owner. */
  epoch: number;
  node_id: string;
  updated_at: CreatedAt;
}

export interface FloorStateTable {
  session_id: string;
  snapshot: Json<Record<string, unknown>>;
  epoch: number;
  updated_at: CreatedAt;
}

export interface TranscriptsTable {
  id: Generated<number>;
  session_id: string;
  language: string;
  at: Date;
  by_person: string;
  text: string;
}

export interface RemovalsTable {
  room_id: string;
  person_id: string;
  until: Date;
}

export interface WebhookOutboxTable {
  id: Generated<number>;
  /** The id receivers de-duplicate on. */
  delivery_id: string;
  type: string;
  body: string;
  created_at: CreatedAt;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: ColumnType<Date, Date | undefined, Date>;
  /** A node delivering it now, until `claimed_until`; another node may take it after that. */
  claimed_by: string | null;
  claimed_until: Date | null;
  delivered_at: Date | null;
  failed_at: Date | null;
  last_error: string | null;
}

export interface Schema {
  events: EventsTable;
  meetings: MeetingsTable;
  sessions: SessionsTable;
  registrations: RegistrationsTable;
  settings: SettingsTable;
  audit: AuditTable;
  attendance: AttendanceTable;
  room_fences: RoomFencesTable;
  floor_state: FloorStateTable;
  transcripts: TranscriptsTable;
  removals: RemovalsTable;
  webhook_outbox: WebhookOutboxTable;
}

export type Row<T extends keyof Schema> = Selectable<Schema[T]>;
export type NewRow<T extends keyof Schema> = Insertable<Schema[T]>;

export const json = (value: unknown): string => JSON.stringify(value);

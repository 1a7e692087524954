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

/** A session document (migration 0003): its metadata; the files and links are its versions. */
export interface DocumentsTable {
  document_id: string;
  event_id: string;
  session_id: string;
  title: string;
  /** A language code (`en`, `fr`...): the UN symbol letter (E, F...) is derived from it. */
  language: string;
  /** `everyone`, `interpreters` or `member_states` (the secretariat and the chair always). */
  audience: string;
  latest_version: number;
  created_by: string;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

export interface DocumentVersionsTable {
  document_id: string;
  version: number;
  event_id: string;
  session_id: string;
  /** `file` (stored under `storage_key` in the storage directory) or `link` (`url`, never fetched). */
  kind: string;
  /** The type detected from the content, never the client's. */
  content_type: string | null;
  storage_key: string | null;
  size_bytes: number | null;
  sha256: string | null;
  url: string | null;
  created_by: string;
  created_at: CreatedAt;
}

export interface DocumentFocusTable {
  event_id: string;
  session_id: string;
  /** Null: nothing in focus. */
  document_id: string | null;
  set_by: string;
  set_at: CreatedAt;
}

/** A vote of a session (migration 0004). */
export interface VotesTable {
  vote_id: string;
  event_id: string;
  session_id: string;
  /** `recorded`, `roll_call` or `secret`. */
  kind: string;
  /** The question, options, eligible entity types, roll-call order... (server/votes/vote-model.ts). */
  definition: Json<Record<string, unknown>>;
  /** `open` or `closed`. */
  status: string;
  opened_by: string;
  opened_at: CreatedAt;
  closes_at: Date | null;
  closed_at: Date | null;
  result: Json<Record<string, unknown>> | null;
}

/** One row per entity that voted: the primary key (vote, entity) is "one vote per entity". */
export interface VoteCastsTable {
  vote_id: string;
  entity: string;
  entity_type: string;
  cast_by: string;
  /** The choice of a recorded vote or a roll-call; always null for a secret ballot. */
  choice: Json<unknown> | null;
  cast_at: CreatedAt;
}

/** A secret ballot's sealed choice: nothing in it names an entity, a person or a time. */
export interface VoteBallotsTable {
  ballot_id: string;
  vote_id: string;
  sealed: string;
}

/** Who casts an entity's vote besides its head of delegation. */
export interface VoteDesignationsTable {
  event_id: string;
  entity: string;
  person_id: string;
  designated_by: string;
}

/** A recording of a session (migration 0005): one with status `recording` per session at most. */
export interface RecordingsTable {
  recording_id: string;
  event_id: string;
  session_id: string;
  /** `recording`, `stopped` or `expired` (its files deleted by the retention sweeper). */
  status: string;
  started_by: string;
  /** The session clock's origin: files' and marks' ms count from here. */
  started_at: CreatedAt;
  stopped_at: Date | null;
  /** Who stopped it: a person id, 'admin-api-key', or 'session-closed' (the session ended). */
  stopped_by: string | null;
  retention_days: number | null;
  expires_at: Date | null;
}

/** One file of a recording: a channel's part, in `<storage>/recordings/<recording_id>/<file_name>`. */
export interface RecordingFilesTable {
  recording_id: string;
  channel: string;
  part: number;
  /** `audio` or `video`. */
  kind: string;
  file_name: string;
  media_type: string;
  start_ms: number;
  end_ms: number | null;
  bytes: ColumnType<number, number | undefined, number>;
}

/** One entry of the meeting index (a floor turn, a point of order, a vote, a gap...) on the session clock. */
export interface RecordingMarksTable {
  id: Generated<number>;
  recording_id: string;
  at_ms: number;
  /** Null for an instant, or a span still open. */
  end_ms: number | null;
  kind: string;
  data: Json<Record<string, unknown>>;
}

/** A person's dial-in PIN for an event (migration 0006): only its keyed hash, unique within the event. */
export interface DialInPinsTable {
  event_id: string;
  person_id: string;
  /** HMAC-SHA256 (hex) of the event and the PIN under the server's dial-in secret; never the PIN. */
  pin_hash: string;
  issued_at: CreatedAt;
  /** The secretariat's person id, or 'admin-api-key'. */
  issued_by: string;
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
  documents: DocumentsTable;
  document_versions: DocumentVersionsTable;
  document_focus: DocumentFocusTable;
  votes: VotesTable;
  vote_casts: VoteCastsTable;
  vote_ballots: VoteBallotsTable;
  vote_designations: VoteDesignationsTable;
  recordings: RecordingsTable;
  recording_files: RecordingFilesTable;
  recording_marks: RecordingMarksTable;
  dial_in_pins: DialInPinsTable;
}

export type Row<T extends keyof Schema> = Selectable<Schema[T]>;
export type NewRow<T extends keyof Schema> = Insertable<Schema[T]>;

export const json = (value: unknown): string => JSON.stringify(value);

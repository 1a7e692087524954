import { sql, type Kysely } from 'kysely';

// Recordings (issue 14). One row per recording of a session, started and stopped once; the partial unique
// index is the rule "one recording at a time per session", whichever node starts it. Its files (one per
// channel and part) and the meeting index's marks hang off it; the media files themselves are in the storage
// directory (server/recording/recording-paths.ts), not here.
const statements = [
  `create table recordings (recording_id text primary key, event_id text not null, session_id text not null,
     status text not null, started_by text not null, started_at timestamptz not null default now(),
     stopped_at timestamptz, stopped_by text, retention_days integer, expires_at timestamptz)`,
  `create index recordings_session on recordings (session_id, started_at)`,
  `create unique index recordings_one_active on recordings (session_id) where status = 'recording'`,
  `create index recordings_expiry on recordings (expires_at) where status = 'stopped'`,
  `create table recording_files (recording_id text not null references recordings, channel text not null,
     part integer not null, kind text not null, file_name text not null, media_type text not null,
     start_ms bigint not null, end_ms bigint, bytes bigint not null default 0, primary key (recording_id, channel, part))`,
  `create table recording_marks (id bigserial primary key, recording_id text not null references recordings,
     at_ms bigint not null, end_ms bigint, kind text not null, data jsonb not null)`,
  `create index recording_marks_time on recording_marks (recording_id, at_ms)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

import { sql, type Kysely } from 'kysely';

// Plain SQL that PostgreSQL 15 and PGlite both run. One statement per call: PGlite's extended protocol
// takes one at a time.
const statements = [
  `create table events (event_id text primary key, title text not null, created_at timestamptz not null default now())`,
  `create table meetings (event_id text not null references events, meeting_id text not null, title text not null, primary key (event_id, meeting_id))`,
  `create table sessions (session_id text primary key, event_id text not null references events, rules jsonb not null, status text not null,
     revision bigint not null default 1, updated_at timestamptz not null default now())`,
  `create index sessions_event on sessions (event_id)`,
  `create table registrations (event_id text not null, person_id text not null, email text not null, registration jsonb not null,
     status text not null, access_code_hash text, administrator boolean not null default false,
     updated_at timestamptz not null default now(), primary key (event_id, person_id))`,
  `create unique index registrations_email on registrations (event_id, email)`,
  `create table settings (key text primary key, value jsonb not null)`,
  `create table audit (id bigserial primary key, at timestamptz not null default now(), event_id text not null, session_id text not null,
     person_id text, decision text not null, record jsonb not null)`,
  `create index audit_event_at on audit (event_id, at, id)`,
  `create index audit_session_at on audit (session_id, at, id)`,
  `create index audit_person_at on audit (person_id, at, id)`,
  `create table attendance (id bigserial primary key, event_id text not null, session_id text not null, person_id text not null,
     name text not null, entity text not null, entity_type text not null, role text not null, presence text not null,
     node_id text not null, epoch bigint not null, joined_at timestamptz not null, left_at timestamptz, closed_by text)`,
  `create index attendance_session on attendance (session_id, joined_at, id)`,
  `create index attendance_open on attendance (session_id) where left_at is null`,
  `create table room_fences (room_id text primary key, epoch bigint not null, node_id text not null, updated_at timestamptz not null default now())`,
  `create table floor_state (session_id text primary key, snapshot jsonb not null, epoch bigint not null, updated_at timestamptz not null default now())`,
  `create table transcripts (id bigserial primary key, session_id text not null, language text not null, at timestamptz not null,
     by_person text not null, text text not null)`,
  `create index transcripts_session on transcripts (session_id, language, id)`,
  `create table removals (room_id text not null, person_id text not null, until timestamptz not null, primary key (room_id, person_id))`,
  `create table webhook_outbox (id bigserial primary key, delivery_id text not null unique, type text not null, body text not null,
     created_at timestamptz not null default now(), attempts integer not null default 0, next_attempt_at timestamptz not null default now(),
     claimed_by text, claimed_until timestamptz, delivered_at timestamptz, failed_at timestamptz, last_error text)`,
  `create index webhook_outbox_due on webhook_outbox (next_attempt_at) where delivered_at is null and failed_at is null`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

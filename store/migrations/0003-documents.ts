import { sql, type Kysely } from 'kysely';

// Session documents (issue 14): a document's metadata, its versions (a file in the storage directory or a
// link), and the one a session has "in focus". Every row carries its event and session, and every query
// filters on both, so an id from one event never reaches another's rows.
const statements = [
  `create table documents (document_id text primary key, event_id text not null, session_id text not null, title text not null,
     language text not null, audience text not null, latest_version integer not null, created_by text not null,
     created_at timestamptz not null default now(), updated_at timestamptz not null default now())`,
  `create index documents_session on documents (event_id, session_id, created_at, document_id)`,
  `create table document_versions (document_id text not null references documents, version integer not null, event_id text not null,
     session_id text not null, kind text not null, content_type text, storage_key text unique, size_bytes bigint, sha256 text, url text,
     created_by text not null, created_at timestamptz not null default now(), primary key (document_id, version))`,
  `create table document_focus (event_id text not null, session_id text not null, document_id text references documents,
     set_by text not null, set_at timestamptz not null default now(), primary key (event_id, session_id))`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

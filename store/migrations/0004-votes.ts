import { sql, type Kysely } from 'kysely';

// Votes by entity (issue 14). One row per entity and vote in `vote_casts`, so the primary key is the rule
// "one vote per entity". A secret ballot's choice is never in that row: it is sealed (AES-GCM, a key from the
// environment) in `vote_ballots`, which has no entity, no person and no time, and is emptied when the vote is
// counted. Designations name who casts an entity's vote besides its head of delegation.
const statements = [
  `create table votes (vote_id text primary key, event_id text not null, session_id text not null, kind text not null,
     definition jsonb not null, status text not null, opened_by text not null, opened_at timestamptz not null default now(),
     closes_at timestamptz, closed_at timestamptz, result jsonb)`,
  `create index votes_session on votes (session_id, opened_at)`,
  `create unique index votes_one_open on votes (session_id) where status = 'open'`,
  `create table vote_casts (vote_id text not null references votes, entity text not null, entity_type text not null,
     cast_by text not null, choice jsonb, cast_at timestamptz not null default now(), primary key (vote_id, entity))`,
  `create table vote_ballots (ballot_id text primary key, vote_id text not null references votes, sealed text not null)`,
  `create index vote_ballots_vote on vote_ballots (vote_id)`,
  `create table vote_designations (event_id text not null, entity text not null, person_id text not null,
     designated_by text not null, primary key (event_id, entity))`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

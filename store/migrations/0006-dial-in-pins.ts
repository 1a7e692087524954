import { sql, type Kysely } from 'kysely';

// Phone dial-in (issue 15). A person's dial-in PIN for an event is stored only as a keyed hash (HMAC-SHA256
// under a server secret, accreditation/dial-in/pin-hasher.ts), so a caller's PIN can be looked up by its hash
// without the database ever holding it. One PIN per (event, person), and a hash is unique within its event,
// so a PIN names one person. A session's dial-in number (its rules' `dialIn.number`) is unique on the server:
// the partial index settles two nodes writing the same number at once.
const statements = [
  `create table dial_in_pins (event_id text not null, person_id text not null, pin_hash text not null,
     issued_at timestamptz not null default now(), issued_by text not null, primary key (event_id, person_id))`,
  `create unique index dial_in_pins_hash on dial_in_pins (event_id, pin_hash)`,
  `create unique index sessions_dial_in_number on sessions ((rules->'dialIn'->>'number')) where (rules->'dialIn'->>'number') is not null`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

import { sql, type Kysely } from 'kysely';

// The embedded registry on the database: when a status last changed (a CSV import that started before a
// revocation must not undo it), and sign-ins by e-mail across events (the unique index leads with the event).
const statements = [
  `alter table registrations add column status_changed_at timestamptz`,
  `create index registrations_email_any_event on registrations (email)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

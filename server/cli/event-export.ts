// The records of one event, table by table, each read in pages by its key (keyset pagination): a table of any
// size streams through in bounded memory. Registrations leave without their access-code hashes.
import { sql, type Transaction } from 'kysely';
import type { Row, Schema } from '../../store/schema.js';

const PAGE = 1000;

type Tx = Transaction<Schema>;
type Rows = AsyncGenerator<Record<string, unknown>>;

/** Pages through a query ordered by its key: `next(last)` fetches the page after the last row seen. */
async function* keyset<R extends Record<string, unknown>>(next: (last: R | undefined) => Promise<R[]>): AsyncGenerator<R> {
  let last: R | undefined;
  for (;;) {
    const rows = await next(last);
    yield* rows;
    if (rows.length < PAGE) return;
    last = rows.at(-1);
  }
}

const sessionsOf = (tx: Tx, eventId: string) => tx.selectFrom('sessions').select('session_id').where('event_id', '=', eventId);

/** The tables of an export, in the order they are written; each yields the event's rows. */
export const exportTables: Record<string, (tx: Tx, eventId: string) => Rows> = {
  events: (tx, eventId) => keyset(async (last) => (last ? [] : tx.selectFrom('events').selectAll().where('event_id', '=', eventId).execute())),
  meetings: (tx, eventId) =>
    keyset<Row<'meetings'>>((last) => {
      let q = tx.selectFrom('meetings').selectAll().where('event_id', '=', eventId);
      if (last) q = q.where('meeting_id', '>', last.meeting_id);
      return q.orderBy('meeting_id').limit(PAGE).execute();
    }),
  sessions: (tx, eventId) =>
    keyset<Row<'sessions'>>((last) => {
      let q = tx.selectFrom('sessions').selectAll().where('event_id', '=', eventId);
      if (last) q = q.where('session_id', '>', last.session_id);
      return q.orderBy('session_id').limit(PAGE).execute();
    }),
  registrations: (tx, eventId) =>
    keyset<{ person_id: string } & Record<string, unknown>>((last) => {
      let q = tx
        .selectFrom('registrations')
        .select(['event_id', 'person_id', 'email', 'registration', 'status', 'administrator', 'updated_at'])
        .select(sql<boolean>`access_code_hash is not null`.as('has_access_code'))
        .where('event_id', '=', eventId);
      if (last) q = q.where('person_id', '>', last.person_id);
      return q.orderBy('person_id').limit(PAGE).execute();
    }),
  audit: (tx, eventId) =>
    keyset<Row<'audit'>>((last) => {
      let q = tx.selectFrom('audit').selectAll().where('event_id', '=', eventId);
      if (last) q = q.where('id', '>', last.id);
      return q.orderBy('id').limit(PAGE).execute();
    }),
  attendance: (tx, eventId) =>
    keyset<Row<'attendance'>>((last) => {
      let q = tx.selectFrom('attendance').selectAll().where('event_id', '=', eventId);
      if (last) q = q.where('id', '>', last.id);
      return q.orderBy('id').limit(PAGE).execute();
    }),
  floor_state: (tx, eventId) =>
    keyset<Row<'floor_state'>>((last) => {
      let q = tx.selectFrom('floor_state').selectAll().where('session_id', 'in', sessionsOf(tx, eventId));
      if (last) q = q.where('session_id', '>', last.session_id);
      return q.orderBy('session_id').limit(PAGE).execute();
    }),
  transcripts: (tx, eventId) =>
    keyset<Row<'transcripts'>>((last) => {
      let q = tx.selectFrom('transcripts').selectAll().where('session_id', 'in', sessionsOf(tx, eventId));
      if (last) q = q.where('id', '>', last.id);
      return q.orderBy('id').limit(PAGE).execute();
    }),
  // A room is named by its session.
  removals: (tx, eventId) =>
    keyset<Row<'removals'>>((last) => {
      let q = tx.selectFrom('removals').selectAll().where('room_id', 'in', sessionsOf(tx, eventId));
      if (last) q = q.where(({ eb, refTuple, tuple }) => eb(refTuple('room_id', 'person_id'), '>', tuple(last.room_id, last.person_id)));
      return q.orderBy('room_id').orderBy('person_id').limit(PAGE).execute();
    }),
  // Outbox bodies are `{ id, type, at, data }`; data names the session (and may name the event).
  webhook_outbox: (tx, eventId) =>
    keyset<Row<'webhook_outbox'>>((last) => {
      let q = tx
        .selectFrom('webhook_outbox')
        .selectAll()
        .where((eb) =>
          eb.or([
            eb(sql<string>`(body::jsonb) #>> '{data,sessionId}'`, 'in', sessionsOf(tx, eventId)),
            eb(sql<string>`(body::jsonb) #>> '{data,eventId}'`, '=', eventId),
          ]),
        );
      if (last) q = q.where('id', '>', last.id);
      return q.orderBy('id').limit(PAGE).execute();
    }),
};

/** Whether the database knows the event at all: an event row, or registrations under its id. */
export async function eventKnown(tx: Tx, eventId: string): Promise<boolean> {
  const event = await tx.selectFrom('events').select('event_id').where('event_id', '=', eventId).executeTakeFirst();
  if (event) return true;
  return (await tx.selectFrom('registrations').select('person_id').where('event_id', '=', eventId).limit(1).executeTakeFirst()) !== undefined;
}

import { sql } from 'kysely';
import type { Db } from '../../store/open-store.js';
import { generatePin, PIN_PATTERN, type DialInPinHasher } from './pin-hasher.js';

/** That a person has a dial-in PIN for an event, and since when: never the PIN. */
export interface DialInPinStatus {
  eventId: string;
  personId: string;
  issuedAt: Date;
  /** The secretariat's person id, or 'admin-api-key'. */
  issuedBy: string;
}

/** A PIN just issued: the only moment it is known. */
export interface IssuedDialInPin extends DialInPinStatus {
  pin: string;
}

const UNIQUE_VIOLATION = '23505';
const HASH_INDEX = 'dial_in_pins_hash';
/** Fresh draws before giving up on a PIN no other person of the event holds (each collides at most 1 in 10^5 of the time). */
const ISSUE_ATTEMPTS = 8;

const statusOf = (r: { event_id: string; person_id: string; issued_at: Date | string; issued_by: string }): DialInPinStatus => ({
  eventId: r.event_id,
  personId: r.person_id,
  issuedAt: new Date(r.issued_at),
  issuedBy: r.issued_by,
});

/**
 * Personal dial-in PINs in the system of record (`dial_in_pins`): one per (event, person), stored as a keyed
 * hash that is unique within the event, so a keyed PIN names exactly one person. Issuing again replaces the
 * person's PIN; revoking deletes it.
 */
export class DialInPinStore {
  constructor(
    private readonly db: Db,
    private readonly hasher: DialInPinHasher,
    /** Digits of a newly issued PIN; PINs issued at another length keep working. */
    readonly pinLength: number,
  ) {}

  /** A fresh PIN for the person, replacing theirs; returned once, stored only hashed. */
  async issue(eventId: string, personId: string, issuedBy: string): Promise<IssuedDialInPin> {
    for (let attempt = 1; ; attempt++) {
      const pin = generatePin(this.pinLength);
      try {
        const row = await this.db
          .insertInto('dial_in_pins')
          .values({ event_id: eventId, person_id: personId, pin_hash: this.hasher.digest(eventId, pin), issued_by: issuedBy })
          .onConflict((oc) =>
            oc.columns(['event_id', 'person_id']).doUpdateSet((eb) => ({
              pin_hash: eb.ref('excluded.pin_hash'),
              issued_by: eb.ref('excluded.issued_by'),
              issued_at: sql<Date>`now()`,
            })),
          )
          .returning(['event_id', 'person_id', 'issued_at', 'issued_by'])
          .executeTakeFirstOrThrow();
        return { ...statusOf(row), pin };
      } catch (error) {
        // Another person of the event holds this PIN: draw again.
        const e = error as { code?: unknown; constraint?: unknown };
        if (e.code !== UNIQUE_VIOLATION || e.constraint !== HASH_INDEX || attempt >= ISSUE_ATTEMPTS) throw error;
      }
    }
  }

  /** Deletes the person's PIN; false when they had none. */
  async revoke(eventId: string, personId: string): Promise<boolean> {
    const deleted = await this.db.deleteFrom('dial_in_pins').where('event_id', '=', eventId).where('person_id', '=', personId).returning('person_id').executeTakeFirst();
    return deleted !== undefined;
  }

  async status(eventId: string, personId: string): Promise<DialInPinStatus | undefined> {
    const row = await this.db
      .selectFrom('dial_in_pins')
      .select(['event_id', 'person_id', 'issued_at', 'issued_by'])
      .where('event_id', '=', eventId)
      .where('person_id', '=', personId)
      .executeTakeFirst();
    return row ? statusOf(row) : undefined;
  }

  /** Everyone of the event who has a PIN, by person id. */
  async list(eventId: string): Promise<DialInPinStatus[]> {
    const rows = await this.db.selectFrom('dial_in_pins').select(['event_id', 'person_id', 'issued_at', 'issued_by']).where('event_id', '=', eventId).orderBy('person_id').execute();
    return rows.map(statusOf);
  }

  /** The person whose PIN this is in the event; undefined for a wrong, revoked or replaced PIN (or not a PIN at all). */
  async personOf(eventId: string, pin: string): Promise<string | undefined> {
    if (!PIN_PATTERN.test(pin)) return undefined;
    const row = await this.db
      .selectFrom('dial_in_pins')
      .select('person_id')
      .where('event_id', '=', eventId)
      .where('pin_hash', '=', this.hasher.digest(eventId, pin))
      .executeTakeFirst();
    return row?.person_id;
  }
}

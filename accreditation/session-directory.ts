import { EventEmitter } from 'node:events';
import { sql, type Transaction } from 'kysely';
import { z } from 'zod';
import type { Db } from '../store/open-store.js';
import { json, type Schema } from '../store/schema.js';
import { claimFirstStartStep, FirstStartStep, lockFirstStart } from './first-start.js';
import { sessionRules, type SessionRules, type SessionRulesInput } from './model.js';

export const meeting = z.object({ meetingId: z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/), eventId: z.string(), title: z.string().min(1).max(200) });
export type Meeting = z.infer<typeof meeting>;

/** A session id is unique across events and belongs to the event that created it. */
export class SessionOfOtherEventError extends Error {
  constructor(readonly sessionId: string) {
    super(`session ${sessionId} belongs to another event`);
    this.name = 'SessionOfOtherEventError';
  }
}

/** Another session already has this dial-in number: the PBX must route each number to one session. */
export class DialInNumberInUseError extends Error {
  constructor(readonly number: string) {
    super(`the dial-in number ${number} belongs to another session`);
    this.name = 'DialInNumberInUseError';
  }
}

/** The unique index (migration 0006) that gives a dial-in number to one session. */
const DIAL_IN_NUMBER_INDEX = 'sessions_dial_in_number';

export interface EventInfo {
  eventId: string;
  title: string;
}

export interface SessionSeed {
  events: EventInfo[];
  sessions: SessionRulesInput[];
}

type SessionDirectoryEvents = {
  /** A session this node knows changed: written through this node, or re-read after another node wrote it. */
  changed: [rules: SessionRules, previous: SessionRules | undefined];
};

interface Copy {
  rules: SessionRules;
  /** The row's revision when read: a copy is replaced only by a newer one. */
  revision: number;
}

/**
 * Events, meetings and sessions with their rules, in the system of record (`events`, `meetings`, `sessions`).
 * The join path and the rooms read them on every decision, so each node keeps a copy in memory, loaded at
 * start, read synchronously. Writes go to the database first, then to the copy. Another node's writes reach
 * the copy through `reload` (one session) or `reloadAll` (after missed change messages), which the bus calls.
 */
export class SessionDirectory extends EventEmitter<SessionDirectoryEvents> {
  private readonly sessions = new Map<string, Copy>();
  private eventsById = new Map<string, EventInfo>();
  private meetingList: Meeting[] = [];

  private constructor(private readonly db: Db) {
    super();
  }

  /**
   * Loads the directory; seeds it first when the database has never been (by one node only, however many
   * start at once).
   */
  static async open(db: Db, seed?: () => SessionSeed): Promise<SessionDirectory> {
    if (seed) await applySeed(db, seed);
    const directory = new SessionDirectory(db);
    await directory.reloadAll();
    return directory;
  }

  get(sessionId: string): SessionRules | undefined {
    return this.sessions.get(sessionId)?.rules;
  }

  /** The session the PBX routes this dial-in number to. */
  byDialInNumber(number: string): SessionRules | undefined {
    for (const { rules } of this.sessions.values()) if (rules.dialIn?.number === number) return rules;
    return undefined;
  }

  list(eventId?: string): SessionRules[] {
    return [...this.sessions.values()].map((c) => c.rules).filter((s) => !eventId || s.eventId === eventId);
  }

  events(): EventInfo[] {
    return [...this.eventsById.values()];
  }

  event(eventId: string): EventInfo | undefined {
    return this.eventsById.get(eventId);
  }

  meetings(eventId: string): Meeting[] {
    return this.meetingList.filter((m) => m.eventId === eventId);
  }

  async upsertMeeting(input: Meeting): Promise<Meeting> {
    const m = meeting.parse(input);
    const event = await this.db.transaction().execute(async (tx) => {
      const e = await ensureEvent(tx, m.eventId);
      await tx
        .insertInto('meetings')
        .values({ event_id: m.eventId, meeting_id: m.meetingId, title: m.title })
        .onConflict((oc) => oc.columns(['event_id', 'meeting_id']).doUpdateSet((eb) => ({ title: eb.ref('excluded.title') })))
        .execute();
      return e;
    });
    this.eventsById.set(event.eventId, event);
    const i = this.meetingList.findIndex((x) => x.meetingId === m.meetingId && x.eventId === m.eventId);
    if (i >= 0) this.meetingList[i] = m;
    else this.meetingList.push(m);
    return m;
  }

  /**
   * Creates or replaces a session; its revision grows by one. A session id of another event is refused, and a
   * dial-in number of another session (DialInNumberInUseError).
   */
  async upsert(input: SessionRulesInput): Promise<SessionRules> {
    const rules = sessionRules.parse(input);
    const { event, row } = await this.db.transaction().execute(async (tx) => {
      const e = await ensureEvent(tx, rules.eventId);
      const saved = await tx
        .insertInto('sessions')
        .values({ session_id: rules.sessionId, event_id: rules.eventId, rules: json(rules), status: rules.status, revision: 1 })
        .onConflict((oc) =>
          oc
            .column('session_id')
            .doUpdateSet((eb) => ({
              rules: eb.ref('excluded.rules'),
              status: eb.ref('excluded.status'),
              revision: sql<number>`sessions.revision + 1`,
              updated_at: sql<Date>`now()`,
            }))
            // Moving a session to another event would hand its room to that event's people.
            .where((eb) => eb('sessions.event_id', '=', eb.ref('excluded.event_id'))),
        )
        .returning(['rules', 'revision'])
        .executeTakeFirst();
      if (!saved) throw new SessionOfOtherEventError(rules.sessionId);
      return { event: e, row: saved };
    }).catch((error: unknown) => {
      const e = error as { code?: unknown; constraint?: unknown };
      if (rules.dialIn && e.code === '23505' && e.constraint === DIAL_IN_NUMBER_INDEX) throw new DialInNumberInUseError(rules.dialIn.number);
      throw error;
    });
    this.eventsById.set(event.eventId, event);
    return this.apply(sessionRules.parse(row.rules), row.revision);
  }

  /** Re-reads one session (another node changed it); the copy follows, and `changed` fires if it did change. */
  async reload(sessionId: string): Promise<SessionRules | undefined> {
    const row = await this.db.selectFrom('sessions').select(['rules', 'revision', 'event_id']).where('session_id', '=', sessionId).executeTakeFirst();
    if (!row) {
      this.sessions.delete(sessionId);
      return undefined;
    }
    if (!this.eventsById.has(row.event_id)) {
      const event = await this.db.selectFrom('events').select(['event_id', 'title']).where('event_id', '=', row.event_id).executeTakeFirst();
      if (event) this.eventsById.set(event.event_id, { eventId: event.event_id, title: event.title });
    }
    return this.apply(sessionRules.parse(row.rules), row.revision);
  }

  /** Re-reads everything (a node that missed change messages); `changed` fires for each session that changed. */
  async reloadAll(): Promise<void> {
    const [events, meetings, sessions] = await Promise.all([
      this.db.selectFrom('events').select(['event_id', 'title']).orderBy('created_at').orderBy('event_id').execute(),
      this.db.selectFrom('meetings').select(['event_id', 'meeting_id', 'title']).orderBy('event_id').orderBy('meeting_id').execute(),
      this.db.selectFrom('sessions').select(['session_id', 'rules', 'revision']).orderBy('session_id').execute(),
    ]);
    this.eventsById = new Map(events.map((e) => [e.event_id, { eventId: e.event_id, title: e.title }]));
    this.meetingList = meetings.map((m) => ({ eventId: m.event_id, meetingId: m.meeting_id, title: m.title }));
    const present = new Set(sessions.map((s) => s.session_id));
    for (const id of this.sessions.keys()) if (!present.has(id)) this.sessions.delete(id);
    for (const s of sessions) this.apply(sessionRules.parse(s.rules), s.revision);
  }

  /** Takes a read or written row unless the copy is already as new; returns the copy's rules. */
  private apply(rules: SessionRules, revision: number): SessionRules {
    const current = this.sessions.get(rules.sessionId);
    if (current && current.revision >= revision) return current.rules;
    this.sessions.set(rules.sessionId, { rules, revision });
    this.emit('changed', rules, current?.rules);
    return rules;
  }
}

/** The event, created (titled with its id) if this is its first session or meeting. */
async function ensureEvent(tx: Transaction<Schema>, eventId: string): Promise<EventInfo> {
  await tx.insertInto('events').values({ event_id: eventId, title: eventId }).onConflict((oc) => oc.column('event_id').doNothing()).execute();
  const row = await tx.selectFrom('events').select(['event_id', 'title']).where('event_id', '=', eventId).executeTakeFirstOrThrow();
  return { eventId: row.event_id, title: row.title };
}

/** The first start's events and sessions, written once whichever node gets there first. */
async function applySeed(db: Db, seed: () => SessionSeed): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await lockFirstStart(tx);
    if (!(await claimFirstStartStep(tx, FirstStartStep.sessionsSeeded))) return;
    const s = seed();
    if (s.events.length > 0) {
      await tx
        .insertInto('events')
        .values(s.events.map((e) => ({ event_id: e.eventId, title: e.title })))
        .onConflict((oc) => oc.column('event_id').doNothing())
        .execute();
    }
    const sessions = s.sessions.map((x) => sessionRules.parse(x));
    for (const rules of sessions) await ensureEvent(tx, rules.eventId);
    if (sessions.length > 0) {
      await tx
        .insertInto('sessions')
        .values(sessions.map((r) => ({ session_id: r.sessionId, event_id: r.eventId, rules: json(r), status: r.status, revision: 1 })))
        .onConflict((oc) => oc.column('session_id').doNothing())
        .execute();
    }
  });
}

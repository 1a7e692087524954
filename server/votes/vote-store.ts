// Votes in the system of record. Every node reads and writes the same rows, so a reconnecting delegate finds
// their entity's vote, and a node that takes a room over after a failover finds the open vote and every cast.
import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Db } from '../../store/open-store.js';
import { json, type Schema } from '../../store/schema.js';
import type { OwnerWrites } from '../cluster/owner-writes.js';
import { longestBallot, type BallotSeal } from './ballot-seal.js';
import { countRecorded, countSecret } from './tally.js';
import type { Ballot, EntityVote, Position, VoteDefinition, VoteResult } from './vote-model.js';

export interface VoteRecord {
  voteId: string;
  eventId: string;
  sessionId: string;
  definition: VoteDefinition;
  status: 'open' | 'closed';
  openedBy: string;
  openedAt: Date;
  closesAt: Date | null;
  closedAt: Date | null;
  result: VoteResult | null;
}

export interface CastInput {
  vote: VoteRecord;
  entity: string;
  entityType: string;
  /** The person who cast it (head of delegation or designated voter). */
  castBy: string;
  ballot: Ballot;
}

/** A session already has an open vote: one at a time. */
export class VoteAlreadyOpenError extends Error {}

type VoteRow = {
  vote_id: string;
  event_id: string;
  session_id: string;
  definition: unknown;
  status: string;
  opened_by: string;
  opened_at: Date;
  closes_at: Date | null;
  closed_at: Date | null;
  result: unknown;
};

const toRecord = (r: VoteRow): VoteRecord => ({
  voteId: r.vote_id,
  eventId: r.event_id,
  sessionId: r.session_id,
  definition: r.definition as VoteDefinition,
  status: r.status === 'open' ? 'open' : 'closed',
  openedBy: r.opened_by,
  openedAt: new Date(r.opened_at),
  closesAt: r.closes_at ? new Date(r.closes_at) : null,
  closedAt: r.closed_at ? new Date(r.closed_at) : null,
  result: (r.result as VoteResult | null) ?? null,
});

const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === '23505';

export class VoteStore {
  constructor(
    private readonly db: Db,
    private readonly seal: BallotSeal,
    /**
     * The room owner's fenced writes (server/cluster/owner-writes.ts): a vote is opened, cast, passed and closed
     * only by the node holding the room, so a node that lost the room cannot close or count a vote the new owner
     * runs. Without it (tools, tests), plain transactions.
     */
    private readonly writes?: OwnerWrites,
  ) {}

  /** One transaction for a room's vote, fenced by this node's epoch for the room when the store has owner writes. */
  private write<T>(sessionId: string, work: (tx: Transaction<Schema>) => Promise<T>): Promise<T> {
    return this.writes ? this.writes.write(sessionId, (tx) => work(tx)) : this.db.transaction().execute(work);
  }

  async open(input: { eventId: string; sessionId: string; openedBy: string; definition: VoteDefinition }): Promise<VoteRecord> {
    const closesAt = new Date(Date.now() + input.definition.durationSeconds * 1000);
    try {
      const row = await this.write(input.sessionId, (tx) =>
        tx
        .insertInto('votes')
        .values({
          vote_id: randomUUID(),
          event_id: input.eventId,
          session_id: input.sessionId,
          kind: input.definition.kind,
          definition: json(input.definition),
          status: 'open',
          opened_by: input.openedBy,
          closes_at: closesAt,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
      );
      return toRecord(row);
    } catch (error) {
      // The partial unique index: one open vote per session, whichever node tried.
      if (isUniqueViolation(error)) throw new VoteAlreadyOpenError('a vote is already open in this session');
      throw error;
    }
  }

  /** The vote, if it belongs to this event and session: an id from elsewhere finds nothing. */
  async get(eventId: string, sessionId: string, voteId: string): Promise<VoteRecord | undefined> {
    const row = await this.db.selectFrom('votes').selectAll().where('vote_id', '=', voteId).where('event_id', '=', eventId).where('session_id', '=', sessionId).executeTakeFirst();
    return row && toRecord(row);
  }

  async openIn(sessionId: string): Promise<VoteRecord | undefined> {
    const row = await this.db.selectFrom('votes').selectAll().where('session_id', '=', sessionId).where('status', '=', 'open').executeTakeFirst();
    return row && toRecord(row);
  }

  /** The session's most recent vote, open or closed. */
  async latestIn(sessionId: string): Promise<VoteRecord | undefined> {
    const row = await this.db.selectFrom('votes').selectAll().where('session_id', '=', sessionId).orderBy('opened_at', 'desc').limit(1).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async list(eventId: string, sessionId: string): Promise<VoteRecord[]> {
    const rows = await this.db.selectFrom('votes').selectAll().where('event_id', '=', eventId).where('session_id', '=', sessionId).orderBy('opened_at', 'desc').execute();
    return rows.map(toRecord);
  }

  /**
   * Casts an entity's vote. 'already' when the entity has voted: the primary key (vote, entity) decides, so two
   * nodes or two delegates of one entity cannot both get in. A secret ballot's choice goes sealed into a table
   * that names no entity; the cast row records only that the entity voted.
   */
  async cast(input: CastInput): Promise<'cast' | 'already'> {
    const { vote } = input;
    const secret = vote.definition.kind === 'secret';
    try {
      await this.write(vote.sessionId, async (tx) => {
        await tx
          .insertInto('vote_casts')
          .values({ vote_id: vote.voteId, entity: input.entity, entity_type: input.entityType, cast_by: input.castBy, choice: secret ? null : json(input.ballot) })
          .execute();
        if (secret) {
          const padTo = longestBallot(vote.definition.candidates ?? [], vote.definition.seats ?? 1);
          await tx.insertInto('vote_ballots').values({ ballot_id: randomUUID(), vote_id: vote.voteId, sealed: this.seal.seal(vote.voteId, input.ballot, padTo) }).execute();
        }
      });
      return 'cast';
    } catch (error) {
      if (isUniqueViolation(error)) return 'already';
      throw error;
    }
  }

  async castCount(voteId: string): Promise<number> {
    const row = await this.db.selectFrom('vote_casts').select((eb) => eb.fn.countAll<number>().as('n')).where('vote_id', '=', voteId).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Entities that have voted (a roll-call's caller needs them; for a secret ballot, who voted is public). */
  async votedEntities(voteId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('vote_casts').select('entity').where('vote_id', '=', voteId).execute();
    return rows.map((r) => r.entity);
  }

  /** Whether the entity has voted, and its position when the vote is not secret. */
  async castOf(voteId: string, entity: string): Promise<{ position?: Position; castAt: Date } | undefined> {
    const row = await this.db.selectFrom('vote_casts').select(['choice', 'cast_at']).where('vote_id', '=', voteId).where('entity', '=', entity).executeTakeFirst();
    if (!row) return undefined;
    const choice = row.choice as { position?: Position } | null;
    return { position: choice?.position, castAt: new Date(row.cast_at) };
  }

  /**
   * Closes and counts, once: the vote's row is locked, so a timer on one node and the chair on another
   * cannot both count. A secret ballot's sealed ballots are opened, counted and deleted in the same
   * transaction; only the totals remain.
   */
  async close(sessionId: string, voteId: string, entitled: readonly string[]): Promise<VoteRecord> {
    return this.write(sessionId, async (tx) => {
      const row = await tx.selectFrom('votes').selectAll().where('vote_id', '=', voteId).forUpdate().executeTakeFirstOrThrow();
      const vote = toRecord(row);
      if (vote.status === 'closed') return vote;
      let result: VoteResult;
      if (vote.definition.kind === 'secret') {
        const sealed = await tx.selectFrom('vote_ballots').select('sealed').where('vote_id', '=', voteId).execute();
        const ballots = sealed.map((s) => this.seal.open(voteId, s.sealed));
        // A ballot that does not open (another secret) is a configuration fault, not a vote to drop quietly.
        if (ballots.some((b) => b === undefined)) throw new Error(`vote ${voteId}: a sealed ballot does not open with this node's ballot secret`);
        result = countSecret(vote.definition, ballots as Ballot[]);
        await tx.deleteFrom('vote_ballots').where('vote_id', '=', voteId).execute();
      } else {
        const casts = await tx.selectFrom('vote_casts').select(['entity', 'entity_type', 'choice']).where('vote_id', '=', voteId).execute();
        const votes: EntityVote[] = casts.map((c) => ({ entity: c.entity, entityType: c.entity_type, position: (c.choice as { position: Position }).position }));
        result = countRecorded(vote.definition, votes, entitled);
      }
      const closedAt = new Date();
      await tx.updateTable('votes').set({ status: 'closed', closed_at: closedAt, result: json(result) }).where('vote_id', '=', voteId).execute();
      return { ...vote, status: 'closed', closedAt, result };
    });
  }

  /** Records a roll-call's pass: the entity is called again after the others (twice passed: not voting). */
  async pass(sessionId: string, voteId: string, entity: string): Promise<void> {
    await this.write(sessionId, (tx) =>
      sql`update votes set definition = jsonb_set(definition, '{passes}', coalesce(definition->'passes', '{}'::jsonb) || jsonb_build_object(${entity}::text, coalesce((definition->'passes'->>${entity})::int, 0) + 1))
      where vote_id = ${voteId} and status = 'open'`.execute(tx),
    );
  }

  async designate(eventId: string, entity: string, personId: string, by: string): Promise<void> {
    await this.db
      .insertInto('vote_designations')
      .values({ event_id: eventId, entity, person_id: personId, designated_by: by })
      .onConflict((oc) => oc.columns(['event_id', 'entity']).doUpdateSet({ person_id: personId, designated_by: by }))
      .execute();
  }

  /** Every designation of the event, entity → person (one query when a vote opens, however many are present). */
  async designations(eventId: string): Promise<Map<string, string>> {
    const rows = await this.db.selectFrom('vote_designations').select(['entity', 'person_id']).where('event_id', '=', eventId).execute();
    return new Map(rows.map((r) => [r.entity, r.person_id]));
  }

  async designated(eventId: string, entity: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('vote_designations').select('person_id').where('event_id', '=', eventId).where('entity', '=', entity).executeTakeFirst();
    return row?.person_id;
  }
}

import { sql } from 'kysely';
import type { ListenerCensus } from '../../protocol/signaling.js';
import type { Db } from '../../store/open-store.js';
import type { Logger } from '../logger.js';
import type { Room } from '../rooms/room.js';

/** Entities named in a census; the rest are one number, so the message stays small with any audience. */
export const CENSUS_TOP_ENTITIES = 20;

export type ListenerCount = Omit<ListenerCensus, 'at'>;

/**
 * A session's listeners on edge nodes now (open `listener` intervals, each person once), in one aggregate
 * query whose answer has at most `top` rows plus one per entity type, however many listeners there are.
 */
export async function countEdgeListeners(db: Db, sessionId: string, top = CENSUS_TOP_ENTITIES): Promise<ListenerCount> {
  // The same text in SELECT and GROUP BY (a literal, not a parameter), so PostgreSQL sees one expression.
  const listed = sql<string | null>`case when pos <= ${sql.lit(top)} then entity end`;
  const rows = await db
    .with('counted', (qb) =>
      qb
        .selectFrom('attendance')
        .select(['entity', 'entity_type', sql<string>`count(distinct person_id)`.as('people')])
        .where('session_id', '=', sessionId)
        .where('presence', '=', 'listener')
        .where('left_at', 'is', null)
        .groupBy(['entity', 'entity_type']),
    )
    .with('ranked', (qb) =>
      qb
        .selectFrom('counted')
        .select(['entity', 'entity_type', 'people', sql<string>`row_number() over (order by people desc, entity, entity_type)`.as('pos'), sql<string>`count(*) over ()`.as('entities')]),
    )
    .selectFrom('ranked')
    .select([listed.as('entity'), 'entity_type', sql<string>`sum(people)`.as('people'), sql<string>`max(entities)`.as('entities')])
    .groupBy([listed, 'entity_type'])
    .execute();
  const out: ListenerCount = { total: 0, byEntityType: {}, byEntity: [], others: 0, entities: 0 };
  for (const r of rows) {
    const n = Number(r.people);
    out.total += n;
    out.entities = Math.max(out.entities, Number(r.entities));
    out.byEntityType[r.entity_type] = (out.byEntityType[r.entity_type] ?? 0) + n;
    if (r.entity === null) out.others += n;
    else out.byEntity.push({ entity: r.entity, entityType: r.entity_type, count: n });
  }
  out.byEntity.sort((a, b) => b.count - a.count || a.entity.localeCompare(b.entity));
  return out;
}

/**
 * The secretariat's live count of a room's listeners on edge nodes, on the room's owner. Edge listeners
 * are recorded by the edges in the database, so the owner counts them there: every `intervalMs` while a
 * moderator is present, and right away when one joins. Moderators are told only when the count changed:
 * thousands of listeners joining cost one small `listeners` message (and a `quorum` notice when the total
 * moved) per interval, never one per listener.
 */
export class EdgeListenerCensus {
  /** Counts under way, awaited before the store closes. */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  /** Follows a room served here (its owner's room, a session of record) until it closes. */
  watch(room: Room): void {
    let counting = false;
    let last: string | undefined;
    let failing = false;
    const count = (): void => {
      if (counting || room.closed || !hasModerator(room)) return;
      counting = true;
      const done = countEdgeListeners(this.db, room.id)
        .then((counted) => {
          failing = false;
          const key = JSON.stringify(counted);
          if (room.closed || key === last) return;
          last = key;
          const totalMoved = room.listenersElsewhere?.total !== counted.total;
          room.listenersElsewhere = { ...counted, at: Date.now() };
          room.notifyModerators('listeners', room.listenersElsewhere);
          if (totalMoved) room.quorumChanged();
        })
        .catch((error: unknown) => {
          // Once per outage: the next interval tries again.
          if (!failing) this.log.warn({ err: (error as Error).message, room: room.id }, 'edge listeners not counted');
          failing = true;
        })
        .finally(() => {
          counting = false;
          this.pending.delete(done);
        });
      this.pending.add(done);
    };
    const timer = setInterval(count, this.intervalMs);
    timer.unref();
    room.on('participantjoined', (p) => {
      if (!p.grants.moderate) return;
      // The latest count at once (a moderator joining late), then a fresh one if it moved meanwhile.
      if (room.listenersElsewhere) p.notify('listeners', room.listenersElsewhere);
      count();
    });
    room.once('close', () => clearInterval(timer));
  }

  /** Resolves once the counts under way have finished: before the store closes. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}

function hasModerator(room: Room): boolean {
  for (const p of room.participants.values()) if (p.grants.moderate) return true;
  return false;
}

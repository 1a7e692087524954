import { sql } from 'kysely';
import { formatCsv } from '../../accreditation/csv.js';
import type { Db } from '../../store/open-store.js';
import type { RoomEpoch } from '../../store/room-fence.js';
import type { Row } from '../../store/schema.js';
import type { OwnerWrites } from '../cluster/owner-writes.js';
import { listensOnly } from '../cascade/edge-policy.js';
import type { Logger } from '../logger.js';
import type { Room } from '../rooms/room.js';

export type Presence = 'participant' | 'listener';
/** `imported-open`: an interval a file-based version left open (it crashed), closed at its file's last mark. */
export type ClosedBy = 'leave' | 'shutdown' | 'takeover' | 'imported-open';

/** Who is present, on behalf of which entity. */
export interface Attendee {
  eventId: string;
  personId: string;
  name: string;
  entity: string;
  entityType: string;
  role: string;
}

export interface AttendanceInterval {
  personId: string;
  name: string;
  entity: string;
  entityType: string;
  role: string;
  presence: Presence;
  from: string;
  /** Absent while still present. */
  to?: string;
  closedBy?: ClosedBy;
}

export interface AttendancePage {
  attendance: AttendanceInterval[];
  /** Pass back as `cursor` for the next page; absent on the last one. */
  nextCursor?: string;
}

/** Counts of people present now (open intervals), for a session with thousands of listeners on edges. */
export interface AttendanceSummary {
  participants: { byEntityType: Record<string, number>; total: number };
  listeners: { byEntity: Record<string, number>; byEntityType: Record<string, number>; total: number };
}

const CSV_PAGE = 5000;
const CSV_HEADER = ['personId', 'name', 'entity', 'entityType', 'role', 'from', 'to'];

/**
 * Attendance intervals in the system of record: one row per interval, opened on join and closed on leave.
 * A room owner's rows are fenced by its epoch; a node that takes a room over closes the open intervals of
 * earlier owners (`takeover`), so a room that moved after a crash keeps one continuous record. Listeners
 * served by edge nodes are recorded by those nodes (`presence = listener`), without the owner's fence.
 */
export class AttendanceLog {
  private readonly db: Db;
  /** Listener writes under way (the owner's are tracked by ConductService). */
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly owners: OwnerWrites) {
    this.db = owners.db;
  }

  /** This node's epoch for the room now; without a lease, StaleOwnerError (reported: the room is given up). */
  owner(roomId: string): RoomEpoch {
    return this.owners.owner(roomId);
  }

  /** Opens a participant's interval under the owner's epoch (closing earlier owners' open ones first); answers its id. */
  async open(owner: RoomEpoch, sessionId: string, who: Attendee): Promise<number> {
    return this.owners.write(owner, async (tx) => {
      await this.closeEarlierOwners(tx, owner, sessionId);
      const row = await tx
        .insertInto('attendance')
        .values({ ...columns(sessionId, who), presence: 'participant', node_id: owner.nodeId, epoch: owner.epoch, joined_at: new Date() })
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    });
  }

  /** Closes one interval (a leave), fenced by the owner's epoch. */
  async close(owner: RoomEpoch, id: number, closedBy: ClosedBy = 'leave'): Promise<void> {
    await this.owners.write(owner, (tx) => tx.updateTable('attendance').set({ left_at: new Date(), closed_by: closedBy }).where('id', '=', id).where('left_at', 'is', null).execute());
  }

  /** Closes every participant interval still open in the session up to this owner's epoch (a clean shutdown). */
  async closeOpen(owner: RoomEpoch, sessionId: string, closedBy: ClosedBy): Promise<number> {
    return this.owners.write(owner, async (tx) => {
      const result = await tx
        .updateTable('attendance')
        .set({ left_at: new Date(), closed_by: closedBy })
        .where('session_id', '=', sessionId)
        .where('presence', '=', 'participant')
        .where('left_at', 'is', null)
        .where('epoch', '<=', owner.epoch)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    });
  }

  /** The new owner's first write: the intervals earlier owners left open (a crash) end now. */
  async takeOver(owner: RoomEpoch, sessionId: string): Promise<number> {
    return this.owners.write(owner, (tx) => this.closeEarlierOwners(tx, owner, sessionId));
  }

  /**
   * A listener served by an edge node, written by that node. Not fenced by the room's epoch: the edge does
   * not own the room, and its listeners are its own to record; `epoch` keeps the origin's token it relays.
   */
  openListener(nodeId: string, originEpoch: number, sessionId: string, who: Attendee): Promise<number> {
    return this.held(async () => {
      const row = await this.db
        .insertInto('attendance')
        .values({ ...columns(sessionId, who), presence: 'listener', node_id: nodeId, epoch: originEpoch, joined_at: new Date() })
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    });
  }

  closeListener(id: number, closedBy: ClosedBy = 'leave'): Promise<void> {
    return this.held(async () => {
      await this.db.updateTable('attendance').set({ left_at: new Date(), closed_by: closedBy }).where('id', '=', id).where('presence', '=', 'listener').where('left_at', 'is', null).execute();
    });
  }

  /** Resolves once the listener writes under way have landed (or failed): before the store closes. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private held<T>(write: () => Promise<T>): Promise<T> {
    const p = write();
    const done = p.then(
      () => undefined,
      () => undefined,
    );
    this.pending.add(done);
    void done.then(() => this.pending.delete(done));
    return p;
  }

  /** One page of a session's intervals, oldest first. */
  async page(sessionId: string, options: { presence?: Presence; limit?: number; cursor?: string } = {}): Promise<AttendancePage> {
    const limit = options.limit ?? 1000;
    let query = this.db.selectFrom('attendance').selectAll().where('session_id', '=', sessionId).where('presence', '=', options.presence ?? 'participant');
    if (options.cursor) query = query.where('id', '>', Number(options.cursor));
    const rows = await query.orderBy('id').limit(limit + 1).execute();
    const more = rows.length > limit;
    const shown = more ? rows.slice(0, limit) : rows;
    return { attendance: shown.map(toInterval), ...(more ? { nextCursor: String(shown[shown.length - 1]!.id) } : {}) };
  }

  /** Every interval of a session (participants unless asked otherwise), read a page at a time. */
  async intervals(sessionId: string, presence: Presence = 'participant'): Promise<AttendanceInterval[]> {
    const out: AttendanceInterval[] = [];
    for await (const page of this.pages(sessionId, presence)) out.push(...page);
    return out;
  }

  /**
   * The session's intervals as CSV, one chunk per page read from the database: a session with thousands of
   * listeners is streamed, never held whole in memory. The first chunk starts with the header.
   */
  async *csv(sessionId: string, presence: Presence = 'participant'): AsyncGenerator<string> {
    let first = true;
    for await (const page of this.pages(sessionId, presence)) {
      const text = formatCsv(
        CSV_HEADER,
        page.map((r) => [r.personId, r.name, r.entity, r.entityType, r.role, r.from, r.to ?? '']),
      );
      // formatCsv always writes the header line; only the first chunk keeps it.
      yield first ? text : text.slice(text.indexOf('\r\n') + 2);
      first = false;
    }
    if (first) yield formatCsv(CSV_HEADER, []);
  }

  private async *pages(sessionId: string, presence: Presence): AsyncGenerator<AttendanceInterval[]> {
    let cursor: string | undefined;
    do {
      const page = await this.page(sessionId, { presence, limit: CSV_PAGE, cursor });
      if (page.attendance.length > 0) yield page.attendance;
      cursor = page.nextCursor;
    } while (cursor);
  }

  /** People present now by entity and entity type, counted in the database (each person once). */
  async summary(sessionId: string): Promise<AttendanceSummary> {
    const rows = await this.db
      .selectFrom('attendance')
      .select(['presence', 'entity', 'entity_type', sql<number>`count(distinct person_id)`.as('people')])
      .where('session_id', '=', sessionId)
      .where('left_at', 'is', null)
      .groupBy(['presence', 'entity', 'entity_type'])
      .execute();
    const out: AttendanceSummary = { participants: { byEntityType: {}, total: 0 }, listeners: { byEntity: {}, byEntityType: {}, total: 0 } };
    for (const r of rows) {
      const n = Number(r.people);
      const side = r.presence === 'listener' ? out.listeners : out.participants;
      side.byEntityType[r.entity_type] = (side.byEntityType[r.entity_type] ?? 0) + n;
      side.total += n;
      if (r.presence === 'listener') out.listeners.byEntity[r.entity] = (out.listeners.byEntity[r.entity] ?? 0) + n;
    }
    return out;
  }

  /** Entities with someone present now (open intervals), by entity type: for the quorum view. */
  async entitiesPresent(sessionId: string, presence?: Presence): Promise<Array<{ entity: string; entityType: string }>> {
    let query = this.db.selectFrom('attendance').select(['entity', 'entity_type']).distinct().where('session_id', '=', sessionId).where('left_at', 'is', null);
    if (presence) query = query.where('presence', '=', presence);
    const rows = await query.orderBy('entity').execute();
    return rows.map((r) => ({ entity: r.entity, entityType: r.entity_type }));
  }

  // Uses the partial index on open intervals. Listener rows relayed from an earlier origin close too: its
  // edges close with it and their listeners come back through the new owner.
  private async closeEarlierOwners(tx: Pick<Db, 'updateTable'>, owner: RoomEpoch, sessionId: string): Promise<number> {
    const result = await tx
      .updateTable('attendance')
      .set({ left_at: sql<Date>`now()`, closed_by: 'takeover' })
      .where('session_id', '=', sessionId)
      .where('left_at', 'is', null)
      .where('epoch', '<', owner.epoch)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}

/**
 * An edge node's listeners in the attendance, as listeners with their entity. The edge writes them itself:
 * it does not own the room, so these are not the owner's writes and carry no fence of the room's epoch (an
 * edge relaying an older origin still records who it served). The origin's token is kept in `epoch`.
 */
export class EdgeListenerAttendance {
  constructor(
    private readonly attendance: AttendanceLog,
    private readonly nodeId: string,
    /** Rooms that are sessions of record (dev-mode rooms are not). */
    private readonly recorded: (roomId: string) => boolean,
    private readonly log: Logger,
  ) {}

  track(room: Room, originEpoch: number): void {
    if (!this.recorded(room.id)) return;
    room.on('participantjoined', (p) => {
      // A delegate served here is seated at the origin, which records it as a participant.
      if (!listensOnly(p.grants)) return;
      const g = p.grants;
      const who = { eventId: g.event, personId: p.id, name: g.name, entity: g.entity.name, entityType: g.entity.type, role: g.role };
      const opened = this.attendance.openListener(this.nodeId, originEpoch, room.id, who).catch((error: unknown) => {
        this.log.error({ err: error, room: room.id }, 'edge listener not recorded in the attendance');
        return undefined;
      });
      p.once('close', () => {
        void opened
          .then((id) => (id === undefined ? undefined : this.attendance.closeListener(id)))
          .catch((error: unknown) => this.log.error({ err: error, room: room.id }, 'edge listener departure not recorded'));
      });
    });
  }
}

function columns(sessionId: string, who: Attendee) {
  return { event_id: who.eventId, session_id: sessionId, person_id: who.personId, name: who.name, entity: who.entity, entity_type: who.entityType, role: who.role };
}

function toInterval(r: Row<'attendance'>): AttendanceInterval {
  return {
    personId: r.person_id,
    name: r.name,
    entity: r.entity,
    entityType: r.entity_type,
    role: r.role,
    presence: r.presence as Presence,
    from: r.joined_at.toISOString(),
    ...(r.left_at ? { to: r.left_at.toISOString() } : {}),
    ...(r.closed_by ? { closedBy: r.closed_by as ClosedBy } : {}),
  };
}

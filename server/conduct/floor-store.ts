import { z } from 'zod';
import { json } from '../../store/schema.js';
import type { RoomEpoch } from '../../store/room-fence.js';
import type { OwnerWrites } from '../cluster/owner-writes.js';
import type { FloorSnapshot } from './floor-control.js';

const entry = z.object({ id: z.string(), name: z.string(), entity: z.string(), kind: z.enum(['speaker', 'point_of_order']), requestedAt: z.number() });
const snapshotSchema = z.object({
  queue: z.array(entry),
  speaker: entry.extend({ since: z.number(), limitMs: z.number(), warningMs: z.number() }).nullable(),
});

/**
 * Each session's speakers list and floor, saved on every change, so that nobody loses their place when the
 * room restarts or moves to another node.
 */
export interface FloorStore {
  load(sessionId: string): Promise<FloorSnapshot | undefined>;
  save(sessionId: string, snapshot: FloorSnapshot): Promise<void>;
}

/**
 * The floor in the system of record (`floor_state`), one row per session, written by the room's owner under
 * its epoch: the node that takes a room over reads it back, and a stale owner's late write is refused.
 */
export class DatabaseFloorStore implements FloorStore {
  /** Per session: the newest snapshot not yet written, and who waits for it. */
  private readonly queued = new Map<string, { owner: RoomEpoch; snapshot: FloorSnapshot; waiting: Array<{ resolve: () => void; reject: (e: unknown) => void }> }>();
  private readonly writing = new Set<string>();

  constructor(private readonly owners: OwnerWrites) {}

  async load(sessionId: string): Promise<FloorSnapshot | undefined> {
    const row = await this.owners.db.selectFrom('floor_state').select('snapshot').where('session_id', '=', sessionId).executeTakeFirst();
    if (!row) return undefined;
    const parsed = snapshotSchema.safeParse(row.snapshot);
    return parsed.success ? parsed.data : undefined;
  }

  /**
   * The epoch is read when called (synchronously): a save started while this node owned the room carries
   * its epoch. Saves of one session are written one at a time, newest last; while one is being written (or
   * retried through a database outage), a newer snapshot replaces any still waiting, so an older state can
   * never land after a newer one.
   */
  save(sessionId: string, snapshot: FloorSnapshot): Promise<void> {
    let owner: RoomEpoch;
    try {
      owner = this.owners.owner(sessionId);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      const earlier = this.queued.get(sessionId)?.waiting ?? [];
      this.queued.set(sessionId, { owner, snapshot, waiting: [...earlier, { resolve, reject }] });
      if (!this.writing.has(sessionId)) void this.drain(sessionId);
    });
  }

  private async drain(sessionId: string): Promise<void> {
    this.writing.add(sessionId);
    try {
      for (let next = this.queued.get(sessionId); next; next = this.queued.get(sessionId)) {
        this.queued.delete(sessionId);
        try {
          await this.write(sessionId, next.owner, next.snapshot);
          for (const w of next.waiting) w.resolve();
        } catch (error) {
          for (const w of next.waiting) w.reject(error);
        }
      }
    } finally {
      this.writing.delete(sessionId);
    }
  }

  private write(sessionId: string, owner: RoomEpoch, snapshot: FloorSnapshot): Promise<void> {
    return this.owners.write(owner, async (tx) => {
      await tx
        .insertInto('floor_state')
        .values({ session_id: sessionId, snapshot: json(snapshot), epoch: owner.epoch })
        .onConflict((oc) => oc.column('session_id').doUpdateSet((eb) => ({ snapshot: eb.ref('excluded.snapshot'), epoch: eb.ref('excluded.epoch'), updated_at: new Date() })))
        .execute();
    });
  }
}

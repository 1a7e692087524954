import type { Transaction } from 'kysely';
import type { Db } from '../../store/open-store.js';
import { fencedWrite, StaleOwnerError, type RoomEpoch } from '../../store/room-fence.js';
import type { Schema } from '../../store/schema.js';
import { retryTransient, type RetryOptions } from '../../store/transient.js';

/**
 * A room owner's durable writes: each carries this node's epoch for the room (its lease's fencing token)
 * and is refused once a newer owner has written. A write for a room this node holds no lease on, or a
 * refused one, is reported to `onStale` (the node stops serving the room) and rejects with StaleOwnerError.
 * A write that meets a database outage (a restart, a failover to the standby) is tried again until
 * `retry.deadlineMs`: the meeting goes on meanwhile, and its record catches up once the database is back.
 */
export class OwnerWrites {
  constructor(
    readonly db: Db,
    /** This node's epoch for a room while it holds the room's lease. */
    private readonly epochOf: (roomId: string) => RoomEpoch | undefined,
    private readonly onStale: (error: StaleOwnerError) => void = () => undefined,
    private readonly retry: RetryOptions = { deadlineMs: 0 },
  ) {}

  /**
   * The epoch of this moment; without a lease, reported and thrown as StaleOwnerError. Read synchronously,
   * so a caller inside a room's closing events pins the epoch before the room lets go of its lease.
   */
  owner(roomId: string): RoomEpoch {
    const owner = this.epochOf(roomId);
    if (owner) return owner;
    const error = new StaleOwnerError(roomId);
    this.onStale(error);
    throw error;
  }

  /** Runs `write` fenced by the room's epoch now (or by `owner`, pinned earlier with `owner()`). */
  async write<T>(room: string | RoomEpoch, write: (tx: Transaction<Schema>, owner: RoomEpoch) => Promise<T>): Promise<T> {
    const owner = typeof room === 'string' ? this.owner(room) : room;
    try {
      // The epoch stays the one pinned now: if another node took the room during the outage, the retried
      // write is refused by the fence, as it should be.
      return await retryTransient(() => fencedWrite(this.db, owner, (tx) => write(tx, owner)), this.retry);
    } catch (error) {
      if (error instanceof StaleOwnerError) this.onStale(error);
      throw error;
    }
  }
}

import { sql } from 'kysely';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import { StaleOwnerError } from '../../store/room-fence.js';
import type { OwnerWrites } from '../cluster/owner-writes.js';

/**
 * Who the secretariat removed from which room, in the system of record (`removals`) and so on every node,
 * for as long as a resume token lives: a removed person's resume token no longer lets them back, and a new
 * join token only gets them into the lobby, where the secretariat decides again (admitting them clears the
 * record). The room's owner records and clears them under its epoch. Times are the database's clock, the
 * same for every node.
 */
export class RemovalRecord {
  constructor(
    private readonly owners: OwnerWrites,
    private readonly ttlMs: number,
  ) {}

  record(roomId: string, personId: string): Promise<void> {
    return forClient(() =>
      this.owners.write(roomId, async (tx) => {
        // Expired rows of the room go with the next removal: they are no longer records of anything.
        await tx.deleteFrom('removals').where('room_id', '=', roomId).where('until', '<=', sql<Date>`now()`).execute();
        const until = sql<Date>`now() + make_interval(secs => ${this.ttlMs / 1000})`;
        await tx
          .insertInto('removals')
          .values({ room_id: roomId, person_id: personId, until })
          .onConflict((oc) => oc.columns(['room_id', 'person_id']).doUpdateSet({ until }))
          .execute();
      }),
    );
  }

  isRemoved(roomId: string, personId: string): Promise<boolean> {
    return forClient(async () => {
      const row = await this.owners.db.selectFrom('removals').select('person_id').where('room_id', '=', roomId).where('person_id', '=', personId).where('until', '>', sql<Date>`now()`).executeTakeFirst();
      return row !== undefined;
    });
  }

  clear(roomId: string, personId: string): Promise<void> {
    return forClient(() => this.owners.write(roomId, (tx) => tx.deleteFrom('removals').where('room_id', '=', roomId).where('person_id', '=', personId).execute()).then(() => undefined));
  }
}

/**
 * For the client: a stale owner's write (already reported, the room is being given up) is ROOM_ELSEWHERE; a
 * database that cannot answer is UNAVAILABLE, which the client may retry.
 */
async function forClient<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    if (error instanceof StaleOwnerError) throw new ProtocolError(ErrorCode.ROOM_ELSEWHERE, 'another node serves this room now');
    throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the meeting records are unavailable; try again shortly');
  }
}

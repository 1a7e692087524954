import type { Transaction } from 'kysely';
import type { Db } from './open-store.js';
import type { Schema } from './schema.js';

/** Who writes for a room: the node holding its lease, and the lease's fencing token (only ever grows). */
export interface RoomEpoch {
  roomId: string;
  nodeId: string;
  epoch: number;
}

/** A write refused because another node has taken the room since: this node must stop acting for it. */
export class StaleOwnerError extends Error {
  constructor(readonly roomId: string) {
    super(`another node owns room ${roomId} now; this node's write was refused`);
    this.name = 'StaleOwnerError';
  }
}

/**
 * Runs `write` in one transaction with the room's fence: the fence moves up to this owner's epoch, or, when a
 * newer owner has already written, nothing is written and StaleOwnerError is thrown. The fence row stays
 * locked until commit, so once the new owner's first write has committed, no write of an older owner can land.
 */
export async function fencedWrite<T>(db: Db, owner: RoomEpoch, write: (tx: Transaction<Schema>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (tx) => {
    const fence = await tx
      .insertInto('room_fences')
      .values({ room_id: owner.roomId, epoch: owner.epoch, node_id: owner.nodeId })
      .onConflict((oc) =>
        oc
          .column('room_id')
          .doUpdateSet((eb) => ({ epoch: eb.ref('excluded.epoch'), node_id: eb.ref('excluded.node_id'), updated_at: new Date() }))
          .where('room_fences.epoch', '<=', owner.epoch),
      )
      .returning('epoch')
      .executeTakeFirst();
    if (!fence) throw new StaleOwnerError(owner.roomId);
    return write(tx);
  });
}

/** The epoch of the room's latest owner that wrote, or 0. */
export async function currentFence(db: Db, roomId: string): Promise<number> {
  const row = await db.selectFrom('room_fences').select('epoch').where('room_id', '=', roomId).executeTakeFirst();
  return row?.epoch ?? 0;
}

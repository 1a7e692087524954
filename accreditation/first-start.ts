// What a first start writes once into the system of record (the demo or the administrator, or the files of a
// previous version), whichever node gets there first: the others find it done.
import { sql, type Transaction } from 'kysely';
import { json, type Schema } from '../store/schema.js';

/** Settings rows that say a first-start step is done (each is claimed by the transaction that does it). */
export const FirstStartStep = {
  sessionsSeeded: 'first-start:sessions-seeded',
  registrySeeded: 'first-start:registry-seeded',
  legacyImported: 'first-start:legacy-imported',
  /** The room records (attendance, transcripts, floor) of a file-based data directory: server/conduct/legacy-room-records.ts. */
  roomRecordsImported: 'first-start:room-records-imported',
} as const;
export type FirstStartStep = (typeof FirstStartStep)[keyof typeof FirstStartStep];

/**
 * Holds, until the transaction ends, the lock that orders every node's first-start steps: two nodes starting
 * at once against one PostgreSQL take turns, and the second sees what the first committed.
 */
export async function lockFirstStart(tx: Transaction<Schema>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('plenum.first-start'))`.execute(tx);
}

/** Marks `step` done; false when it already was (by this node earlier, or by another node). */
export async function claimFirstStartStep(tx: Transaction<Schema>, step: FirstStartStep, detail: Record<string, unknown> = {}): Promise<boolean> {
  const row = await tx
    .insertInto('settings')
    .values({ key: step, value: json({ at: new Date().toISOString(), ...detail }) })
    .onConflict((oc) => oc.column('key').doNothing())
    .returning('key')
    .executeTakeFirst();
  return row !== undefined;
}

export async function firstStartStepDone(tx: Transaction<Schema>, step: FirstStartStep): Promise<boolean> {
  return (await tx.selectFrom('settings').select('key').where('key', '=', step).executeTakeFirst()) !== undefined;
}

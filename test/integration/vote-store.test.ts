import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OwnerWrites } from '../../server/cluster/owner-writes.js';
import { BallotSeal } from '../../server/votes/ballot-seal.js';
import { VoteAlreadyOpenError, VoteStore } from '../../server/votes/vote-store.js';
import type { VoteDefinition } from '../../server/votes/vote-model.js';
import { openStore, type Store } from '../../store/open-store.js';
import { StaleOwnerError } from '../../store/room-fence.js';
import { PostgresProcess } from '../helpers/postgres-process.js';

// Votes in the system of record, on both engines: one open vote per session, one vote per entity (the
// database decides, even for two casts at once), a close that counts once, and a secret ballot that leaves
// no row linking an entity or a person to a choice.

const SECRET = 'ballot-secret-for-tests-0123456789abcdef';
const seal = new BallotSeal(SECRET);
const ENTITIES = Array.from({ length: 12 }, (_, i) => `Entity ${String(i).padStart(2, '0')}`);

const definition = (over: Partial<VoteDefinition>): VoteDefinition => ({
  question: 'Shall the draft resolution be adopted?',
  kind: 'recorded',
  eligibleEntityTypes: ['member_state'],
  durationSeconds: 60,
  quorum: 0,
  presentAtOpening: ENTITIES.length,
  entitled: ENTITIES,
  ...over,
});

let postgres: PostgresProcess;
beforeAll(async () => {
  postgres = await PostgresProcess.start();
});
afterAll(async () => {
  await postgres?.stop();
});

/** Every row of every table, as text: what an operator, a backup or a dump would see. */
async function everyRow(store: Store): Promise<Array<{ table: string; row: string }>> {
  const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(store.db);
  const out: Array<{ table: string; row: string }> = [];
  for (const { table_name } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table_name)}`.execute(store.db);
    for (const row of rows.rows) out.push({ table: table_name, row: JSON.stringify(row) });
  }
  return out;
}

describe.each(['embedded', 'postgres'] as const)('the vote store on %s', (engine) => {
  let store: Store;
  let votes: VoteStore;
  beforeAll(async () => {
    store = await openStore(engine === 'postgres' ? { databaseUrl: postgres.url, dataDir: '' } : { dataDir: mkdtempSync(join(tmpdir(), 'plenum-votes-')) });
    votes = new VoteStore(store.db, seal);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('writes a vote only as the room\'s owner: once a newer owner has written, the old one can neither cast nor close', async () => {
    const session = `s-fenced-${engine}`;
    const ownerOf = (nodeId: string, epoch: number) => new VoteStore(store.db, seal, new OwnerWrites(store.db, (roomId) => ({ roomId, nodeId, epoch })));
    const old = ownerOf('node-a', 1);
    const v = await old.open({ eventId: 'ev-1', sessionId: session, openedBy: 'chair', definition: definition({}) });
    expect(await old.cast({ vote: v, entity: ENTITIES[0]!, entityType: 'member_state', castBy: 'p-0', ballot: { position: 'yes' } })).toBe('cast');
    // The room fails over: the new owner's first write moves the fence up.
    const next = ownerOf('node-b', 2);
    expect(await next.cast({ vote: v, entity: ENTITIES[1]!, entityType: 'member_state', castBy: 'p-1', ballot: { position: 'no' } })).toBe('cast');
    await expect(old.cast({ vote: v, entity: ENTITIES[2]!, entityType: 'member_state', castBy: 'p-2', ballot: { position: 'no' } })).rejects.toBeInstanceOf(StaleOwnerError);
    await expect(old.close(session, v.voteId, ENTITIES)).rejects.toBeInstanceOf(StaleOwnerError);
    await expect(old.pass(session, v.voteId, ENTITIES[3]!)).rejects.toBeInstanceOf(StaleOwnerError);
    expect((await next.openIn(session))?.voteId).toBe(v.voteId);
    expect(await next.castCount(v.voteId)).toBe(2);
    const closed = await next.close(session, v.voteId, ENTITIES);
    expect(closed.status).toBe('closed');
  });

  it('keeps one vote open per session, and finds a vote only under its own event and session', async () => {
    const v = await votes.open({ eventId: 'ev-1', sessionId: `s-open-${engine}`, openedBy: 'chair', definition: definition({}) });
    await expect(votes.open({ eventId: 'ev-1', sessionId: `s-open-${engine}`, openedBy: 'chair', definition: definition({}) })).rejects.toBeInstanceOf(VoteAlreadyOpenError);
    expect((await votes.openIn(`s-open-${engine}`))?.voteId).toBe(v.voteId);
    expect(await votes.get('ev-1', `s-open-${engine}`, v.voteId)).toMatchObject({ voteId: v.voteId, status: 'open' });
    expect(await votes.get('ev-1', 'another-session', v.voteId)).toBeUndefined();
    expect(await votes.get('ev-2', `s-open-${engine}`, v.voteId)).toBeUndefined();
    await votes.close(v.sessionId, v.voteId, []);
    // Closed: the next vote may open.
    await votes.open({ eventId: 'ev-1', sessionId: `s-open-${engine}`, openedBy: 'chair', definition: definition({}) });
  });

  it('takes one vote per entity, even when two of its delegates cast at once, and counts once', async () => {
    const v = await votes.open({ eventId: 'ev-1', sessionId: `s-rec-${engine}`, openedBy: 'chair', definition: definition({}) });
    const twice = await Promise.all([
      votes.cast({ vote: v, entity: 'Kenya', entityType: 'member_state', castBy: 'p-ke-1', ballot: { position: 'yes' } }),
      votes.cast({ vote: v, entity: 'Kenya', entityType: 'member_state', castBy: 'p-ke-2', ballot: { position: 'no' } }),
    ]);
    expect(twice.sort()).toEqual(['already', 'cast']);
    expect(await votes.cast({ vote: v, entity: 'Brazil', entityType: 'member_state', castBy: 'p-br-1', ballot: { position: 'no' } })).toBe('cast');
    expect(await votes.castCount(v.voteId)).toBe(2);
    expect((await votes.castOf(v.voteId, 'Brazil'))?.position).toBe('no');
    expect(await votes.castOf(v.voteId, 'France')).toBeUndefined();

    const [a, b] = await Promise.all([votes.close(v.sessionId, v.voteId, ['Kenya', 'Brazil', 'France']), votes.close(v.sessionId, v.voteId, ['Kenya', 'Brazil', 'France'])]);
    expect(a.result).toEqual(b.result);
    expect(a.result).toMatchObject({ kind: 'recorded', notVoting: ['France'] });
    const totals = a.result?.kind === 'recorded' ? a.result.totals : undefined;
    expect(totals!.yes + totals!.no).toBe(2);
    // Closed: no more casts.
    expect((await votes.get('ev-1', `s-rec-${engine}`, v.voteId))?.status).toBe('closed');
  });

  it('a secret ballot: counted right, and nothing stored links an entity or a person to a candidate', async () => {
    const candidates = ['Candidate Alpha', 'Candidate Bravo', 'Candidate Charlie'];
    const v = await votes.open({ eventId: 'ev-1', sessionId: `s-secret-${engine}`, openedBy: 'chair', definition: definition({ kind: 'secret', candidates, seats: 1 }) });
    const expected = { 'Candidate Alpha': 0, 'Candidate Bravo': 0, 'Candidate Charlie': 0 } as Record<string, number>;
    for (const [i, entity] of ENTITIES.entries()) {
      const choice = candidates[i % 3 === 0 ? 0 : i % 3 === 1 ? 1 : i % 2 === 0 ? 2 : 0]!;
      expected[choice]! += 1;
      expect(await votes.cast({ vote: v, entity, entityType: 'member_state', castBy: `person-${i}`, ballot: { candidates: [choice] } })).toBe('cast');
    }

    // While the ballot is open: the casts say who voted, the sealed ballots say nothing readable.
    for (const { table, row } of await everyRow(store)) {
      if (table === 'votes') continue; // the question and the candidates' list
      for (const c of candidates) expect(row, `${table}: ${row}`).not.toContain(c);
    }
    const sealed = await store.db.selectFrom('vote_ballots').selectAll().where('vote_id', '=', v.voteId).execute();
    expect(sealed).toHaveLength(ENTITIES.length);
    expect(Object.keys(sealed[0]!).sort()).toEqual(['ballot_id', 'sealed', 'vote_id']);
    expect(new Set(sealed.map((s) => s.sealed.length)).size).toBe(1);

    const closed = await votes.close(v.sessionId, v.voteId, ENTITIES);
    expect(closed.result).toMatchObject({ kind: 'secret', ballots: ENTITIES.length, abstentions: 0 });
    const byCandidate = closed.result?.kind === 'secret' ? Object.fromEntries(closed.result.byCandidate.map((c) => [c.candidate, c.votes])) : {};
    expect(byCandidate).toEqual(expected);
    // After the count the sealed ballots are gone; only totals remain, in the vote's own row.
    expect(await store.db.selectFrom('vote_ballots').selectAll().where('vote_id', '=', v.voteId).execute()).toEqual([]);
    for (const { table, row } of await everyRow(store)) {
      if (table === 'votes') continue;
      for (const c of candidates) expect(row, `${table}: ${row}`).not.toContain(c);
    }
    const casts = await store.db.selectFrom('vote_casts').selectAll().where('vote_id', '=', v.voteId).execute();
    expect(casts.every((c) => c.choice === null)).toBe(true);
  });

  it('a roll-call records passes, so any node knows whom to call next', async () => {
    const v = await votes.open({ eventId: 'ev-1', sessionId: `s-roll-${engine}`, openedBy: 'chair', definition: definition({ kind: 'roll_call', order: ['Kenya', 'Brazil'] }) });
    await votes.pass(v.sessionId, v.voteId, 'Kenya');
    await votes.pass(v.sessionId, v.voteId, 'Kenya');
    await votes.pass(v.sessionId, v.voteId, 'Brazil');
    expect((await votes.get('ev-1', `s-roll-${engine}`, v.voteId))?.definition.passes).toEqual({ Kenya: 2, Brazil: 1 });
  });
});

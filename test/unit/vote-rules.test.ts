import { describe, expect, it } from 'vitest';
import { BallotSeal, longestBallot } from '../../server/votes/ballot-seal.js';
import { calledEntity, rollCallOrder } from '../../server/votes/roll-call.js';
import { countRecorded, countSecret } from '../../server/votes/tally.js';
import { checkBallot, openVoteInput, type VoteDefinition } from '../../server/votes/vote-model.js';

// The rules of a vote without a database: who is called, how ballots count, and what a sealed ballot hides.

const definition = (over: Partial<VoteDefinition> = {}): VoteDefinition => ({
  question: 'Q',
  kind: 'recorded',
  eligibleEntityTypes: ['member_state'],
  durationSeconds: 60,
  quorum: 0,
  presentAtOpening: 3,
  entitled: ['Kenya', 'Brazil', 'France'],
  ...over,
});

describe('opening a vote', () => {
  it('defaults to Member States, and refuses what does not fit the kind', () => {
    expect(openVoteInput.parse({ question: 'Adopt?', kind: 'recorded' }).eligibleEntityTypes).toEqual(['member_state']);
    expect(openVoteInput.safeParse({ question: 'Elect', kind: 'secret' }).success).toBe(false);
    expect(openVoteInput.safeParse({ question: 'Elect', kind: 'secret', candidates: ['A', 'A'] }).success).toBe(false);
    expect(openVoteInput.safeParse({ question: 'Elect', kind: 'secret', candidates: ['A'], seats: 2 }).success).toBe(false);
    expect(openVoteInput.safeParse({ question: 'Adopt?', kind: 'recorded', candidates: ['A'] }).success).toBe(false);
    expect(openVoteInput.safeParse({ question: 'Adopt?', kind: 'recorded', extra: 1 }).success).toBe(false);
  });
});

describe('ballots', () => {
  it('takes a position for recorded votes and up to `seats` known, distinct candidates for a secret ballot', () => {
    expect(checkBallot(definition(), { position: 'yes' })).toBeUndefined();
    expect(checkBallot(definition(), { candidates: [] })).toBeDefined();
    const secret = definition({ kind: 'secret', candidates: ['A', 'B', 'C'], seats: 2 });
    expect(checkBallot(secret, { candidates: ['A', 'B'] })).toBeUndefined();
    expect(checkBallot(secret, { candidates: [] })).toBeUndefined(); // an abstention
    expect(checkBallot(secret, { candidates: ['A', 'B', 'C'] })).toBeDefined();
    expect(checkBallot(secret, { candidates: ['A', 'A'] })).toBeDefined();
    expect(checkBallot(secret, { candidates: ['Z'] })).toBeDefined();
    expect(checkBallot(secret, { position: 'yes' })).toBeDefined();
  });
});

describe('counting', () => {
  it('a recorded vote: totals, each entity, and who did not vote', () => {
    const r = countRecorded(
      definition(),
      [
        { entity: 'Kenya', entityType: 'member_state', position: 'yes' },
        { entity: 'Brazil', entityType: 'member_state', position: 'no' },
      ],
      ['Brazil', 'Kenya', 'France'],
    );
    expect(r).toEqual({
      kind: 'recorded',
      totals: { yes: 1, no: 1, abstain: 0 },
      byEntity: [
        { entity: 'Brazil', entityType: 'member_state', position: 'no' },
        { entity: 'Kenya', entityType: 'member_state', position: 'yes' },
      ],
      notVoting: ['France'],
    });
  });

  it('a roll-call reads in calling order', () => {
    const r = countRecorded(definition({ kind: 'roll_call', order: ['Kenya', 'Brazil'] }), [
      { entity: 'Brazil', entityType: 'member_state', position: 'no' },
      { entity: 'Kenya', entityType: 'member_state', position: 'abstain' },
    ], ['Kenya', 'Brazil']);
    expect(r.kind === 'roll_call' && r.byEntity.map((v) => v.entity)).toEqual(['Kenya', 'Brazil']);
  });

  it('a secret ballot: totals per candidate, abstentions, the elected, and a tie for the last seat', () => {
    const d = definition({ kind: 'secret', candidates: ['A', 'B', 'C', 'D'], seats: 2 });
    const r = countSecret(d, [{ candidates: ['A', 'B'] }, { candidates: ['A', 'C'] }, { candidates: ['A'] }, { candidates: [] }]);
    expect(r).toMatchObject({ kind: 'secret', ballots: 4, abstentions: 1, elected: ['A'], tied: ['B', 'C'] });
    const clear = countSecret(d, [{ candidates: ['A', 'B'] }, { candidates: ['A', 'B'] }, { candidates: ['C'] }]);
    expect(clear).toMatchObject({ elected: ['A', 'B'], tied: [] });
    expect(countSecret(d, [])).toMatchObject({ elected: [], tied: [], ballots: 0 });
  });
});

describe('roll-call', () => {
  it('calls alphabetically from the entity drawn by lot, wrapping round', () => {
    expect(rollCallOrder(['Kenya', 'Brazil', 'France', 'Japan'], 2)).toEqual(['Japan', 'Kenya', 'Brazil', 'France']);
    expect(rollCallOrder(['B', 'A'], 7)).toEqual(['B', 'A']);
    expect(rollCallOrder([], 3)).toEqual([]);
  });

  it('calls those who passed after the others, and no one after a second pass', () => {
    const order = ['Japan', 'Kenya', 'Brazil'];
    expect(calledEntity(order, new Set())).toBe('Japan');
    expect(calledEntity(order, new Set(['Japan']), { Kenya: 1 })).toBe('Brazil');
    expect(calledEntity(order, new Set(['Japan', 'Brazil']), { Kenya: 1 })).toBe('Kenya');
    expect(calledEntity(order, new Set(['Japan', 'Brazil']), { Kenya: 2 })).toBeUndefined();
  });
});

describe('sealed ballots', () => {
  const seal = new BallotSeal('a-ballot-secret-of-at-least-32-characters');
  const pad = longestBallot(['Amina Odhiambo', 'B', 'Carlos'], 2);

  it('open only for their vote and secret, and all have one size', () => {
    const a = seal.seal('vote-1', { candidates: ['B'] }, pad);
    const b = seal.seal('vote-1', { candidates: ['Amina Odhiambo', 'Carlos'] }, pad);
    expect(seal.open('vote-1', a)).toEqual({ candidates: ['B'] });
    expect(seal.open('vote-1', b)).toEqual({ candidates: ['Amina Odhiambo', 'Carlos'] });
    expect(a.length).toBe(b.length);
    expect(a).not.toContain('B"');
    expect(seal.open('vote-2', a)).toBeUndefined();
    expect(new BallotSeal('another-ballot-secret-of-32-characters!!').open('vote-1', a)).toBeUndefined();
    expect(seal.open('vote-1', 'garbage')).toBeUndefined();
  });
});

// What a vote is: its kinds, how it is opened, what a ballot may say, and what its result looks like.
import type { z } from 'zod';
import type { Ballot, VoteKind, openVoteRequest } from '../../protocol/signaling.js';

export { openVoteRequest as openVoteInput, ballot } from '../../protocol/signaling.js';
export type { Ballot, EntityVote, VoteKind, VotePosition as Position, VoteResult } from '../../protocol/signaling.js';
export type OpenVoteInput = z.input<typeof openVoteRequest>;

/** A vote as stored: its opening input, the eligible entities at opening, and a roll-call's order. */
export interface VoteDefinition {
  question: string;
  kind: VoteKind;
  eligibleEntityTypes: string[];
  candidates?: string[];
  seats?: number;
  durationSeconds: number;
  quorum: number;
  /** Entities present and entitled when the vote opened (the quorum check's count). */
  presentAtOpening: number;
  /** Those entities, by name: the result lists those that did not vote. */
  entitled: string[];
  /** Roll-call: every entitled entity, in calling order from the one drawn by lot. */
  order?: string[];
  /** Roll-call: how many times each entity passed when called. */
  passes?: Record<string, number>;
}

/** A ballot fit for this vote, or the reason it is not. */
export function checkBallot(definition: Pick<VoteDefinition, 'kind' | 'candidates' | 'seats'>, b: Ballot): string | undefined {
  if (definition.kind !== 'secret') return 'position' in b ? undefined : 'this vote takes yes, no or abstain';
  if (!('candidates' in b)) return 'this ballot takes candidates';
  if (new Set(b.candidates).size !== b.candidates.length) return 'a candidate is named twice';
  if (b.candidates.length > (definition.seats ?? 1)) return `at most ${definition.seats ?? 1} candidates`;
  const known = new Set(definition.candidates);
  return b.candidates.every((c) => known.has(c)) ? undefined : 'not a candidate of this ballot';
}

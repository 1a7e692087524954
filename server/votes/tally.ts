// Counting: pure functions over what the vote store holds, so the rules are tested without a database.
import type { Ballot, EntityVote, Position, VoteDefinition, VoteResult } from './vote-model.js';

/** A recorded vote or a roll-call: totals and each entity's position; entitled entities that did not vote. */
export function countRecorded(definition: VoteDefinition, votes: EntityVote[], entitled: readonly string[]): VoteResult {
  const totals: Record<Position, number> = { yes: 0, no: 0, abstain: 0 };
  for (const v of votes) totals[v.position] += 1;
  const voted = new Set(votes.map((v) => v.entity));
  const order = definition.order ? new Map(definition.order.map((e, i) => [e, i])) : undefined;
  // A roll-call reads in calling order; a recorded vote alphabetically, as the record is published.
  const byEntity = [...votes].sort((a, b) => (order ? (order.get(a.entity) ?? 1e9) - (order.get(b.entity) ?? 1e9) : a.entity.localeCompare(b.entity)));
  return {
    kind: definition.kind === 'roll_call' ? 'roll_call' : 'recorded',
    totals,
    byEntity,
    notVoting: entitled.filter((e) => !voted.has(e)).sort((a, b) => a.localeCompare(b)),
  };
}

/** A secret ballot: totals per candidate, abstentions (empty ballots), and who is elected to the seats. */
export function countSecret(definition: VoteDefinition, ballots: Ballot[]): VoteResult {
  const votes = new Map((definition.candidates ?? []).map((c) => [c, 0]));
  let abstentions = 0;
  for (const b of ballots) {
    if (!('candidates' in b) || b.candidates.length === 0) abstentions += 1;
    else for (const c of b.candidates) if (votes.has(c)) votes.set(c, votes.get(c)! + 1);
  }
  const byCandidate = [...votes].map(([candidate, n]) => ({ candidate, votes: n })).sort((a, b) => b.votes - a.votes || a.candidate.localeCompare(b.candidate));
  const seats = definition.seats ?? 1;
  const elected: string[] = [];
  const tied: string[] = [];
  // Walk down by votes: a group of equal counts fits the remaining seats whole, or is tied for them.
  for (let i = 0; i < byCandidate.length && elected.length < seats; ) {
    const n = byCandidate[i]!.votes;
    if (n === 0) break;
    const group = byCandidate.filter((c) => c.votes === n).map((c) => c.candidate);
    if (elected.length + group.length <= seats) elected.push(...group);
    else tied.push(...group);
    if (tied.length) break;
    i += group.length;
  }
  return { kind: 'secret', ballots: ballots.length, abstentions, byCandidate, elected, tied };
}

// The delegate's view of the session's vote, fed by the SDK's vote events (never polled): the vote as
// everyone sees it (the count, a roll-call's entity called), whether one's own entity has voted, and the
// result once it closes. Who may cast the entity's vote is the server's decision: a refusal is kept here.
import { create } from 'zustand';
import type { MeetingClient } from '../../../../client-sdk/src/meeting-client';
import type { Ballot, VotePosition, VoteView } from '../../../../protocol/signaling';
import { codeOf } from './vote-labels';

interface VoteStoreState {
  vote?: VoteView;
  /** One's own entity has voted (its position, unless the ballot is secret). */
  own: { voted: boolean; position?: VotePosition };
  /** The server refused this person's cast (VOTE_NOT_ENTITLED, ...); the panel turns read-only on VOTE_NOT_ENTITLED. */
  error?: string;
  busy: boolean;
  cast(ballot: Ballot): Promise<boolean>;
}

let client: MeetingClient | undefined;

const NOT_VOTED = { voted: false };

export const useVoteStore = create<VoteStoreState>(() => ({ own: NOT_VOTED, busy: false, cast: castBallot }));

async function castBallot(ballot: Ballot): Promise<boolean> {
  const { vote } = useVoteStore.getState();
  if (!client || !vote) return false;
  useVoteStore.setState({ busy: true, error: undefined });
  try {
    await client.castVote(vote.voteId, ballot);
    // The server's voteCast follows; the position is known here already (never for a secret ballot).
    useVoteStore.setState({ busy: false, own: { voted: true, ...('position' in ballot ? { position: ballot.position } : {}) } });
    return true;
  } catch (error) {
    const code = codeOf(error);
    useVoteStore.setState({ busy: false, error: code, ...(code === 'VOTE_ALREADY_CAST' ? { own: { voted: true } } : {}) });
    return false;
  }
}

/** Feeds the store from a newly created client's events (before it joins: voteState comes on joining). */
export function wireVotes(c: MeetingClient): void {
  client = c;
  useVoteStore.setState({ vote: undefined, own: NOT_VOTED, error: undefined, busy: false});
  const mine = () => c === client;
  c.on('voteOpened', (vote) => mine() && useVoteStore.setState({ vote, own: NOT_VOTED, error: undefined }));
  c.on('voteState', ({ vote, ownEntity }) => {
    if (!mine() || !vote) return;
    useVoteStore.setState({ vote, own: ownEntity ?? NOT_VOTED });
  });
  c.on('voteProgress', ({ voteId, cast, entitled, called }) => {
    if (!mine()) return;
    const { vote } = useVoteStore.getState();
    if (vote?.voteId === voteId && vote.status === 'open') useVoteStore.setState({ vote: { ...vote, cast, entitled, called } });
  });
  c.on('voteCast', ({ voteId, position }) => {
    if (mine() && useVoteStore.getState().vote?.voteId === voteId) useVoteStore.setState({ own: { voted: true, ...(position ? { position } : {}) } });
  });
  c.on('voteClosed', (vote) => mine() && useVoteStore.setState({ vote, error: undefined, busy: false }));
  // Back after a drop: the open vote as it stands now (the server also tells it on rejoining).
  c.on('reconnected', () => {
    c.getVoteState().then(
      ({ vote, ownEntity }) => mine() && vote && useVoteStore.setState({ vote, own: ownEntity ?? NOT_VOTED }),
      () => undefined,
    );
  });
  c.on('closed', () => {
    if (mine()) client = undefined;
  });
}

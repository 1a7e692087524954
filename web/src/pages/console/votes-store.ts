// The console's votes: the session's open (or just closed) vote from the room client's events, the chair's
// actions on it (open, pass a roll-call's entity, close), and the session's past votes from the admin API.
import { create } from 'zustand';
import type { MeetingClient, OpenVoteOptions } from '../../../../client-sdk/src/meeting-client';
import type { VoteView } from '../../../../protocol/signaling';

interface VotesState {
  vote?: VoteView;
  busy: boolean;
  error?: unknown;
  /** Bumped when a vote closes: the list of past votes reloads. */
  closedCount: number;
  open(options: OpenVoteOptions): Promise<boolean>;
  pass(): Promise<void>;
  close(): Promise<void>;
  clearError(): void;
}

let client: MeetingClient | undefined;

async function run(fn: (c: MeetingClient) => Promise<VoteView>): Promise<boolean> {
  const c = client;
  if (!c) return false;
  useVotesStore.setState({ busy: true, error: undefined });
  try {
    const vote = await fn(c);
    useVotesStore.setState((s) => ({ busy: false, vote, closedCount: vote.status === 'closed' && s.vote?.status === 'open' ? s.closedCount + 1 : s.closedCount }));
    return true;
  } catch (error) {
    useVotesStore.setState({ busy: false, error });
    return false;
  }
}

export const useVotesStore = create<VotesState>(() => ({
  busy: false,
  closedCount: 0,
  open: (options) => run((c) => c.openVote(options)),
  pass: async () => {
    const id = useVotesStore.getState().vote?.voteId;
    if (id) await run((c) => c.passRollCall(id));
  },
  close: async () => {
    const id = useVotesStore.getState().vote?.voteId;
    if (id) await run((c) => c.closeVote(id));
  },
  clearError: () => useVotesStore.setState({ error: undefined }),
}));

/** Feeds the store from the console's room client (created, not yet joined: voteState comes on joining). */
export function wireConsoleVotes(c: MeetingClient): void {
  client = c;
  useVotesStore.setState({ vote: undefined, error: undefined, busy: false });
  const mine = () => c === client;
  c.on('voteOpened', (vote) => mine() && useVotesStore.setState({ vote }));
  c.on('voteState', ({ vote }) => mine() && vote && useVotesStore.setState({ vote }));
  c.on('voteProgress', ({ voteId, cast, entitled, called }) => {
    const { vote } = useVotesStore.getState();
    if (mine() && vote?.voteId === voteId && vote.status === 'open') useVotesStore.setState({ vote: { ...vote, cast, entitled, called } });
  });
  c.on('voteClosed', (vote) => {
    if (!mine()) return;
    useVotesStore.setState((s) => ({ vote, closedCount: s.vote?.voteId === vote.voteId && s.vote.status === 'closed' ? s.closedCount : s.closedCount + 1 }));
  });
  c.on('closed', () => {
    if (mine()) client = undefined;
  });
}

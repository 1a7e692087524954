import { ErrorCode, ProtocolError } from '../../../protocol/errors.js';
import type { VoteService } from '../../votes/vote-service.js';
import type { HandlerSet, JoinedContext } from './context.js';

export type VoteMethod = 'openVote' | 'castVote' | 'passRollCall' | 'closeVote' | 'getVoteState';

function votes(ctx: JoinedContext): VoteService {
  if (!ctx.deps.votes) throw new ProtocolError(ErrorCode.NOT_SUPPORTED, 'votes are not available on this server');
  return ctx.deps.votes;
}

/** Votes by entity: the secretariat or the chair opens, passes a roll-call's entity and closes; entities cast. */
export const voteHandlers: HandlerSet<VoteMethod> = {
  openVote: async (ctx, input) => ({ vote: await votes(ctx).open(ctx.room, ctx.participant, input) }),
  castVote: async (ctx, { voteId, ballot }) => votes(ctx).cast(ctx.room, ctx.participant, voteId, ballot),
  passRollCall: async (ctx, { voteId }) => ({ vote: await votes(ctx).pass(ctx.room, voteId) }),
  closeVote: async (ctx, { voteId }) => ({ vote: await votes(ctx).close(ctx.room, voteId) }),
  getVoteState: async (ctx) => votes(ctx).state(ctx.room, ctx.participant),
};

import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import { requestSchemas, type RequestMethod } from '../../protocol/signaling.js';
import { EDGE_FORWARDED } from '../cascade/edge-policy.js';
import { checkGate } from './connection-gate.js';
import type { JoinedContext } from './handlers/context.js';
import { floorHandlers } from './handlers/floor-handlers.js';
import { mediaHandlers } from './handlers/media-handlers.js';
import { voteHandlers } from './handlers/vote-handlers.js';

const FORWARDED_HANDLERS = {
  pauseProducer: mediaHandlers.pauseProducer,
  resumeProducer: mediaHandlers.resumeProducer,
  requestFloor: floorHandlers.requestFloor,
  withdrawFloorRequest: floorHandlers.withdrawFloorRequest,
  castVote: voteHandlers.castVote,
  getVoteState: voteHandlers.getVoteState,
} as const;

/**
 * On the origin: a request an edge node forwarded for a delegate it serves. It gets what a request from a
 * socket here gets: its payload parsed with the protocol's schema, the gate's check of the copy's grants,
 * then the same handler, working on the origin's copy of the delegate.
 */
export async function answerForwarded(ctx: JoinedContext, method: string, raw: unknown): Promise<unknown> {
  if (!EDGE_FORWARDED.has(method as RequestMethod) || !(method in FORWARDED_HANDLERS)) throw new ProtocolError(ErrorCode.UNKNOWN_METHOD, `${method.slice(0, 64)} is not forwarded`);
  const m = method as keyof typeof FORWARDED_HANDLERS;
  const parsed = requestSchemas[m].safeParse(raw);
  if (!parsed.success) throw new ProtocolError(ErrorCode.BAD_REQUEST, `invalid ${m} payload`);
  checkGate(m, 'joined', ctx.grants, false);
  const handler = FORWARDED_HANDLERS[m] as (ctx: JoinedContext, data: unknown) => Promise<unknown>;
  return handler(ctx, parsed.data);
}

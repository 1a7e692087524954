import type { HandlerSet } from './context.js';

export type RosterMethod = 'getPeers';

/**
 * The roster, one page at a time: any participant (an edge's listeners too, from its mirror) pages and
 * searches it instead of receiving all N peers on joining.
 */
export const rosterHandlers: HandlerSet<RosterMethod> = {
  getPeers: async ({ room }, { cursor, limit, search, role, entity }) => room.peersPage({ cursor, limit, search, role, entity }),
};

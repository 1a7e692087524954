import type { JoinGrants } from '../auth/join-token.js';
import type { RequestMethod } from '../../protocol/signaling.js';

/**
 * Who an edge node may serve: someone who only listens. Anyone who speaks, interprets, captions, moderates
 * or waits in the lobby is served by the room's origin, where that state lives.
 */
export function listensOnly(grants: JoinGrants): boolean {
  return grants.subscribe && !grants.publish.floor && grants.publish.booths.length === 0 && !grants.publish.captions && !grants.moderate && !grants.lobby;
}

/**
 * A delegate of a large room: speaks on the floor, and nothing else that needs the origin's state (no
 * booth, captions, moderation or lobby). Once the origin seats enough of them, an edge node may serve one:
 * its media stays on the edge, its producers are piped to the origin, and its floor requests are forwarded.
 */
export function delegateOnly(grants: JoinGrants): boolean {
  return grants.publish.floor && grants.publish.booths.length === 0 && !grants.publish.captions && !grants.moderate && !grants.lobby;
}

/** How an edge node could serve these grants: as a listener, as a delegate, or not at all. */
export type EdgeSeat = 'listener' | 'delegate' | null;

export function edgeSeat(grants: JoinGrants): EdgeSeat {
  if (listensOnly(grants)) return 'listener';
  return delegateOnly(grants) ? 'delegate' : null;
}

/** The requests a listener needs; on an edge node every other one is refused whatever the grants say. */
export const EDGE_METHODS: ReadonlySet<RequestMethod> = new Set<RequestMethod>([
  'getRouterRtpCapabilities',
  'join',
  'createWebRtcTransport',
  'connectWebRtcTransport',
  'restartIce',
  'consume',
  'pauseConsumer',
  'resumeConsumer',
  'closeConsumer',
  'setConsumerPreferredLayers',
  'setView',
  'selectChannel',
  'getPeers',
  'leave',
  // A delegate's own media lives on the edge.
  'produce',
  'closeProducer',
]);

/**
 * A delegate's requests that the edge passes to the origin, where the floor, the rules of who may be heard
 * and the votes live: the origin answers them for its copy of the delegate (and pauses or resumes the piped
 * producer, which the edge mirrors; casts the entity's vote).
 */
export const EDGE_FORWARDED: ReadonlySet<RequestMethod> = new Set<RequestMethod>(['pauseProducer', 'resumeProducer', 'requestFloor', 'withdrawFloorRequest', 'castVote', 'getVoteState']);

import type { JoinGrants } from '../auth/join-token.js';
import type { RequestMethod } from '../../protocol/signaling.js';

/**
 * Who an edge node may serve: someone who only listens. Anyone who speaks, interprets, captions, moderates
 * or waits in the lobby is served by the room's origin, where that state lives.
 */
export function listensOnly(grants: JoinGrants): boolean {
  return grants.subscribe && !grants.publish.floor && grants.publish.booths.length === 0 && !grants.publish.captions && !grants.moderate && !grants.lobby;
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
]);

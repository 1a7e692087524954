import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { RequestMethod } from '../../protocol/signaling.js';
import type { JoinGrants } from '../auth/join-token.js';
import { EDGE_FORWARDED, EDGE_METHODS } from '../cascade/edge-policy.js';

/**
 * A connection's life: `lobby` (waiting for the secretariat, when the session holds this person there) →
 * `connected` (admitted, not in the room yet) → `joined` (a participant with media) → `left` (after
 * `leave`, or once its participant closed). It never goes back: a connection that left accepts nothing more.
 */
export type ConnectionState = 'connected' | 'lobby' | 'joined' | 'left';

/** A grant a method needs, whatever its payload; payload-dependent checks (channels, booths) stay in handlers. */
type Need = 'moderate' | 'subscribe' | 'captions' | 'floor';

interface Gate {
  states: readonly ConnectionState[];
  needs?: Need;
}

const JOINED = ['joined'] as const;
const joined = (needs?: Need): Gate => ({ states: JOINED, needs });

/** Which method is allowed in which state, and with which grant: the only place these are decided. */
export const GATES: { readonly [M in RequestMethod]: Gate } = {
  // Before joining: the router's capabilities (no room is created for them) and the join itself.
  getRouterRtpCapabilities: { states: ['connected', 'joined'] },
  join: { states: ['connected'] },
  leave: joined(),
  // Media: grants by direction and channel are checked in the handlers (they depend on the payload).
  createWebRtcTransport: joined(),
  connectWebRtcTransport: joined(),
  restartIce: joined(),
  produce: joined(),
  closeProducer: joined(),
  pauseProducer: joined(),
  resumeProducer: joined(),
  consume: joined('subscribe'),
  pauseConsumer: joined(),
  closeConsumer: joined(),
  resumeConsumer: joined('subscribe'),
  setConsumerPreferredLayers: joined(),
  setView: joined('subscribe'),
  // Interpretation: booth membership is checked per language in the handlers.
  selectChannel: joined('subscribe'),
  boothGoLive: joined(),
  boothGoOff: joined(),
  boothCough: joined(),
  boothHandover: joined(),
  boothChat: joined(),
  boothSignal: joined(),
  publishCaption: joined('captions'),
  // The floor.
  requestFloor: joined('floor'),
  withdrawFloorRequest: joined(),
  giveFloor: joined('moderate'),
  takeFloor: joined('moderate'),
  addSpeaker: joined('moderate'),
  removeSpeaker: joined('moderate'),
  moveSpeaker: joined('moderate'),
  // Moderation.
  muteParticipant: joined('moderate'),
  askToUnmute: joined('moderate'),
  stopVideo: joined('moderate'),
  allowVideo: joined('moderate'),
  assignInterpreter: joined('moderate'),
  getPeers: joined(),
  getRoster: joined('moderate'),
  admitFromLobby: joined('moderate'),
  denyFromLobby: joined('moderate'),
  removeParticipant: joined('moderate'),
  // Votes: the secretariat or the chair conducts them; an entity's head of delegation (or designated delegate) casts.
  openVote: joined('moderate'),
  passRollCall: joined('moderate'),
  closeVote: joined('moderate'),
  castVote: joined(),
  getVoteState: joined(),
};

const NEEDS: Record<Need, { has: (g: JoinGrants) => boolean; action: string }> = {
  moderate: { has: (g) => g.moderate, action: 'moderate this session' },
  subscribe: { has: (g) => g.subscribe, action: 'receive media' },
  captions: { has: (g) => g.publish.captions, action: 'publish captions' },
  floor: { has: (g) => g.publish.floor, action: 'take the floor' },
};

/** Refuses a method the connection's state or grants do not allow, with the code that says why. */
export function checkGate(method: RequestMethod, state: ConnectionState, grants: JoinGrants, onEdge: boolean): void {
  const gate = GATES[method];
  if (!gate.states.includes(state)) throw stateError(state);
  if (onEdge && !EDGE_METHODS.has(method) && !EDGE_FORWARDED.has(method)) {
    throw new ProtocolError(ErrorCode.FORBIDDEN, 'this node relays the room to its listeners and delegates; reconnect to interpret or moderate');
  }
  const need = gate.needs && NEEDS[gate.needs];
  if (need && !need.has(grants)) throw new ProtocolError(ErrorCode.FORBIDDEN, `your grants do not allow you to ${need.action}`);
}

function stateError(state: ConnectionState): ProtocolError {
  switch (state) {
    case 'connected':
      return new ProtocolError(ErrorCode.NOT_JOINED, 'join the room first');
    case 'lobby':
      return new ProtocolError(ErrorCode.IN_LOBBY, 'you are in the lobby; the secretariat has not admitted you yet');
    case 'joined':
      return new ProtocolError(ErrorCode.ALREADY_JOINED, 'already joined');
    case 'left':
      return new ProtocolError(ErrorCode.ALREADY_LEFT, 'this connection has left the room; connect again to rejoin');
  }
}

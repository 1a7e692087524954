// The signaling contract: every request a client may send, with its schema and answer type, and every event
// the server sends. The server validates against these schemas; the SDK uses the inferred types.
import { z } from 'zod';
import type { CloseReason } from './errors.js';

const id = z.string().min(1).max(128);
const shortText = z.string().max(256);
const smallInt = z.number().int().min(0).max(1_000_000_000);
const uint32 = z.number().int().min(0).max(0xffffffff);
// Free-form codec parameters (profile-level-id, apt, ...): flat, bounded.
const codecParameters = z.record(z.string().max(64), z.union([z.string().max(256), z.number()])).refine(
  (o) => Object.keys(o).length <= 32,
  'too many codec parameters',
);
const rtcpFeedback = z.array(z.object({ type: z.string().max(32), parameter: z.string().max(32).optional() })).max(32);

export const mediaKind = z.enum(['audio', 'video']);
/** What a producer carries, so receivers can lay out tiles without guessing. */
export const mediaSource = z.enum(['mic', 'camera', 'screen']);
/** Where a producer publishes: the floor, or a language channel (its booth), by language code. */
export const channel = z.string().regex(/^(floor|[a-z]{2,3}(-[A-Za-z0-9]{2,8})?)$/, '"floor" or a language code');
/** What a booth asks of the speaker (the lamps of conference hardware). */
export const boothSignalKind = z.enum(['slow_down', 'repeat']);
export type BoothSignalKind = z.infer<typeof boothSignalKind>;

const rtpCodecCapability = z.object({
  kind: mediaKind,
  mimeType: shortText,
  preferredPayloadType: smallInt.optional(),
  clockRate: smallInt,
  channels: smallInt.optional(),
  parameters: codecParameters.optional(),
  rtcpFeedback: rtcpFeedback.optional(),
});
const headerExtensionCapability = z.object({
  kind: mediaKind,
  uri: shortText,
  preferredId: smallInt,
  preferredEncrypt: z.boolean().optional(),
  direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']).optional(),
});
export const rtpCapabilities = z.object({
  codecs: z.array(rtpCodecCapability).max(64).optional(),
  headerExtensions: z.array(headerExtensionCapability).max(64).optional(),
});

const rtpEncoding = z.object({
  ssrc: uint32.optional(),
  rid: z.string().max(32).optional(),
  codecPayloadType: smallInt.optional(),
  rtx: z.object({ ssrc: uint32 }).optional(),
  dtx: z.boolean().optional(),
  scalabilityMode: z.string().max(16).optional(),
  scaleResolutionDownBy: z.number().positive().max(64).optional(),
  maxBitrate: smallInt.optional(),
  maxFramerate: z.number().positive().max(240).optional(),
  adaptivePtime: z.boolean().optional(),
  priority: z.enum(['very-low', 'low', 'medium', 'high']).optional(),
  networkPriority: z.enum(['very-low', 'low', 'medium', 'high']).optional(),
  active: z.boolean().optional(),
});
export const rtpParameters = z.object({
  mid: z.string().max(32).optional(),
  codecs: z
    .array(
      z.object({
        mimeType: shortText,
        payloadType: smallInt.max(127),
        clockRate: smallInt,
        channels: smallInt.optional(),
        parameters: codecParameters.optional(),
        rtcpFeedback: rtcpFeedback.optional(),
      }),
    )
    .min(1)
    .max(16),
  headerExtensions: z
    .array(
      z.object({
        uri: shortText,
        id: smallInt.max(255),
        encrypt: z.boolean().optional(),
        parameters: codecParameters.optional(),
      }),
    )
    .max(32)
    .optional(),
  encodings: z.array(rtpEncoding).max(8).optional(),
  rtcp: z
    .object({ cname: z.string().max(128).optional(), reducedSize: z.boolean().optional(), mux: z.boolean().optional() })
    .optional(),
});
export const dtlsParameters = z.object({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z
    .array(z.object({ algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']), value: z.string().max(256) }))
    .min(1)
    .max(8),
});

const empty = z.object({}).strict();

/** A page of the roster: `cursor` is an earlier page's `nextCursor`; the filters narrow it (all optional). */
const rosterQuery = {
  cursor: z.string().min(1).max(4096).optional(),
  limit: z.number().int().min(1).max(100).default(50),
  /** Case-insensitive substring of a name or an entity's name. */
  search: z.string().trim().min(1).max(64).optional(),
  role: z.string().min(1).max(64).optional(),
  /** An entity's name (case-insensitive, whole name). */
  entity: z.string().min(1).max(256).optional(),
};

/** A rendered video area in CSS pixels: the server picks the simulcast layer that fits it. */
const tileSize = { width: z.number().int().min(0).max(7680), height: z.number().int().min(0).max(4320) };
/** The most gallery tiles one client may ask for (with the stage, the voices and a channel: at most 32 consumers). */
export const MAX_VISIBLE_TILES = 25;

/** Requests: method name -> schema of its payload. */
// ---- votes by entity ------------------------------------------------------------------------------------
export const voteKind = z.enum(['recorded', 'roll_call', 'secret']);
export const votePosition = z.enum(['yes', 'no', 'abstain']);
const voteCandidate = z.string().trim().min(1).max(200);
const voteId = z.string().uuid();

/** Opening a vote: a recorded vote or a roll-call answers yes/no/abstain; a secret ballot elects candidates to seats. */
export const openVoteRequest = z
  .object({
    question: z.string().trim().min(1).max(1000),
    kind: voteKind,
    /** Entity types entitled to vote (accreditation's types); Member States unless said otherwise. */
    eligibleEntityTypes: z.array(z.string().regex(/^[a-z_]{1,64}$/)).min(1).max(16).default(['member_state']),
    candidates: z.array(voteCandidate).min(1).max(100).optional(),
    seats: z.number().int().min(1).max(100).optional(),
    /** The timer: the vote closes by itself after this long (the chair may close it earlier). */
    durationSeconds: z.number().int().min(10).max(24 * 3600).default(300),
    /** Entities entitled to vote that must be present to open it. */
    quorum: z.number().int().min(0).max(10_000).default(0),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.kind === 'secret') {
      if (!v.candidates) ctx.addIssue({ code: 'custom', path: ['candidates'], message: 'a secret ballot needs candidates' });
      if (v.candidates && new Set(v.candidates).size !== v.candidates.length) ctx.addIssue({ code: 'custom', path: ['candidates'], message: 'candidates must differ' });
      if (v.candidates && (v.seats ?? 1) > v.candidates.length) ctx.addIssue({ code: 'custom', path: ['seats'], message: 'more seats than candidates' });
    } else if (v.candidates || v.seats) {
      ctx.addIssue({ code: 'custom', path: ['candidates'], message: 'only a secret ballot has candidates and seats' });
    }
  });

/** A position (recorded vote, roll-call), or up to `seats` candidates for a secret ballot (none: an abstention). */
export const ballot = z.union([z.object({ position: votePosition }).strict(), z.object({ candidates: z.array(voteCandidate).max(100) }).strict()]);

export const requestSchemas = {
  getRouterRtpCapabilities: empty,
  join: z.object({ rtpCapabilities }).strict(),
  createWebRtcTransport: z.object({ direction: z.enum(['send', 'recv']) }).strict(),
  connectWebRtcTransport: z.object({ transportId: id, dtlsParameters }).strict(),
  restartIce: z.object({ transportId: id }).strict(),
  produce: z.object({ transportId: id, kind: mediaKind, rtpParameters, source: mediaSource, channel: channel.default('floor') }).strict(),
  closeProducer: z.object({ producerId: id }).strict(),
  pauseProducer: z.object({ producerId: id }).strict(),
  resumeProducer: z.object({ producerId: id }).strict(),
  consume: z.object({ producerId: id }).strict(),
  pauseConsumer: z.object({ consumerId: id }).strict(),
  closeConsumer: z.object({ consumerId: id }).strict(),
  resumeConsumer: z.object({ consumerId: id }).strict(),
  setConsumerPreferredLayers: z
    .object({ consumerId: id, spatialLayer: z.number().int().min(0).max(3), temporalLayer: z.number().int().min(0).max(3).optional() })
    .strict(),
  leave: empty,
  // Interpretation: what a participant listens to; the booth console; captions.
  /**
   * What this client's screen shows: the stage (the active speaker, large; null: no stage) and the gallery
   * tiles it renders now. The server creates, pauses and closes the video consumers to match.
   */
  setView: z
    .object({
      stage: z.object(tileSize).strict().nullable().default({ width: 1280, height: 720 }),
      tiles: z
        .array(z.object({ peerId: id, ...tileSize }).strict())
        .max(MAX_VISIBLE_TILES)
        .default([])
        .refine((tiles) => new Set(tiles.map((t) => t.peerId)).size === tiles.length, 'one tile per peer'),
      /** The sign-language channel pinned beside the stage, at its size (null: none): its live signer's video is sent. */
      sign: z.object({ language: channel, ...tileSize }).strict().nullable().optional(),
    })
    .strict(),
  /** `floorUnder: false` (low bandwidth): while the channel has a live interpreter, the floor is not sent at all. */
  selectChannel: z.object({ channel, floorUnder: z.boolean().optional() }).strict(),
  boothGoLive: z.object({ language: channel }).strict(),
  boothGoOff: z.object({ language: channel }).strict(),
  boothCough: z.object({ language: channel, active: z.boolean() }).strict(),
  boothHandover: z.object({ language: channel, action: z.enum(['offer', 'request', 'accept', 'take']) }).strict(),
  boothChat: z.object({ language: channel, text: z.string().trim().min(1).max(1000) }).strict(),
  /** An interpreter asks the speaker to slow down, or to repeat: shown to moderators and the current speaker. */
  boothSignal: z.object({ language: channel, kind: boothSignalKind }).strict(),
  publishCaption: z.object({ language: channel, text: z.string().max(2000), final: z.boolean() }).strict(),
  // The floor: delegates ask; the secretariat orders the list and gives and takes the floor.
  requestFloor: z.object({ kind: z.enum(['speaker', 'point_of_order']).default('speaker') }).strict(),
  withdrawFloorRequest: empty,
  giveFloor: z.object({ participantId: id.optional() }).strict(),
  takeFloor: empty,
  addSpeaker: z.object({ participantId: id, kind: z.enum(['speaker', 'point_of_order']).default('speaker') }).strict(),
  removeSpeaker: z.object({ participantId: id }).strict(),
  moveSpeaker: z.object({ participantId: id, position: z.number().int().min(0).max(10_000) }).strict(),
  // Moderation of one participant's media.
  muteParticipant: z.object({ participantId: id }).strict(),
  askToUnmute: z.object({ participantId: id }).strict(),
  stopVideo: z.object({ participantId: id }).strict(),
  /** Lifts a `stopVideo`: the participant may publish video again. */
  allowVideo: z.object({ participantId: id }).strict(),
  // Conduct (the `moderate` grant): the lobby, the detailed roster, removal, interpreter assignment.
  assignInterpreter: z.object({ participantId: id, language: channel }).strict(),
  /** The roster, one page at a time (the join answer carries the first one). */
  getPeers: z.object(rosterQuery).strict(),
  /** The secretariat's detailed roster, one page at a time (at most 100 participants), with the lobby and the quorum. */
  getRoster: z
    .object({
      ...rosterQuery,
      limit: z.number().int().min(1).max(100).default(100),
      /** How the person's accreditation was confirmed (`live`, `cache`, `grace`, `none`) or its status (`dev-mode`). */
      accreditation: z.string().regex(/^[a-z-]{1,32}$/).optional(),
    })
    .strict(),
  admitFromLobby: z.object({ participantId: id }).strict(),
  denyFromLobby: z.object({ participantId: id, reason: z.string().max(500).optional() }).strict(),
  removeParticipant: z.object({ participantId: id, reason: z.string().max(500).optional() }).strict(),
  // Votes by entity.
  openVote: openVoteRequest,
  castVote: z.object({ voteId, ballot }).strict(),
  /** A roll-call: the entity called now passes (it is called again after the others). */
  passRollCall: z.object({ voteId }).strict(),
  closeVote: z.object({ voteId }).strict(),
  /** The open vote (else one closed in the last 15 minutes, with its result), and whether one's own entity has voted. */
  getVoteState: empty,
} as const;

export type RequestMethod = keyof typeof requestSchemas;
export type RequestData<M extends RequestMethod> = z.infer<(typeof requestSchemas)[M]>;
export type MediaKind = z.infer<typeof mediaKind>;
export type MediaSource = z.infer<typeof mediaSource>;
export type Channel = z.infer<typeof channel>;
export type RtpCapabilities = z.infer<typeof rtpCapabilities>;

export function isRequestMethod(name: string): name is RequestMethod {
  return Object.prototype.hasOwnProperty.call(requestSchemas, name);
}

// ---- answers ----------------------------------------------------------------------------------------
// Opaque mediasoup structures travel as `unknown` here: the SDK hands them to mediasoup-client untouched.

export interface EntityInfo {
  name: string;
  type: string;
  countryCode?: string;
}

/** How every participant sees every other: name, the entity they represent, their role. */
export interface PeerInfo {
  id: string;
  name: string;
  role: string;
  entity: EntityInfo;
  /** Conducts the session (the `moderate` grant); listed first in the roster, after the floor holder. */
  conducting?: boolean;
  /** Takes part by telephone (dial-in): shown with a phone mark. */
  via?: 'phone';
}

/** A page of the roster, in its one order: the floor holder, those conducting, then everyone by name. */
export interface PeersPage {
  peers: PeerInfo[];
  /** Pass to `getPeers` for the next page; null on the last. */
  nextCursor: string | null;
  /** How many match the query (the whole roster, the asker included, without filters). */
  total: number;
}

/** Whether a language channel has a live interpreter right now; without one, listeners hear the floor. */
export interface ChannelInfo {
  language: string;
  live: boolean;
  /** The live interpreter's name (the secretariat's booth status). */
  interpreter?: string;
}

/** A sign-language channel: whether a signer is live, and who (the pinned video's accessible name). */
export interface SignChannelInfo {
  language: string;
  live: boolean;
  /** The live signer (absent when nobody is live). */
  interpreter?: { id: string; name: string };
}

export interface BoothState {
  language: string;
  interpreters: Array<{ id: string; name: string }>;
  /** Who holds the booth's microphone; null when nobody is live. */
  live: string | null;
  coughing: boolean;
  /** A handover in progress: offered by the live interpreter, or requested by a partner. */
  handover: { kind: 'offer' | 'request'; from: string; since: number; takeAfterMs: number } | null;
}

/** A request for the floor on the speakers list. */
export interface SpeakerEntry {
  id: string;
  name: string;
  entity: string;
  kind: 'speaker' | 'point_of_order';
  requestedAt: number;
}

/** The speakers list and who holds the floor, with their speaking time. */
export interface FloorState {
  /** Moderated floor: a delegate is heard only while holding the floor. */
  controlled: boolean;
  speaker: (SpeakerEntry & { since: number; limitMs: number; warningMs: number }) | null;
  queue: SpeakerEntry[];
}

/** Entities present now, by entity type: the quorum view. */
export interface QuorumView {
  byType: Record<string, { entities: string[]; count: number }>;
  total: number;
  /**
   * Live notices and the roster only, once counted: listeners served by other (edge) nodes. They are not in
   * `byType` (their entities are in the `listeners` census and the quorum route).
   */
  edgeListeners?: number;
}

/**
 * Listeners served by other (edge) nodes, counted from the attendance in the database: compact however many
 * there are (each person once; the largest entities by name, the rest as one number).
 */
export interface ListenerCensus {
  total: number;
  byEntityType: Record<string, number>;
  /** The entities with the most listeners, largest first (at most 20). */
  byEntity: Array<{ entity: string; entityType: string; count: number }>;
  /** Listeners of the entities not in `byEntity`. */
  others: number;
  /** Entities with at least one listener, listed or not. */
  entities: number;
  /** When it was counted (ms since the epoch). */
  at: number;
}

/** The secretariat's view of a participant adds the accreditation behind their admission. */
export interface RosterEntry extends PeerInfo {
  accreditation: { status: string; source: string };
  /** Connection quality 0..10 from mediasoup's scores of what they send (absent while they send nothing). */
  quality?: number;
}

/** What a participant may do, as the server enforces it now. */
export interface GrantsView {
  role: string;
  publish: { floor: boolean; booths: string[]; captions: boolean };
  subscribe: boolean;
  moderate: boolean;
}

export interface ProducerInfo {
  producerId: string;
  peerId: string;
  kind: MediaKind;
  source: MediaSource;
  channel: string;
  paused: boolean;
}

export interface TransportInfo {
  id: string;
  iceParameters: unknown;
  iceCandidates: unknown[];
  dtlsParameters: unknown;
}

export interface ConsumerInfo {
  consumerId: string;
  producerId: string;
  peerId: string;
  kind: MediaKind;
  source: MediaSource;
  channel: string;
  rtpParameters: unknown;
  producerPaused: boolean;
}

export type VoteKind = z.infer<typeof voteKind>;
export type VotePosition = z.infer<typeof votePosition>;
export type Ballot = z.infer<typeof ballot>;

export interface EntityVote {
  entity: string;
  entityType: string;
  position: VotePosition;
}

/** A closed vote's result: by entity for recorded votes and roll-calls; totals only for a secret ballot. */
export type VoteResult =
  | { kind: 'recorded' | 'roll_call'; totals: Record<VotePosition, number>; byEntity: EntityVote[]; notVoting: string[] }
  | {
      kind: 'secret';
      ballots: number;
      abstentions: number;
      byCandidate: Array<{ candidate: string; votes: number }>;
      /** The candidates with the most votes, up to the seats; a tie for the last seat elects none of the tied. */
      elected: string[];
      /** Tied for the last seat(s): a further round decides. */
      tied: string[];
    };

/** A vote as everyone sees it: how many entities have voted, never how, until it closes. */
export interface VoteView {
  voteId: string;
  question: string;
  kind: VoteKind;
  eligibleEntityTypes: string[];
  candidates?: string[];
  seats?: number;
  /** A roll-call's calling order, from the entity drawn by lot. */
  order?: string[];
  status: 'open' | 'closed';
  openedAt: number;
  closesAt: number | null;
  /** Entities entitled to vote and present when it opened. */
  entitled: number;
  /** Entities that have voted. */
  cast: number;
  /** A roll-call: the entity called now (null when all have been called). */
  called: string | null;
  result: VoteResult | null;
}

export interface VoteState {
  vote: VoteView | null;
  /** Whether one's own entity has voted (and how, unless the ballot is secret). */
  ownEntity: { voted: boolean; position?: VotePosition } | null;
}

export interface ResponseData {
  getRouterRtpCapabilities: { rtpCapabilities: unknown };
  join: {
    self: PeerInfo;
    /** The roster's first page (without this participant); `getPeers { cursor: peersNextCursor }` for the rest. */
    peers: PeerInfo[];
    /** Everyone in the room's roster (this participant included). */
    peersTotal: number;
    peersNextCursor: string | null;
    /**
     * What this client consumes itself. With selective forwarding the server pushes the audible floor
     * microphones and the cameras its screen shows (`newConsumer`) once it has a receive transport.
     */
    producers: ProducerInfo[];
    /** The active speaker now (see `activeSpeaker`), and who they are (they may not be on the roster's first page). */
    activeSpeaker: string | null;
    activeSpeakerPeer: PeerInfo | null;
    channels: ChannelInfo[];
    booths: BoothState[];
    floor: FloorState;
    /** Lets this client reconnect by itself (worker or node failure) without a new accreditation round. */
    resumeToken: string;
    /** The cluster's live nodes, where to reconnect if this one fails. */
    nodes: string[];
    /**
     * `all`: receive every language channel, paused until chosen (switching costs one resume).
     * `selected`: receive only the floor and the chosen language (less server CPU in very large rooms;
     * switching creates a consumer).
     */
    listenerChannels: 'all' | 'selected';
  };
  createWebRtcTransport: TransportInfo;
  connectWebRtcTransport: Record<string, never>;
  restartIce: { iceParameters: unknown };
  produce: { producerId: string };
  closeProducer: Record<string, never>;
  pauseProducer: Record<string, never>;
  resumeProducer: Record<string, never>;
  consume: ConsumerInfo;
  pauseConsumer: Record<string, never>;
  closeConsumer: Record<string, never>;
  resumeConsumer: Record<string, never>;
  setConsumerPreferredLayers: Record<string, never>;
  leave: Record<string, never>;
  setView: { tiles: number };
  selectChannel: { channel: string; live: boolean };
  boothGoLive: Record<string, never>;
  boothGoOff: Record<string, never>;
  boothCough: Record<string, never>;
  boothHandover: Record<string, never>;
  boothChat: Record<string, never>;
  boothSignal: Record<string, never>;
  publishCaption: Record<string, never>;
  assignInterpreter: Record<string, never>;
  requestFloor: Record<string, never>;
  withdrawFloorRequest: Record<string, never>;
  giveFloor: Record<string, never>;
  takeFloor: Record<string, never>;
  addSpeaker: Record<string, never>;
  removeSpeaker: Record<string, never>;
  moveSpeaker: Record<string, never>;
  muteParticipant: Record<string, never>;
  askToUnmute: Record<string, never>;
  stopVideo: Record<string, never>;
  allowVideo: Record<string, never>;
  getPeers: PeersPage;
  getRoster: { participants: RosterEntry[]; nextCursor: string | null; total: number; lobby: RosterEntry[]; quorum: QuorumView };
  admitFromLobby: Record<string, never>;
  denyFromLobby: Record<string, never>;
  removeParticipant: Record<string, never>;
  openVote: { vote: VoteView };
  castVote: { cast: number };
  passRollCall: { vote: VoteView };
  closeVote: { vote: VoteView };
  getVoteState: VoteState;
}

/** How much video a receiver gets for its downlink's estimate (see `videoFallback`). */
export type VideoFallbackState = 'full' | 'lowest' | 'off';

/** Events the server pushes to a client. */
export interface ServerEvents {
  /**
   * Who joined and left since the last batch (at most one per room every PLENUM_ROSTER_BATCH_MS); apply
   * `left` first. A peer that joined and left within one batch is in neither. `total`: the roster's size.
   */
  peersChanged: { joined: PeerInfo[]; left: string[]; total: number };
  newProducer: ProducerInfo;
  producerClosed: { producerId: string };
  /**
   * A floor microphone left the audible set (the floor moved, another voice is louder): forget it and its
   * track (its consumer closes too). It may come back with `newProducer`. Only audible floor microphones are
   * announced (and in the join answer's `producers`); consuming another is refused with `NOT_AUDIBLE`.
   */
  producerHidden: { producerId: string };
  /**
   * A consumer the server made for this client (selective forwarding): an audible floor microphone, or a
   * camera on its stage or in its gallery. Wire it up, then resume it if `paused` (video starts paused so
   * that its first frame is a key frame the client can decode). Its end comes as `consumerClosed`.
   */
  newConsumer: ConsumerInfo & { paused: boolean };
  /** The room's active speaker changed: the floor holder on a moderated floor, else the dominant voice (null: nobody). */
  activeSpeaker: { peerId: string | null; peer: PeerInfo | null };
  /**
   * Dynacast, to a publisher: the highest simulcast layer anyone receives of this producer now; -1 when
   * nobody does. Encodings above it may be switched off until it rises.
   */
  publisherLayers: { producerId: string; spatialLayer: number };
  /** A camera this client receives was paused or resumed at its source (show a black tile). Not sent for audio: a paused microphone sends nothing. */
  producerPaused: { producerId: string };
  producerResumed: { producerId: string };
  consumerClosed: { consumerId: string; producerId: string };
  consumerLayersChanged: { consumerId: string; spatialLayer: number | null; temporalLayer: number | null };
  /**
   * This receiver's video follows its downlink (docs/LOW-BANDWIDTH.md): `full`, as its screen asks; `lowest`,
   * every camera at its lowest simulcast layer; `off`, no video until the link recovers. `estimateBps`: the
   * server's estimate of the downlink when it decided (null: none yet).
   */
  videoFallback: { state: VideoFallbackState; estimateBps: number | null };
  roomClosed: { reason: CloseReason };
  /** This connection waits in the lobby until the secretariat admits or denies it. */
  lobbyWaiting: {
    /** The next resume token (the one this connection used is spent), so a drop while waiting can be mended. */
    resumeToken?: string;
  };
  lobbyAdmitted: Record<string, never>;
  /**
   * Right after an admitted (non-lobby) connection opens: the next resume token. The one this connection
   * used is spent, so a drop before the join answer can still be mended with this one.
   */
  resumeToken: { resumeToken: string };
  /** To moderators: who waits in the lobby now. */
  lobbyChanged: { waiting: RosterEntry[] };
  /** To everyone: which language channels have a live interpreter. */
  channelsChanged: { channels: ChannelInfo[] };
  /** To everyone (and each newcomer, on joining): the session's sign-language channels and their live signers. */
  signChannelsChanged: { channels: SignChannelInfo[] };
  /** To a booth's interpreters: who is in the booth, who is live, handovers. */
  boothState: BoothState;
  boothChat: { language: string; from: { id: string; name: string }; text: string; at: number };
  /** To moderators and the current speaker: a booth asks to slow down or to repeat (the interpreter's name only). */
  boothSignal: { language: string; kind: BoothSignalKind; from: { name: string }; at: number };
  /**
   * To everyone: the secretariat or the chair put a session document in focus (null: none). Only its id:
   * read the listing again (GET /api/sessions/{id}/documents) with one's own token, which names the document
   * only to those in its audience (its `focus` is null for the others).
   */
  documentFocus: { documentId: string | null; at: number };
  /**
   * To everyone, and to each newcomer while it holds: whether the session is being recorded (and since when,
   * ms since the epoch), so nobody speaks unaware of it.
   */
  recordingState: { recording: boolean; since: number | null };
  /** To everyone: a vote opened. */
  voteOpened: VoteView;
  /** To everyone: how many entities have voted (never how), and a roll-call's entity called now. */
  voteProgress: { voteId: string; cast: number; entitled: number; called: string | null };
  /** To the delegates of the entity that voted: their entity's vote is in (its position, unless secret). */
  voteCast: { voteId: string; entity: string; position?: VotePosition };
  /** To everyone: the vote closed, with its result. */
  voteClosed: VoteView;
  /**
   * On joining while a vote is open, or within 15 minutes of its close (then with its result): the vote, and
   * whether one's own entity has voted. A connection that dropped over the close still learns the result.
   */
  voteState: VoteState;
  caption: { language: string; text: string; final: boolean; at: number };
  /** To everyone: the speakers list and the floor. */
  floorState: FloorState;
  /** To the speaker and moderators: the speaking time is nearly over, or over. */
  speakingTime: { state: 'warning' | 'expired'; participantId: string };
  /** The secretariat muted this participant's microphone (or stopped their video). */
  moderated: { action: 'muted' | 'video-stopped' };
  /** The secretariat asks this participant to unmute (and lifts its mute: the microphone may be resumed again). */
  unmuteRequested: Record<string, never>;
  /** The secretariat lifted a `stopVideo`: this participant may publish video again. */
  videoAllowed: Record<string, never>;
  /** This participant's grants changed live (a registry change, e.g. a demotion takes `moderate` away). */
  grantsChanged: GrantsView;
  /** To moderators: entities present by type. */
  quorum: QuorumView;
  /** To moderators: listeners on other (edge) nodes, when the count changed (at most once per census interval), and on joining. */
  listeners: ListenerCensus;
  /** This participant was removed (revoked accreditation, secretariat, lobby denial); the connection closes. */
  removed: { reason: CloseReason; message: string };
  /** An error for a message that carried no acknowledgement callback. */
  protocolError: { method: string; code: string; message: string };
}

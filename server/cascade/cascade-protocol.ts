// What origin and edge nodes say to each other over the cluster bus. Nodes trust each other no more than
// they trust clients: every message is parsed here before it is used, with strict schemas (an unknown key
// refuses the message) and bounded sizes.
import { z } from 'zod';
import { CloseReason } from '../../protocol/errors.js';
import { joinGrantsSchema } from '../auth/join-token.js';
import { EDGE_FORWARDED } from './edge-policy.js';
import { rtpParameters, voteKind, votePosition, type ChannelInfo, type FloorState, type PeerInfo, type ProducerInfo, type ServerEvents, type VoteState, type VoteView } from '../../protocol/signaling.js';

const id = z.string().min(1).max(128);
const language = z.string().min(1).max(64);
const entity = z.object({ name: z.string().max(256), type: z.string().max(64), countryCode: z.string().max(8).optional() }).strict();
const peer = z.object({ id, name: z.string().max(256), role: z.string().max(64), entity, conducting: z.boolean().optional(), via: z.enum(['phone']).optional() }).strict() satisfies z.ZodType<PeerInfo>;
const producer = z
  .object({
    producerId: id,
    peerId: id,
    kind: z.enum(['audio', 'video']),
    source: z.enum(['mic', 'camera', 'screen']),
    channel: language,
    paused: z.boolean(),
  })
  .strict() satisfies z.ZodType<ProducerInfo>;
const channel = z.object({ language, live: z.boolean(), interpreter: z.string().max(256).optional() }).strict() satisfies z.ZodType<ChannelInfo>;
const speakerFields = { id, name: z.string().max(256), entity: z.string().max(256), kind: z.enum(['speaker', 'point_of_order']), requestedAt: z.number() };
const speaker = z.object(speakerFields).strict();
const floor = z
  .object({
    controlled: z.boolean(),
    speaker: z.object({ ...speakerFields, since: z.number(), limitMs: z.number(), warningMs: z.number() }).strict().nullable(),
    queue: z.array(speaker).max(10_000),
  })
  .strict() satisfies z.ZodType<FloorState>;
const caption = z.object({ language, text: z.string().max(2000), final: z.boolean(), at: z.number() }).strict() satisfies z.ZodType<ServerEvents['caption']>;

const recordingState = z.object({ recording: z.boolean(), since: z.number().int().nonnegative().nullable() }).strict() satisfies z.ZodType<ServerEvents['recordingState']>;

// Votes, as the origin tells them to an edge's delegates and listeners (bounds well above what the origin accepts).
const voteText = z.string().max(1000);
const voteCount = z.number().int().min(0).max(100_000);
const voteResult = z.union([
  z
    .object({
      kind: z.enum(['recorded', 'roll_call']),
      totals: z.object({ yes: voteCount, no: voteCount, abstain: voteCount }).strict(),
      byEntity: z.array(z.object({ entity: voteText, entityType: z.string().max(64), position: votePosition }).strict()).max(100_000),
      notVoting: z.array(voteText).max(100_000),
    })
    .strict(),
  z
    .object({
      kind: z.literal('secret'),
      ballots: voteCount,
      abstentions: voteCount,
      byCandidate: z.array(z.object({ candidate: voteText, votes: voteCount }).strict()).max(100),
      elected: z.array(voteText).max(100),
      tied: z.array(voteText).max(100),
    })
    .strict(),
]);
const voteView = z
  .object({
    voteId: id,
    question: voteText,
    kind: voteKind,
    eligibleEntityTypes: z.array(z.string().max(64)).max(16),
    candidates: z.array(voteText).max(100).optional(),
    seats: z.number().int().min(1).max(100).optional(),
    order: z.array(voteText).max(100_000).optional(),
    status: z.enum(['open', 'closed']),
    openedAt: z.number(),
    closesAt: z.number().nullable(),
    entitled: voteCount,
    cast: voteCount,
    called: voteText.nullable(),
    result: voteResult.nullable(),
  })
  .strict() satisfies z.ZodType<VoteView>;
const voteState = z.object({ vote: voteView.nullable(), ownEntity: z.object({ voted: z.boolean(), position: votePosition.optional() }).strict().nullable() }).strict() satisfies z.ZodType<VoteState>;

/** What an edge needs to seat its listeners: who is in the room, what they send, the channels and the floor. */
export const roomSnapshot = z
  .object({
    peers: z.array(peer).max(100_000),
    producers: z.array(producer).max(100_000),
    channels: z.array(channel).max(64),
    floor,
    activeSpeaker: peer.nullable().optional(),
    /** Every camera in the room: an edge pipes one in when a screen there shows its owner in a gallery tile. */
    cameras: z.array(producer).max(100_000).optional(),
    /** Whether the room is being recorded: an edge tells its newcomers. */
    recording: recordingState.nullable().optional(),
  })
  .strict();
export type RoomSnapshot = z.infer<typeof roomSnapshot>;

/**
 * One side of a pipe as it travels between nodes: the address, and the SRTP parameters sealed with the
 * cluster key (`srtp`, see srtp-seal.ts). Parameters in clear are refused by the strict schema.
 */
const wireEndpoint = z
  .object({
    ip: z.string().min(1).max(64),
    port: z.number().int().min(1).max(65535),
    srtp: z.string().max(512).optional(),
  })
  .strict();
export type WireEndpoint = z.infer<typeof wireEndpoint>;

/**
 * Where the origin's stream of a room stands: the owner's epoch (its lease token: only grows from one owner
 * to the next) and the sequence number of the last message it published in that epoch (0: none yet). A
 * snapshot comes with the position it reflects; messages at or below it are already in it.
 */
const streamPosition = z.object({ epoch: z.number().int().nonnegative(), seq: z.number().int().nonnegative() }).strict();
export type StreamPosition = z.infer<typeof streamPosition>;

/** Requests an edge sends to a room's origin node, each with the schema of its parameters and of its answer. */
export const cascadeRequests = {
  /** Opens the pipe from the origin's router to the edge's: each side gives its address. */
  'cascade.attach': { params: z.object({ roomId: id, edge: wireEndpoint }).strict(), result: z.object({ origin: wireEndpoint, snapshot: roomSnapshot, at: streamPosition }).strict() },
  /** Sends one producer through the pipe; the edge then produces it under the same id. */
  'cascade.pipe': {
    params: z.object({ roomId: id, producerId: id }).strict(),
    result: z.object({ kind: z.enum(['audio', 'video']), rtpParameters, paused: z.boolean(), info: producer }).strict(),
  },
  /** Resynchronisation: the whole state again, after the edge missed messages (a gap, or Redis was away). */
  'cascade.snapshot': { params: z.object({ roomId: id }).strict(), result: z.object({ snapshot: roomSnapshot, at: streamPosition }).strict() },
  'cascade.detach': { params: z.object({ roomId: id }).strict(), result: z.null() },
  /** Nobody on the edge receives this producer any more: the origin stops sending it through the pipe. */
  'cascade.unpipe': { params: z.object({ roomId: id, producerId: id }).strict(), result: z.null() },
  /**
   * A delegate joined on the edge: the origin seats its copy (roster, quorum, floor, attendance). The edge
   * checked the person's token and accreditation; the origin checks that an edge may serve these grants.
   */
  'cascade.seat': { params: z.object({ roomId: id, peerId: id, grants: joinGrantsSchema }).strict(), result: z.null() },
  /** The delegate left the edge (or its connection dropped): the origin's copy goes. */
  'cascade.unseat': { params: z.object({ roomId: id, peerId: id }).strict(), result: z.null() },
  /**
   * The delegate published on the edge, which sends it up the pipe: the origin produces it on its end
   * under the same id, and answers whether it must stay paused (a moderated floor, a moderator's mute).
   */
  'cascade.publish': {
    params: z
      .object({ roomId: id, peerId: id, producerId: id, kind: z.enum(['audio', 'video']), rtpParameters, source: z.enum(['mic', 'camera', 'screen']), paused: z.boolean() })
      .strict(),
    result: z.object({ paused: z.boolean() }).strict(),
  },
  'cascade.unpublish': { params: z.object({ roomId: id, peerId: id, producerId: id }).strict(), result: z.null() },
  /** One of the delegate's requests that only the origin can answer (the floor; pausing or resuming its producers). */
  'cascade.forward': {
    params: z.object({ roomId: id, peerId: id, method: z.enum([...EDGE_FORWARDED] as [string, ...string[]]), data: z.unknown() }).strict(),
    result: z.unknown(),
  },
} as const;
export type CascadeMethod = keyof typeof cascadeRequests;
export type CascadeParams<M extends CascadeMethod> = z.infer<(typeof cascadeRequests)[M]['params']>;
export type CascadeResult<M extends CascadeMethod> = z.infer<(typeof cascadeRequests)[M]['result']>;

/** Room events the origin relays to its edges (what it broadcasts to everyone in the room), each with its schema. */
const eventSchemas = {
  peersChanged: z.object({ joined: z.array(peer).max(100_000), left: z.array(id).max(100_000), total: z.number().int().nonnegative() }).strict(),
  newProducer: producer,
  producerClosed: z.object({ producerId: id }).strict(),
  producerHidden: z.object({ producerId: id }).strict(),
  channelsChanged: z.object({ channels: z.array(channel).max(64) }).strict(),
  caption,
  floorState: floor,
  activeSpeaker: z.object({ peerId: id.nullable(), peer: peer.nullable() }).strict(),
  documentFocus: z.object({ documentId: z.string().max(64).nullable(), at: z.number().int().nonnegative() }).strict(),
  recordingState,
  voteOpened: voteView,
  voteProgress: z.object({ voteId: id, cast: voteCount, entitled: voteCount, called: voteText.nullable() }).strict(),
  voteClosed: voteView,
};
export type RelayedEvent = keyof typeof eventSchemas;
export const relayedEvents = Object.keys(eventSchemas) as RelayedEvent[];

const relayed = <E extends RelayedEvent>(event: E) => z.object({ type: z.literal('event'), event: z.literal(event), data: eventSchemas[event] }).strict();
const closeReasons = Object.values(CloseReason) as [CloseReason, ...CloseReason[]];

/** What the origin publishes on a room's topic: a relayed event (its data checked against that event's schema), a producer paused or resumed, a camera published, the room's end. */
export const roomTopicMessage = z.union([
  relayed('peersChanged'),
  relayed('newProducer'),
  relayed('producerClosed'),
  relayed('producerHidden'),
  relayed('channelsChanged'),
  relayed('caption'),
  relayed('floorState'),
  relayed('activeSpeaker'),
  relayed('documentFocus'),
  relayed('recordingState'),
  relayed('voteOpened'),
  relayed('voteProgress'),
  relayed('voteClosed'),
  z.object({ type: z.literal('paused'), producerId: id, paused: z.boolean() }).strict(),
  // A camera published (for edges' gallery tiles; not repeated to clients). Its end comes as `producerClosed`.
  z.object({ type: z.literal('camera'), info: producer }).strict(),
  z.object({ type: z.literal('closed'), reason: z.enum(closeReasons) }).strict(),
]);
export type RoomTopicMessage = z.infer<typeof roomTopicMessage>;

/**
 * What travels on a room's topic: a message stamped with the publishing owner's epoch and its sequence
 * number, 1, 2, 3… within that epoch (a new owner starts again at 1). An edge ignores a lower epoch than
 * its origin's (a late word from an old owner) and resynchronises on a gap in the sequence.
 */
export const roomTopicFrame = z
  .object({ epoch: z.number().int().nonnegative(), seq: z.number().int().positive(), message: roomTopicMessage })
  .strict();
export type RoomTopicFrame = z.infer<typeof roomTopicFrame>;

/**
 * What an edge does with a frame: apply it; skip it (`seen`: the snapshot or an earlier frame holds it);
 * ignore it (`stale`: an earlier owner's); follow the room away (`moved`: a newer owner speaks for it); or
 * resynchronise (`gap`: a message in between was lost).
 */
export type FrameVerdict = 'apply' | 'seen' | 'stale' | 'moved' | 'gap';

/** An edge's place in its origin's stream. */
export class StreamCursor {
  private at: StreamPosition;

  constructor(at: StreamPosition) {
    this.at = { ...at };
  }

  get position(): StreamPosition {
    return { ...this.at };
  }

  /** Judges a frame; `apply` moves the cursor past it. */
  judge(frame: Pick<RoomTopicFrame, 'epoch' | 'seq'>): FrameVerdict {
    if (frame.epoch < this.at.epoch) return 'stale';
    if (frame.epoch > this.at.epoch) return 'moved';
    if (frame.seq <= this.at.seq) return 'seen';
    if (frame.seq > this.at.seq + 1) return 'gap';
    this.at.seq = frame.seq;
    return 'apply';
  }

  /** A snapshot of the same epoch: what it reflects is behind the cursor now. */
  resetTo(at: StreamPosition): void {
    this.at = { ...at };
  }
}

export const roomTopic = (roomId: string): string => `room:${roomId}`;

const personalEvents = {
  moderated: z.object({ action: z.enum(['muted', 'video-stopped']) }).strict(),
  unmuteRequested: z.object({}).strict(),
  videoAllowed: z.object({}).strict(),
  grantsChanged: z
    .object({ role: z.string().max(64), publish: z.object({ floor: z.boolean(), booths: z.array(z.string().max(16)).max(32), captions: z.boolean() }).strict(), subscribe: z.boolean(), moderate: z.boolean() })
    .strict(),
  speakingTime: z.object({ state: z.enum(['warning', 'expired']), participantId: id }).strict(),
  removed: z.object({ reason: z.enum(closeReasons), message: z.string().max(1000) }).strict(),
  /** Dynacast at the origin: the edge stops sending a camera up the pipe while nobody there receives it (-1). */
  publisherLayers: z.object({ producerId: id, spatialLayer: z.number().int().min(-1).max(15) }).strict(),
  /** A vote told to this delegate: as it stands on (re)joining, its own entity's vote in, its result when missed. */
  voteState,
  voteCast: z.object({ voteId: id, entity: voteText, position: votePosition.optional() }).strict(),
  voteClosed: voteView,
};
export type PersonalEvent = keyof typeof personalEvents;
export const PERSONAL_EVENTS: ReadonlySet<string> = new Set(Object.keys(personalEvents));
const personal = <E extends PersonalEvent>(event: E) => z.object({ type: z.literal('event'), event: z.literal(event), data: personalEvents[event] }).strict();

/**
 * What the origin says to one delegate an edge serves: the events meant for that person alone (what is
 * said to the room travels on the room's topic), and the end of its copy at the origin (removed, replaced
 * by a newer connection, the room closed), on which the edge closes the delegate too.
 */
export const delegateMessage = z
  .object({
    peerId: id,
    message: z.union([
      personal('moderated'),
      personal('unmuteRequested'),
      personal('videoAllowed'),
      personal('grantsChanged'),
      personal('speakingTime'),
      personal('removed'),
      personal('publisherLayers'),
      personal('voteState'),
      personal('voteCast'),
      personal('voteClosed'),
      z.object({ type: z.literal('closed'), reason: z.enum(closeReasons) }).strict(),
    ]),
  })
  .strict();
export type DelegateMessage = z.infer<typeof delegateMessage>;

/** The origin's messages to the delegates one edge node serves in a room. */
export const delegatesTopic = (roomId: string, edgeNode: string): string => `room:${roomId}:delegates:${edgeNode}`;

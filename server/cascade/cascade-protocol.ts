// What origin and edge nodes say to each other over the cluster bus. Nodes trust each other no more than
// they trust clients: every message is parsed here before it is used.
import { z } from 'zod';
import type { ChannelInfo, FloorState, PeerInfo, ProducerInfo } from '../../protocol/signaling.js';

const id = z.string().min(1).max(128);
const entity = z.object({ name: z.string().max(256), type: z.string().max(64), countryCode: z.string().max(8).optional() });
const peer = z.object({ id, name: z.string().max(256), role: z.string().max(64), entity }) satisfies z.ZodType<PeerInfo>;
const producer = z.object({
  producerId: id,
  peerId: id,
  kind: z.enum(['audio', 'video']),
  source: z.enum(['mic', 'camera', 'screen']),
  channel: z.string().max(64),
  paused: z.boolean(),
}) satisfies z.ZodType<ProducerInfo>;
const channel = z.object({ language: z.string().max(64), live: z.boolean(), interpreter: z.string().max(256).optional() }) satisfies z.ZodType<ChannelInfo>;
const speaker = z.object({ id, name: z.string().max(256), entity: z.string().max(256), kind: z.enum(['speaker', 'point_of_order']), requestedAt: z.number() });
const floor = z.object({
  controlled: z.boolean(),
  speaker: speaker.extend({ since: z.number(), limitMs: z.number(), warningMs: z.number() }).nullable(),
  queue: z.array(speaker).max(10_000),
}) satisfies z.ZodType<FloorState>;

/** What an edge needs to seat its listeners: who is in the room, what they send, the channels and the floor. */
export const roomSnapshot = z.object({
  peers: z.array(peer).max(100_000),
  producers: z.array(producer).max(100_000),
  channels: z.array(channel).max(64),
  floor,
});
export type RoomSnapshot = z.infer<typeof roomSnapshot>;

const srtpParameters = z.object({ cryptoSuite: z.enum(['AEAD_AES_256_GCM', 'AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']), keyBase64: z.string().max(256) });
const endpoint = z.object({ ip: z.string().max(64), port: z.number().int().min(1).max(65535), srtpParameters: srtpParameters.optional() });
export type PipeEndpoint = z.infer<typeof endpoint>;

/** Requests an edge sends to a room's origin node, each with the schema of its parameters and of its answer. */
export const cascadeRequests = {
  /** Opens the pipe from the origin's router to the edge's: each side gives its address. */
  'cascade.attach': { params: z.object({ roomId: id, edge: endpoint }), result: z.object({ origin: endpoint, snapshot: roomSnapshot }) },
  /** Sends one producer through the pipe; the edge then produces it under the same id. */
  'cascade.pipe': {
    params: z.object({ roomId: id, producerId: id }),
    result: z.object({ kind: z.enum(['audio', 'video']), rtpParameters: z.record(z.string(), z.unknown()), paused: z.boolean(), info: producer }),
  },
  'cascade.snapshot': { params: z.object({ roomId: id }), result: roomSnapshot },
  'cascade.detach': { params: z.object({ roomId: id }), result: z.null() },
} as const;
export type CascadeMethod = keyof typeof cascadeRequests;
export type CascadeParams<M extends CascadeMethod> = z.infer<(typeof cascadeRequests)[M]['params']>;
export type CascadeResult<M extends CascadeMethod> = z.infer<(typeof cascadeRequests)[M]['result']>;

/** Room events the origin relays to its edges (what it broadcasts to everyone in the room). */
export const relayedEvents = ['peerJoined', 'peerLeft', 'newProducer', 'producerClosed', 'channelsChanged', 'caption', 'floorState'] as const;

/** What the origin publishes on a room's topic. */
export const roomTopicMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('event'), event: z.enum(relayedEvents), data: z.record(z.string(), z.unknown()) }),
  z.object({ type: z.literal('paused'), producerId: id, paused: z.boolean() }),
  z.object({ type: z.literal('closed'), reason: z.string().max(64) }),
]);
export type RoomTopicMessage = z.infer<typeof roomTopicMessage>;

export const roomTopic = (roomId: string): string => `room:${roomId}`;
export const eventSchemas = { peerJoined: peer, peerLeft: z.object({ peerId: id }), newProducer: producer, producerClosed: z.object({ producerId: id }), channelsChanged: z.object({ channels: z.array(channel) }), floorState: floor };

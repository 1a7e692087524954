import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import * as mediasoup from 'mediasoup';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusEnvelopes, type DropReason } from '../../server/cluster/bus-envelope.js';
import { ClusterKeys } from '../../server/cluster/cluster-keys.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { requestJoinAs, tryProduce } from '../helpers/accreditation-client.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { CLUSTER_SECRET, RedisProcess } from '../helpers/redis-process.js';
import { call, connectFollowing } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

// Issue 10, item 8: the cluster bus trusts whoever can publish to Redis. Two real nodes (in this process,
// each with its own mediasoup worker) on a real redis-server; a room cascades from its origin to the other
// node. An attacker with a plain Redis connection publishes straight onto the nodes' channels.

const ROOM = 'demo-plenary';
const AMINA = 'amina.odhiambo@demo.ke';
const OMAR = 'omar.haddad@openaccess.example';
const WRONG_SECRET = 'not-the-cluster-secret-but-long-enough-0123456789';

let redis: RedisProcess;
let attacker: Redis;
let spy: Redis;
let monitor: Awaited<ReturnType<Redis['monitor']>>;
/** Every command Redis executed (MONITOR), and every pub/sub message it carried (PSUBSCRIBE). */
const monitored: string[] = [];
const published: Array<{ channel: string; message: string }> = [];
/** The SRTP keys of every pipe transport the nodes made, as mediasoup gave them. */
const pipeKeys: string[] = [];
const nodes: MeetingServer[] = [];
const sockets: Socket[] = [];
const drops = new Map<MeetingServer, Array<{ reason: DropReason; channel: string }>>();

let origin: MeetingServer;
let edge: MeetingServer;
let delegate: Socket;
let listenerEvents: Array<{ event: string; data: Record<string, unknown> }>;
let microphone: string;

const nodeIdOf = (n: MeetingServer): string => n.membership.coordinator.nodeId;
const nodeAt = (url: string): MeetingServer => nodes.find((n) => n.url === url)!;
const topicChannel = `plenum:topic:room:${ROOM}`;
const inbox = (nodeId: string): string => `plenum:inbox:${nodeId}`;
const dropsOf = (n: MeetingServer, reason: DropReason): number => drops.get(n)!.filter((d) => d.reason === reason).length;

/** The message inside an envelope captured on Redis, read without checking it (undefined when not an envelope). */
function bodyOf(raw: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse((JSON.parse(raw) as { body: string }).body) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** An envelope as a node would make it, with any secret, sender and clock. */
function forge(channel: string, body: unknown, opts: { from: string; secret?: string; now?: () => number }): string {
  return new BusEnvelopes(opts.from, new ClusterKeys({ current: opts.secret ?? CLUSTER_SECRET }), 30_000, opts.now).seal(channel, body);
}

async function connectAs(email: string, startAt: string): Promise<{ socket: Socket; url: string }> {
  const answer = await requestJoinAs(startAt, email, ROOM);
  expect(answer.status).toBe(200);
  const connected = await connectFollowing(startAt, answer.body.joinToken);
  sockets.push(connected.socket);
  return connected;
}

async function join(socket: Socket): Promise<{ producers: Array<{ producerId: string }> }> {
  const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
  if (!caps.ok) throw new Error(caps.error.code);
  const joined = await call<{ producers: Array<{ producerId: string }> }>(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities });
  if (!joined.ok) throw new Error(joined.error.code);
  return joined.data;
}

/** Sends a request to a node's inbox as `from`, and resolves with the (signed) reply found on `from`'s inbox. */
async function requestAs(from: string, to: string, method: string, params: unknown): Promise<Record<string, unknown>> {
  const id = `forged-${randomUUID()}`;
  const listener = new Redis(redis.url);
  try {
    await listener.subscribe(inbox(from));
    const reply = new Promise<Record<string, unknown>>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`no reply to the forged ${method} within 10 s`)), 10_000);
      listener.on('message', (_channel: string, raw: string) => {
        const body = JSON.parse((JSON.parse(raw) as { body: string }).body) as { kind: string; id: string; outcome: Record<string, unknown> };
        if (body.kind !== 'reply' || body.id !== id) return;
        clearTimeout(deadline);
        resolve(body.outcome);
      });
    });
    await attacker.publish(inbox(to), forge(inbox(to), { kind: 'request', id, method, params }, { from }));
    return await reply;
  } finally {
    listener.disconnect();
  }
}

let postgres: PostgresProcess | undefined;
beforeAll(async () => {
  redis = await RedisProcess.start();
  const database = (postgres = await PostgresProcess.start());
  attacker = new Redis(redis.url);
  spy = new Redis(redis.url);
  monitor = await spy.monitor();
  monitor.on('monitor', (_time: string, args: string[]) => monitored.push(args.join(' ')));
  await spy.psubscribe('plenum:*');
  spy.on('pmessage', (_pattern: string, channel: string, message: string) => published.push({ channel, message }));
  // The nodes run in this process: every pipe transport they make passes mediasoup's observer.
  mediasoup.observer.on('newworker', (worker) =>
    worker.observer.on('newrouter', (router) =>
      router.observer.on('newtransport', (transport) => {
        const srtp = (transport as unknown as { srtpParameters?: mediasoup.types.SrtpParameters }).srtpParameters;
        if (srtp) pipeKeys.push(srtp.keyBase64);
      }),
    ),
  );
  for (const id of ['sec-node-a', 'sec-node-b']) {
    const node = await startTestServer({
      PLENUM_DEV_MODE: 'false',
      PLENUM_DEMO: 'true',
      PLENUM_NODE_ID: id,
      PLENUM_REDIS_URL: redis.url,
      PLENUM_DATABASE_URL: database.url,
      PLENUM_JOIN_TOKEN_SECRET: 'a-join-token-secret-shared-by-the-cluster-0123',
      PLENUM_CLUSTER_SECRET: CLUSTER_SECRET,
      PLENUM_HEARTBEAT_INTERVAL_MS: '200',
      PLENUM_ROOM_LEASE_TTL_MS: '1500',
      PLENUM_CASCADE_AFTER_LISTENERS: '0',
      PLENUM_EMBEDDED_IDP_SECRET: 'an-embedded-idp-secret-shared-0123456789',
    });
    const seen: Array<{ reason: DropReason; channel: string }> = [];
    node.bus.on('dropped', (reason, channel) => seen.push({ reason, channel }));
    drops.set(node, seen);
    nodes.push(node);
  }
  await waitFor(async () => (await nodes[0]!.membership.coordinator.liveNodes()).length === 2, { what: 'two live nodes' });

  // A delegate speaks on the origin; a listener is sent to the other node, which pipes the room in.
  const amina = await connectAs(AMINA, nodes[0]!.url);
  origin = nodeAt(amina.url);
  delegate = amina.socket;
  await join(delegate);
  expect(await tryProduce(delegate, 'floor', 1111)).toBe('ok');
  const omar = await connectAs(OMAR, origin.url);
  edge = nodeAt(omar.url);
  expect(edge).not.toBe(origin);
  listenerEvents = [];
  omar.socket.onAny((event: string, data: Record<string, unknown>) => listenerEvents.push({ event, data }));
  const joined = await join(omar.socket);
  microphone = joined.producers[0]!.producerId;
  expect(edge.rooms.get(ROOM)?.isEdge).toBe(true);
  expect((await call(omar.socket, 'createWebRtcTransport', { direction: 'recv' })).ok).toBe(true);
  expect(await call(omar.socket, 'consume', { producerId: microphone })).toMatchObject({ ok: true });
  expect(edge.rooms.get(ROOM)!.media.findProducer(microphone)).toBeDefined();
});

afterAll(async () => {
  for (const s of sockets) s.close();
  for (const n of nodes) await n.close();
  monitor?.disconnect();
  spy?.disconnect();
  attacker?.disconnect();
  await redis?.kill();
  await postgres?.stop();
});

describe('8. the cluster bus trusts only what the cluster secret signed', () => {
  it('8 (secret) a node with Redis refuses to start without PLENUM_CLUSTER_SECRET; rotation accepts the previous one', () => {
    const cluster = {
      PLENUM_REDIS_URL: 'redis://127.0.0.1:6379',
      PLENUM_JOIN_TOKEN_SECRET: 's'.repeat(40),
      PLENUM_DATABASE_URL: 'postgres://plenum@db.example/plenum',
      PLENUM_EMBEDDED_IDP_SECRET: 'i'.repeat(40),
    };
    expect(() => loadConfig(cluster)).toThrow(/PLENUM_CLUSTER_SECRET/);
    expect(() => loadConfig({ PLENUM_REDIS_SENTINELS: '127.0.0.1:26379', PLENUM_JOIN_TOKEN_SECRET: 's'.repeat(40) })).toThrow(/PLENUM_CLUSTER_SECRET/);
    expect(() => loadConfig({ ...cluster, PLENUM_CLUSTER_SECRET: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ PLENUM_CLUSTER_SECRET_PREVIOUS: 'p'.repeat(40) })).toThrow(/PLENUM_CLUSTER_SECRET/);
    const config = loadConfig({ ...cluster, PLENUM_CLUSTER_SECRET: 'c'.repeat(40), PLENUM_CLUSTER_SECRET_PREVIOUS: 'p'.repeat(40) });
    expect(config.cluster.secret).toEqual({ current: 'c'.repeat(40), previous: 'p'.repeat(40) });
    expect(config.cluster.messageWindowMs).toBe(30_000);
  });

  it('8 (sign) unsigned, wrongly signed, stale and replayed room events published straight to Redis are dropped by the edge', async () => {
    const originId = nodeIdOf(origin);
    const forgedProducer = { producerId: 'forged-producer', peerId: 'p-ke-1', kind: 'audio', source: 'mic', channel: 'floor', paused: false };
    const close = { type: 'closed', reason: 'SESSION_CLOSED' };
    const announce = { type: 'event', event: 'newProducer', data: forgedProducer };

    // Unsigned: the plain message an attacker would publish.
    await attacker.publish(topicChannel, JSON.stringify(close));
    await attacker.publish(topicChannel, JSON.stringify(announce));
    await waitFor(() => dropsOf(edge, 'unsigned') >= 2, { what: 'the edge to drop two unsigned messages' });

    // Signed with another secret, in the origin's name.
    await attacker.publish(topicChannel, forge(topicChannel, close, { from: originId, secret: WRONG_SECRET }));
    await attacker.publish(topicChannel, forge(topicChannel, announce, { from: originId, secret: WRONG_SECRET }));
    await waitFor(() => dropsOf(edge, 'bad-mac') >= 2, { what: 'the edge to drop two messages with a bad MAC' });

    // Signed with the right secret, but two minutes old (and two minutes ahead).
    await attacker.publish(topicChannel, forge(topicChannel, close, { from: originId, now: () => Date.now() - 120_000 }));
    await attacker.publish(topicChannel, forge(topicChannel, close, { from: originId, now: () => Date.now() + 120_000 }));
    await waitFor(() => dropsOf(edge, 'stale') >= 2, { what: 'the edge to drop two stale messages' });

    // A real message of the origin, captured on Redis and played again: the pause, after the resume.
    const piped = edge.rooms.get(ROOM)!.media.findProducer(microphone)!;
    expect((await call(delegate, 'pauseProducer', { producerId: microphone })).ok).toBe(true);
    await waitFor(() => piped.paused, { what: 'the pause to reach the edge' });
    // Room topic messages travel in frames ({ epoch, seq, message }).
    const pause = await waitFor(() => published.find((p) => p.channel === topicChannel && (bodyOf(p.message)?.message as { paused?: boolean } | undefined)?.paused === true), {
      what: "the origin's pause on Redis",
    });
    expect((await call(delegate, 'resumeProducer', { producerId: microphone })).ok).toBe(true);
    await waitFor(() => !piped.paused, { what: 'the resume to reach the edge' });
    const pausesSeen = listenerEvents.filter((e) => e.event === 'producerPaused').length;
    await attacker.publish(topicChannel, pause.message);
    await waitFor(() => dropsOf(edge, 'replayed') >= 1, { what: 'the edge to drop the replayed pause' });

    // A signed message on another room's topic cannot be moved onto this one either.
    await attacker.publish(topicChannel, forge('plenum:topic:room:demo-council', close, { from: originId }));
    await waitFor(() => dropsOf(edge, 'bad-mac') >= 3, { what: 'the edge to drop a message signed for another channel' });

    expect(piped.paused).toBe(false);
    expect(listenerEvents.filter((e) => e.event === 'producerPaused')).toHaveLength(pausesSeen);
    expect(listenerEvents.some((e) => e.event === 'roomClosed')).toBe(false);
    expect(listenerEvents.some((e) => e.event === 'newProducer' && e.data.producerId === 'forged-producer')).toBe(false);
    expect(edge.rooms.get(ROOM)?.closed).toBe(false);
  });

  it('8 (attach) a cascade.attach from a node that is not registered, or to an address that is not the edge node\'s, is refused', async () => {
    const originId = nodeIdOf(origin);
    const edgeId = nodeIdOf(edge);
    const registered = (await origin.membership.coordinator.liveNodes()).find((n) => n.nodeId === edgeId)!.pipe!;
    expect(registered.address).toBe('127.0.0.1');

    // Unsigned, in the edge's name: dropped by the origin's bus before any handler sees it.
    const unsignedBefore = dropsOf(origin, 'unsigned');
    await attacker.publish(inbox(originId), JSON.stringify({ kind: 'request', id: 'x', from: edgeId, method: 'cascade.attach', params: { roomId: ROOM, edge: { ip: '192.0.2.1', port: 5004 } } }));
    await waitFor(() => dropsOf(origin, 'unsigned') > unsignedBefore, { what: 'the origin to drop an unsigned attach' });

    // Signed, from a node that never registered.
    expect(await requestAs('rogue-node', originId, 'cascade.attach', { roomId: ROOM, edge: { ip: '127.0.0.1', port: registered.minPort } })).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    // Signed, in a registered node's name, but pointing the pipe at a third party's address or outside its ports.
    expect(await requestAs(edgeId, originId, 'cascade.attach', { roomId: ROOM, edge: { ip: '192.0.2.1', port: registered.minPort } })).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(await requestAs(edgeId, originId, 'cascade.attach', { roomId: ROOM, edge: { ip: '127.0.0.1', port: registered.maxPort + 1 } })).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    // SRTP parameters in clear are not even a valid request any more.
    const clear = { ip: '127.0.0.1', port: registered.minPort, srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: 'QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ==' } };
    expect(await requestAs(edgeId, originId, 'cascade.attach', { roomId: ROOM, edge: clear })).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    // Sealed SRTP parameters that the cluster key does not open.
    expect(await requestAs(edgeId, originId, 'cascade.attach', { roomId: ROOM, edge: { ip: '127.0.0.1', port: registered.minPort, srtp: 'A'.repeat(80) } })).toMatchObject({
      ok: false,
      code: 'BAD_REQUEST',
    });

    // The real edge keeps its one pipe, and its listener still receives the room.
    expect(origin.cascade.edgesOf(ROOM)).toEqual([edgeId]);
    expect(edge.rooms.get(ROOM)?.closed).toBe(false);
  });

  it('8 (schema) relayed events that do not match their schema are not mirrored, even when signed', async () => {
    const originId = nodeIdOf(origin);
    // Framed as the origin would frame its next message (its epoch, the next sequence number), so only the
    // schema can refuse them; a refused frame moves no sequence, so the marker below takes the same number.
    const stream = origin.cascade.streamOf(ROOM)!;
    const signed = (body: unknown): string => forge(topicChannel, { epoch: stream.epoch, seq: stream.seq + 1, message: body }, { from: originId });
    const invalid = [
      { type: 'event', event: 'newProducer', data: { producerId: 'bad-1', peerId: 'p-ke-1', kind: 'audio', source: 'mic', channel: 'floor', paused: false, extra: 'x' } },
      { type: 'event', event: 'newProducer', data: { producerId: 'bad-2', peerId: 'p-ke-1', kind: 'data', source: 'mic', channel: 'floor', paused: false } },
      { type: 'event', event: 'peersChanged', data: { joined: [{ id: 'bad-3', name: 'x'.repeat(10_000), role: 'delegate', entity: { name: 'Kenya', type: 'member_state' } }], left: [], total: 1 } },
      { type: 'event', event: 'caption', data: { language: 'en', text: 'bad-4', final: true, at: 1, html: '<script>' } },
      { type: 'event', event: 'producerClosed', data: { producerId: microphone, also: 'bad-5' } },
      { type: 'event', event: 'roomClosed', data: { reason: 'SESSION_CLOSED' } },
      { type: 'closed', reason: 'anything-at-all' },
      { type: 'paused', producerId: microphone, paused: 'yes' },
    ];
    for (const m of invalid) await attacker.publish(topicChannel, signed(m));
    // A valid caption after them: once it arrives, every message before it has been handled (one channel, in order).
    await attacker.publish(topicChannel, signed({ type: 'event', event: 'caption', data: { language: 'en', text: 'marker', final: false, at: Date.now() } }));
    await waitFor(() => listenerEvents.some((e) => e.event === 'caption' && e.data.text === 'marker'), { what: 'the valid caption to reach the listener' });

    const texts = JSON.stringify(listenerEvents);
    for (const mark of ['bad-1', 'bad-2', 'bad-3', 'bad-4', 'bad-5']) expect(texts).not.toContain(mark);
    expect(listenerEvents.some((e) => e.event === 'producerClosed' || e.event === 'roomClosed')).toBe(false);
    expect(edge.rooms.get(ROOM)!.media.findProducer(microphone)?.paused).toBe(false);
    expect(edge.rooms.get(ROOM)?.closed).toBe(false);
  });

  it('8 (srtp) nothing that crossed Redis during the cascade attach carries the pipes\' SRTP keys in clear', async () => {
    // Both ends of the real pipe had keys, and the attach went through Redis (signed, with its method in clear).
    expect(pipeKeys.length).toBeGreaterThanOrEqual(2);
    await waitFor(() => monitored.some((line) => line.includes('cascade.attach')), { what: 'the attach in the MONITOR capture' });
    expect(published.some((p) => p.message.includes('cascade.attach'))).toBe(true);
    const everything = [...monitored, ...published.map((p) => p.message)].join('\n');
    for (const key of pipeKeys) {
      expect(everything).not.toContain(key);
      expect(everything).not.toContain(Buffer.from(key, 'base64').toString('hex'));
    }
  });
});

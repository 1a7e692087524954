import { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeetingServer } from '../../server/meeting-server.js';
import type { Room } from '../../server/rooms/room.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { CLUSTER_SECRET, RedisProcess, SentinelProcess } from '../helpers/redis-process.js';
import { RtpInjector, RtpSink } from '../helpers/rtp.js';
import { call, connectFollowing, connectSignaling, devToken } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

// Real redis-server processes (and a real Sentinel) under a live session on a real server node: Redis is
// killed and restarted, or its master is killed and Sentinel promotes the replica. Media between admitted
// participants never depends on Redis; the node reconnects, re-registers and keeps its rooms.

const cleanup: Array<() => Promise<unknown> | unknown> = [];
let postgres: PostgresProcess;
beforeAll(async () => {
  postgres = await PostgresProcess.start();
  cleanup.push(() => postgres.stop());
});
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

const clusterEnv = (id: string) => ({
  PLENUM_DEV_MODE: 'true',
  PLENUM_NODE_ID: id,
  PLENUM_DATABASE_URL: postgres.url,
  PLENUM_JOIN_TOKEN_SECRET: 'a-join-token-secret-shared-by-the-cluster-0123',
  PLENUM_CLUSTER_SECRET: CLUSTER_SECRET,
  PLENUM_EMBEDDED_IDP_SECRET: 'an-embedded-idp-secret-shared-0123456789',
  PLENUM_HEARTBEAT_INTERVAL_MS: '200',
  PLENUM_ROOM_LEASE_TTL_MS: '10000',
});

/** A participant in a live room with a talker (RTP through a PlainTransport) and a plain sink counting what the room forwards. */
async function liveSession(node: MeetingServer, roomId: string): Promise<{ socket: Socket; room: Room; sink: RtpSink }> {
  const { socket } = await connectFollowing(node.url, await devToken(node.url, 'Alice', roomId));
  cleanup.push(() => socket.close());
  const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
  expect(caps.ok && (await call(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities })).ok).toBe(true);
  const room = node.rooms.get(roomId)!;
  const alice = [...room.participants.values()][0]!;
  const talker = await RtpInjector.create(room.media.router, 5151, { channel: 'floor', source: 'mic', endpointId: alice.id });
  room.media.addProducer(talker.producer);
  room.announceProducer(alice, talker.producer);
  talker.start();
  const sink = await RtpSink.create(room.media.router);
  await sink.consume(talker.producer);
  cleanup.push(() => talker.close(), () => sink.close());
  await waitFor(() => sink.total > 10, { what: 'media in the room' });
  return { socket, room, sink };
}

const ready = async (node: MeetingServer) => (await fetch(`${node.url}/readyz`)).status;

async function newJoin(node: MeetingServer, roomId: string, name: string): Promise<string> {
  try {
    const socket = await connectSignaling(node.url, await devToken(node.url, name, roomId));
    socket.close();
    return 'ok';
  } catch (error) {
    return (error as { data?: { code: string } }).data?.code ?? String(error);
  }
}

describe('cluster: Redis faults under a live session', () => {
  it('a Redis restart: media keeps flowing, new joins fail clearly meanwhile, and the node keeps its room after', async () => {
    const redis = await RedisProcess.start();
    cleanup.push(() => redis.kill());
    const node = await startTestServer({ ...clusterEnv('restart-node'), PLENUM_REDIS_URL: redis.url });
    cleanup.push(() => node.close());
    const { socket, room, sink } = await liveSession(node, 'live-restart');
    const lease = node.ownership.leaseOf('live-restart')!;

    await redis.kill();
    await waitFor(async () => (await ready(node)) === 503, { what: 'readiness to drop' });
    expect(await newJoin(node, 'live-restart', 'Bob')).toBe('UNAVAILABLE');
    const during = sink.total;
    await waitFor(() => sink.total > during + 50, { what: 'media to keep flowing while Redis is down' });

    await redis.restart(); // without persistence: Redis comes back empty
    await waitFor(async () => (await ready(node)) === 200, { what: 'readiness to come back' });
    await waitFor(async () => (await node.membership.coordinator.liveNodes()).some((n) => n.nodeId === 'restart-node'), { what: 're-registration' });
    // The node took its lease back with the same token; the room, its participant and its media stayed.
    await waitFor(async () => (await node.membership.coordinator.roomOwner('live-restart'))?.token === lease.token, { what: 'the lease to be taken back' });
    expect(node.rooms.get('live-restart')).toBe(room);
    expect(room.closed).toBe(false);
    expect(socket.connected).toBe(true);
    expect(await newJoin(node, 'live-restart', 'Carol')).toBe('ok');
    const after = sink.total;
    await waitFor(() => sink.total > after + 25, { what: 'media after the restart' });
  });

  it('a Sentinel failover: the replica is promoted, the node follows it, and its room, lease and media survive', async () => {
    const master = await RedisProcess.start();
    const replica = await RedisProcess.start();
    cleanup.push(() => master.kill(), () => replica.kill());
    // Point the replica at the master now that both ports are known.
    const replicaClient = new Redis(replica.url);
    cleanup.push(() => replicaClient.disconnect());
    await replicaClient.replicaof('127.0.0.1', master.port);
    await waitFor(async () => (await replicaClient.info('replication')).includes('master_link_status:up'), { what: 'replication to start' });
    const sentinel = await SentinelProcess.start('plenum-test', master.port);
    cleanup.push(() => sentinel.kill());
    const sentinelClient = new Redis({ host: '127.0.0.1', port: sentinel.port });
    cleanup.push(() => sentinelClient.disconnect());
    await waitFor(async () => ((await sentinelClient.call('SENTINEL', 'REPLICAS', 'plenum-test')) as unknown[]).length === 1, { what: 'Sentinel to see the replica' });

    const node = await startTestServer({ ...clusterEnv('sentinel-node'), PLENUM_REDIS_SENTINELS: `127.0.0.1:${sentinel.port}`, PLENUM_REDIS_SENTINEL_NAME: 'plenum-test' });
    cleanup.push(() => node.close());
    const { socket, room, sink } = await liveSession(node, 'live-sentinel');
    const lease = node.ownership.leaseOf('live-sentinel')!;
    // Replication is asynchronous: let the lease reach the replica before the master dies.
    await waitFor(async () => (await replicaClient.exists('plenum:lease:live-sentinel')) === 1, { what: 'the lease to replicate' });

    await master.kill();
    const during = sink.total;
    await waitFor(() => sink.total > during + 50, { what: 'media to keep flowing during the failover' });
    await waitFor(async () => ((await sentinelClient.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'plenum-test')) as string[])[1] === String(replica.port), {
      timeoutMs: 30_000,
      what: 'Sentinel to promote the replica',
    });

    await waitFor(async () => (await ready(node)) === 200 && (await newJoin(node, 'live-sentinel', 'Bob')) === 'ok', { timeoutMs: 30_000, what: 'the node to work through the new master' });
    expect(await replicaClient.exists(`plenum:node:sentinel-node`)).toBe(1);
    expect(await node.membership.coordinator.roomOwner('live-sentinel')).toEqual(lease);
    expect(node.rooms.get('live-sentinel')).toBe(room);
    expect(room.closed).toBe(false);
    expect(socket.connected).toBe(true);
    const after = sink.total;
    await waitFor(() => sink.total > after + 25, { what: 'media after the failover' });
  });
});

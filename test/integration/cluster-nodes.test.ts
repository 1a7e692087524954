import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeetingServer } from '../../server/meeting-server.js';
import { requestJoinAs } from '../helpers/accreditation-client.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { CLUSTER_SECRET, RedisProcess } from '../helpers/redis-process.js';
import { connectFollowing, connectSignaling } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

// Two real server nodes (in this process, each with its own mediasoup worker) sharing one real redis-server.

const SECRET = 'a-join-token-secret-shared-by-the-cluster-0123';
let redis: RedisProcess;
let a: MeetingServer;
let b: MeetingServer;

let postgres: PostgresProcess | undefined;
beforeAll(async () => {
  redis = await RedisProcess.start();
  const database = (postgres = await PostgresProcess.start());
  const env = (id: string) => ({
    PLENUM_DEV_MODE: 'false',
    PLENUM_NODE_ID: id,
    PLENUM_REDIS_URL: redis.url,
    PLENUM_DATABASE_URL: database.url,
    PLENUM_JOIN_TOKEN_SECRET: SECRET,
    PLENUM_CLUSTER_SECRET: CLUSTER_SECRET,
    PLENUM_HEARTBEAT_INTERVAL_MS: '200',
    PLENUM_EMBEDDED_IDP_SECRET: 'an-embedded-idp-secret-shared-0123456789',
  });
  a = await startTestServer(env('node-a'));
  b = await startTestServer(env('node-b'));
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await redis?.kill();
  await postgres?.stop();
});

describe('cluster: nodes sharing Redis', () => {
  it('both nodes register with their load; the node without the room redirects to its owner; a used join token is refused', async () => {
    await waitFor(async () => (await a.membership.coordinator.liveNodes()).length === 2, { what: 'two live nodes' });
    const nodes = await b.membership.coordinator.liveNodes();
    expect(nodes.map((n) => [n.nodeId, n.workers]).sort()).toEqual([
      ['node-a', 1],
      ['node-b', 1],
    ]);
    const { body } = await requestJoinAs(a.url, 'amina.odhiambo@demo.ke', 'demo-plenary');
    const first = await connectFollowing(a.url, body.joinToken);
    const owner = first.url;
    const other = owner === a.url ? b : a;
    // The node without the room sends the client to its owner, without spending the token.
    const elsewhere = (await connectSignaling(other.url, body.joinToken).catch((e: unknown) => e)) as Error & { data?: { code: string; url: string } };
    expect(elsewhere.data).toMatchObject({ code: 'ROOM_ELSEWHERE', url: owner });
    const replay = (await connectSignaling(owner, body.joinToken).catch((e: unknown) => e)) as Error & { data?: { code: string } };
    expect(replay.data?.code).toBe('UNAUTHENTICATED');
    const lease = await a.membership.coordinator.roomOwner('demo-plenary');
    expect(lease?.nodeId).toBe(owner === a.url ? 'node-a' : 'node-b');
    first.socket.close();
  });

  it('while Redis is down, new connections are refused with UNAVAILABLE and readiness drops; both recover after a restart', async () => {
    const { body } = await requestJoinAs(a.url, 'brian.kamau@demo.ke', 'demo-plenary');
    await redis.kill();
    const refused = (await connectSignaling(a.url, body.joinToken).catch((e: unknown) => e)) as Error & { data?: { code: string } };
    expect(refused.data?.code).toBe('UNAVAILABLE');
    await waitFor(async () => (await fetch(`${a.url}/readyz`)).status === 503, { what: 'readiness to drop' });

    await redis.restart();
    await waitFor(async () => (await fetch(`${a.url}/readyz`)).status === 200, { what: 'readiness to come back' });
    await waitFor(async () => (await b.membership.coordinator.liveNodes()).length === 2, { what: 'both nodes to re-register' });
    // The refused token was never claimed, so it still opens one connection.
    const { socket } = await connectFollowing(a.url, body.joinToken);
    expect(socket.connected).toBe(true);
    socket.close();
  });
});

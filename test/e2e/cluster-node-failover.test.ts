import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCoordinator } from '../../server/cluster/redis-coordinator.js';
import { launchChromium } from '../helpers/browser.js';
import { devJoinPage, publishedTracks, receivingFrom, reconnected, selfId } from '../helpers/demo-pages.js';
import { testLog } from '../helpers/media.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { CLUSTER_SECRET, RedisProcess } from '../helpers/redis-process.js';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';

// Two server processes and a real redis-server. The node serving a room is killed with SIGKILL; once its
// lease expires the other node takes the room, and both browsers reconnect there and receive again.

let redis: RedisProcess;
let browser: Browser;
const nodes: Record<string, ServerProcess> = {};
let observer: RedisCoordinator;

let postgres: PostgresProcess | undefined;
beforeAll(async () => {
  redis = await RedisProcess.start();
  const database = (postgres = await PostgresProcess.start());
  const env = (id: string) => ({
    PLENUM_NODE_ID: id,
    PLENUM_REDIS_URL: redis.url,
    PLENUM_DATABASE_URL: database.url,
    PLENUM_EMBEDDED_IDP_SECRET: 'an-embedded-idp-secret-shared-0123456789',
    PLENUM_DEV_MODE: 'true',
    PLENUM_JOIN_TOKEN_SECRET: 'a-join-token-secret-shared-by-the-cluster-0123',
    PLENUM_CLUSTER_SECRET: CLUSTER_SECRET,
    PLENUM_ROOM_LEASE_TTL_MS: '2000',
    PLENUM_HEARTBEAT_INTERVAL_MS: '300',
    PLENUM_NODE_STALE_AFTER_MS: '1500',
  });
  nodes['node-a'] = await spawnServer(env('node-a'));
  nodes['node-b'] = await spawnServer(env('node-b'));
  observer = new RedisCoordinator('observer', { kind: 'url', url: redis.url }, testLog);
  await observer.ready();
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await observer?.close();
  for (const n of Object.values(nodes)) n.child.kill('SIGKILL');
  await redis?.kill();
  await postgres?.stop();
});

describe('cluster: the owner node is killed (SIGKILL)', () => {
  it('the room moves to the surviving node and the browsers receive media again without user action', async () => {
    const room = `plenary-${Date.now()}`;
    const a = await devJoinPage(browser, nodes['node-a']!.url, 'Alice', room);
    const b = await devJoinPage(browser, nodes['node-a']!.url, 'Bob', room);
    const alice = await selfId(a);
    const before = await receivingFrom(b, alice);

    const lease = (await observer.roomOwner(room))!;
    expect(Object.keys(nodes)).toContain(lease.nodeId);
    const survivor = lease.nodeId === 'node-a' ? 'node-b' : 'node-a';
    nodes[lease.nodeId]!.child.kill('SIGKILL');

    for (const page of [a, b]) await reconnected(page);
    const after = await receivingFrom(b, alice);
    expect(after.some((id) => before.includes(id))).toBe(false);
    expect(await publishedTracks(a)).toBe(2);
    const moved = (await observer.roomOwner(room))!;
    expect(moved.nodeId).toBe(survivor);
    expect(moved.token).toBeGreaterThan(lease.token);
  });
});

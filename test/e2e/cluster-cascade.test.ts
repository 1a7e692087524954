import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCoordinator } from '../../server/cluster/redis-coordinator.js';
import { signInAndJoinPage, waitForPeak } from '../helpers/audio-pages.js';
import { launchChromium } from '../helpers/browser.js';
import { countReconnects, receivingFrom, reconnected, serverUrl } from '../helpers/demo-pages.js';
import { testLog } from '../helpers/media.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { CLUSTER_SECRET, RedisProcess } from '../helpers/redis-process.js';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';

// Two server processes, a real redis-server and Chromium. A delegate speaks (a 440 Hz tone, and the fake
// camera) on the room's origin node; a listener who opened the origin's page is sent to the other node,
// which serves the room as an edge: what the listener hears and sees crossed the nodes through a pipe.
// Then the origin is killed with SIGKILL: both pages recover by themselves on the surviving node.

let redis: RedisProcess;
let browser: Browser;
let observer: RedisCoordinator;
const nodes: ServerProcess[] = [];
const ROOM = 'demo-plenary';

let postgres: PostgresProcess | undefined;
beforeAll(async () => {
  redis = await RedisProcess.start();
  const database = (postgres = await PostgresProcess.start());
  for (const id of ['node-a', 'node-b']) {
    nodes.push(
      await spawnServer({
        PLENUM_NODE_ID: id,
        PLENUM_REDIS_URL: redis.url,
        PLENUM_DATABASE_URL: database.url,
        PLENUM_DEV_MODE: 'false',
        PLENUM_JOIN_TOKEN_SECRET: 'a-join-token-secret-shared-by-the-cluster-0123',
        PLENUM_CLUSTER_SECRET: CLUSTER_SECRET,
        PLENUM_EMBEDDED_IDP_SECRET: 'an-embedded-idp-secret-shared-0123456789',
        PLENUM_CASCADE_AFTER_LISTENERS: '0',
        PLENUM_ROOM_LEASE_TTL_MS: '2000',
        PLENUM_HEARTBEAT_INTERVAL_MS: '300',
        PLENUM_NODE_STALE_AFTER_MS: '1500',
      }),
    );
  }
  observer = new RedisCoordinator('observer', { kind: 'url', url: redis.url }, testLog);
  await observer.ready();
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await observer?.close();
  for (const n of nodes) n.child.kill('SIGKILL');
  await redis?.kill();
  await postgres?.stop();
});

describe('cluster in Chromium: a listener on an edge node', () => {
  it("hears and sees a delegate speaking on the origin node, and both recover when the origin is killed", async () => {
    const delegate = await signInAndJoinPage(browser, nodes[0]!.url, 'amina.odhiambo@demo.ke', ROOM, { toneHz: 440 });
    const origin = (await observer.roomOwner(ROOM))!;
    const originUrl = await serverUrl(delegate);
    const listener = await signInAndJoinPage(browser, originUrl, 'omar.haddad@openaccess.example', ROOM, { toneHz: 0 });
    const edgeUrl = await serverUrl(listener);
    expect(edgeUrl).not.toBe(originUrl);
    expect(nodes.map((n) => n.url)).toContain(edgeUrl);

    await waitForPeak(listener, 440);
    const before = await receivingFrom(listener, 'p-ke-1'); // audio and video, through the pipe
    expect(before).toHaveLength(2);

    for (const page of [delegate, listener]) await countReconnects(page);
    nodes.find((n) => n.url === originUrl)!.child.kill('SIGKILL');
    // Both pages come back by themselves on the surviving node; the listener hears the delegate again.
    for (const page of [delegate, listener]) await reconnected(page);
    expect(await serverUrl(delegate)).toBe(edgeUrl);
    const moved = (await observer.roomOwner(ROOM))!;
    expect(moved.token).toBeGreaterThan(origin.token);
    const after = await receivingFrom(listener, 'p-ke-1');
    expect(after.some((id) => before.includes(id))).toBe(false);
    await waitForPeak(listener, 440);
  });
});

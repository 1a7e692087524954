import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCoordinator } from '../../server/cluster/redis-coordinator.js';
import { launchChromium } from '../helpers/browser.js';
import { testLog } from '../helpers/media.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';

// Two server processes and a real redis-server. The node serving a room is killed with SIGKILL; once its
// lease expires the other node takes the room, and both browsers reconnect there and receive again.

let redis: RedisProcess;
let browser: Browser;
const nodes: Record<string, ServerProcess> = {};
let observer: RedisCoordinator;

beforeAll(async () => {
  redis = await RedisProcess.start();
  const env = (id: string) => ({
    PLENUM_NODE_ID: id,
    PLENUM_REDIS_URL: redis.url,
    PLENUM_DEV_MODE: 'true',
    PLENUM_JOIN_TOKEN_SECRET: 'a-join-token-secret-shared-by-the-cluster-0123',
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
});

type W = { reconnects: number; plenum: { client: { self: { id: string }; getInboundStats(): Promise<Array<{ consumerId: string; peerId: string; kind: string; bytesReceived: number; framesDecoded: number }>> } } };

async function devJoin(baseUrl: string, name: string, room: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${baseUrl}/`);
  await page.click('#dev summary');
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.click('#join');
  await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'Connected.', null, { timeout: 30_000 });
  await page.evaluate(() => {
    const w = window as unknown as W & { plenum: { client: { on(e: string, fn: () => void): void } } };
    w.reconnects = 0;
    w.plenum.client.on('reconnected', () => (w.reconnects += 1));
  });
  return page;
}

async function receiving(page: Page, peerId: string): Promise<string[]> {
  await page.waitForFunction(
    async (id) => {
      const stats = await (window as unknown as W).plenum.client.getInboundStats();
      return stats.some((s) => s.peerId === id && s.kind === 'audio' && s.bytesReceived > 0) && stats.some((s) => s.peerId === id && s.kind === 'video' && s.framesDecoded > 0);
    },
    peerId,
    { timeout: 30_000, polling: 250 },
  );
  return (await page.evaluate(() => (window as unknown as W).plenum.client.getInboundStats())).filter((s) => s.peerId === peerId).map((s) => s.consumerId);
}

describe('cluster: the owner node is killed (SIGKILL)', () => {
  it('the room moves to the surviving node and the browsers receive media again without user action', async () => {
    const room = `plenary-${Date.now()}`;
    const a = await devJoin(nodes['node-a']!.url, 'Alice', room);
    const b = await devJoin(nodes['node-a']!.url, 'Bob', room);
    const alice = await a.evaluate(() => (window as unknown as W).plenum.client.self.id);
    const before = await receiving(b, alice);

    const lease = (await observer.roomOwner(room))!;
    expect(Object.keys(nodes)).toContain(lease.nodeId);
    const survivor = lease.nodeId === 'node-a' ? 'node-b' : 'node-a';
    nodes[lease.nodeId]!.child.kill('SIGKILL');

    for (const page of [a, b]) await page.waitForFunction(() => (window as unknown as W).reconnects >= 1, null, { timeout: 40_000 });
    const after = await receiving(b, alice);
    expect(after.some((id) => before.includes(id))).toBe(false);
    const moved = (await observer.roomOwner(room))!;
    expect(moved.nodeId).toBe(survivor);
    expect(moved.token).toBeGreaterThan(lease.token);
  });
});

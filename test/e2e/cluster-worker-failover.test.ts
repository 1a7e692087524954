import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeetingServer } from '../../server/meeting-server.js';
import { launchChromium } from '../helpers/browser.js';
import { startTestServer } from '../helpers/test-server.js';

// Two mediasoup workers. The worker carrying a room is killed (SIGKILL); the room comes back on the other
// worker and both browsers reconnect by themselves (resume token), publish again and receive again.

let server: MeetingServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer({ PLENUM_MEDIA_WORKERS: '2' });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

type W = { plenum: { client: { self: { id: string }; getInboundStats(): Promise<Array<{ consumerId: string; peerId: string; kind: string; bytesReceived: number; framesDecoded: number }>> } } };

async function devJoin(name: string, room: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${server.url}/`);
  await page.click('#dev summary');
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.click('#join');
  await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'Connected.', null, { timeout: 30_000 });
  await page.evaluate(() => {
    const w = window as unknown as { reconnects: number; plenum: { client: { on(e: string, fn: () => void): void } } };
    w.reconnects = 0;
    w.plenum.client.on('reconnected', () => (w.reconnects += 1));
  });
  return page;
}

/** Consumer ids through which `page` receives audio and video from `peerId`, once both are flowing. */
async function receiving(page: Page, peerId: string): Promise<string[]> {
  await page.waitForFunction(
    async (id) => {
      const stats = await (window as unknown as W).plenum.client.getInboundStats();
      const audio = stats.find((s) => s.peerId === id && s.kind === 'audio' && s.bytesReceived > 0);
      const video = stats.find((s) => s.peerId === id && s.kind === 'video' && s.framesDecoded > 0);
      return Boolean(audio && video);
    },
    peerId,
    { timeout: 30_000, polling: 250 },
  );
  return (await page.evaluate(() => (window as unknown as W).plenum.client.getInboundStats())).filter((s) => s.peerId === peerId).map((s) => s.consumerId);
}

describe('cluster, inside one node: a worker dies under a live room', () => {
  it('the room is rebuilt on the surviving worker and the browsers reconnect and receive again without user action', async () => {
    const room = `failover-${Date.now()}`;
    const a = await devJoin('Alice', room);
    const b = await devJoin('Bob', room);
    const alice = await a.evaluate(() => (window as unknown as W).plenum.client.self.id);
    const before = await receiving(b, alice);
    const deadPid = server.rooms.get(room)!.media.worker.pid;

    process.kill(deadPid, 'SIGKILL');

    await b.waitForFunction(() => (window as unknown as { reconnects: number }).reconnects >= 1, null, { timeout: 30_000 });
    await a.waitForFunction(() => (window as unknown as { reconnects: number }).reconnects >= 1, null, { timeout: 30_000 });
    const after = await receiving(b, alice);
    expect(after.some((id) => before.includes(id))).toBe(false); // new consumers, on the rebuilt room
    expect(server.rooms.get(room)!.media.worker.pid).not.toBe(deadPid);
    expect(await b.textContent('#status')).toBe('Connected.');
    // The same people, once each.
    expect(await b.locator('.tile').count()).toBe(2);
  });
});

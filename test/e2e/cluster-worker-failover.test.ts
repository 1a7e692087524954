import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeetingServer } from '../../server/meeting-server.js';
import { launchChromium } from '../helpers/browser.js';
import { devJoinPage, publishedTracks, receivingFrom, reconnected, selfId } from '../helpers/demo-pages.js';
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

describe('cluster, inside one node: a worker dies under a live room', () => {
  it('the room is rebuilt on the surviving worker and the browsers reconnect and receive again without user action', async () => {
    const room = `failover-${Date.now()}`;
    const a = await devJoinPage(browser, server.url, 'Alice', room);
    const b = await devJoinPage(browser, server.url, 'Bob', room);
    const alice = await selfId(a);
    const before = await receivingFrom(b, alice);
    const deadPid = server.rooms.get(room)!.media.worker.pid;

    process.kill(deadPid, 'SIGKILL');

    await reconnected(b);
    await reconnected(a);
    const after = await receivingFrom(b, alice);
    expect(after.some((id) => before.includes(id))).toBe(false); // new consumers, on the rebuilt room
    expect(await publishedTracks(a)).toBe(2); // Alice's camera and microphone, published again
    expect(server.rooms.get(room)!.media.worker.pid).not.toBe(deadPid);
    expect(await b.textContent('#status')).toBe('Connected.');
    // The same people, once each.
    expect(await b.locator('.tile').count()).toBe(2);
  });
});

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeetingServer } from '../../server/meeting-server.js';
import { launchChromium } from '../helpers/browser.js';
import { devJoinPage, selfId } from '../helpers/demo-pages.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

// Dynacast in real Chromium: a page publishes its (fake) camera with three simulcast encodings; what the
// only other page shows decides which of them the browser still sends. Read from the publisher's own
// outbound RTP stats (`active` per rid), so it fails if the server's notice or the SDK's sender change breaks.

const ROOM = 'dynacast-room';
let server: MeetingServer;
let browser: Browser;
let publisher: Page;
let viewer: Page;
let publisherId: string;

type Outbound = { kind: string; rid?: string; active: boolean };
type Client = { getOutboundStats(): Promise<Outbound[]>; setView(view: unknown): Promise<void> };

/** Which of the publisher's camera encodings are active, by rid. */
async function activeRids(): Promise<string[]> {
  const stats = await publisher.evaluate(() => (window as unknown as { plenum: { client: Client } }).plenum.client.getOutboundStats());
  return stats
    .filter((s) => s.kind === 'video' && s.active)
    .map((s) => s.rid ?? '')
    .sort();
}

function showOnViewer(view: unknown): Promise<void> {
  return viewer.evaluate((v) => (window as unknown as { plenum: { client: Client } }).plenum.client.setView(v), view);
}

async function waitForRids(expected: string[], what: string): Promise<void> {

  await waitFor(
    async () => {
      return JSON.stringify(await activeRids()) === JSON.stringify(expected);
    },
    { timeoutMs: 20_000, what },
  );
}

beforeAll(async () => {
  server = await startTestServer();
  browser = await launchChromium();
  publisher = await devJoinPage(browser, server.url, 'Publisher', ROOM);
  viewer = await devJoinPage(browser, server.url, 'Viewer', ROOM);
  publisherId = await selfId(publisher);
  // The page publishes its camera after joining: three encodings once it is up.
  await waitFor(async () => (await publisher.evaluate(() => (window as unknown as { plenum: { client: Client } }).plenum.client.getOutboundStats())).filter((s) => s.kind === 'video').length === 3, {
    timeoutMs: 30_000,
    what: "the publisher's three camera encodings",
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('dynacast in Chromium: the publisher sends only the layers someone receives', () => {
  it('no viewer: every encoding off; a small tile: the lowest only; a large tile: all three', async () => {
    // The viewer's page may put the publisher in its gallery: it shows nothing at all now.
    await showOnViewer({ stage: null, tiles: [] });
    await waitForRids([], 'every camera encoding switched off while nobody receives it');

    await showOnViewer({ stage: null, tiles: [{ peerId: publisherId, width: 160, height: 90 }] });
    await waitForRids(['r0'], 'the lowest encoding only for a 160x90 tile');

    await showOnViewer({ stage: null, tiles: [{ peerId: publisherId, width: 1280, height: 720 }] });
    await waitForRids(['r0', 'r1', 'r2'], 'all three encodings for a 1280x720 tile');

    await showOnViewer({ stage: null, tiles: [] });
    await waitForRids([], 'off again once the tile is gone');
    expect(server.rooms.get(ROOM)!.participants.size).toBe(2);
  });
});

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeetingServer } from '../../server/meeting-server.js';
import { artifactPath, launchChromium } from '../helpers/browser.js';
import { inboundStats, waitForInbound } from '../helpers/demo-pages.js';
import { startTestServer } from '../helpers/test-server.js';

let server: MeetingServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Opens the demo page in its own browser context (own fake devices) and joins through the form. */
async function joinThroughDemoPage(name: string, room: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${name}] page error:`, error.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') console.error(`[${name}] console ${msg.type()}:`, msg.text());
  });
  await page.goto(`${server.url}/demo/`);
  // Dev mode's quick join sits in a <details> under the sign-in form.
  await page.click('#dev summary');
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.click('#join');
  await page
    .waitForFunction(() => document.querySelector('#status')?.textContent === 'Connected.', null, { timeout: 30_000 })
    .catch(async (error: Error) => {
      throw new Error(`${name} did not connect; the page says "${await page.textContent('#status')}": ${error.message}`);
    });
  return page;
}

describe('two real Chromium pages in one room through the demo page and the SDK', () => {
  it('B receives A’s audio and video; when A leaves, B’s tracks and tile go away', async () => {
    const room = `e2e-${Date.now()}`;
    const pageA = await joinThroughDemoPage('Alice', room);
    const pageB = await joinThroughDemoPage('Bob', room);
    const aliceId = await pageA.evaluate(() => (window as unknown as { plenum: { client: { self: { id: string } } } }).plenum.client.self.id);

    // Media really flows: read from consumer.getStats(), not from the transport (which also carries probation).
    await waitForInbound(
      pageB,
      (stats) => {
        const audio = stats.find((s) => s.peerId === aliceId && s.kind === 'audio');
        const video = stats.find((s) => s.peerId === aliceId && s.kind === 'video');
        return !!audio && audio.bytesReceived > 0 && !!video && video.bytesReceived > 0 && video.framesDecoded > 0;
      },
      "Alice's audio and video on Bob's page",
    );
    const stats = await inboundStats(pageB);
    expect(stats.find((s) => s.kind === 'audio')!.bytesReceived).toBeGreaterThan(0);
    expect(stats.find((s) => s.kind === 'video')!.framesDecoded).toBeGreaterThan(0);

    // What a person sees: Alice's tile on Bob's page, with a playing video.
    const aliceTile = pageB.locator(`.tile[data-peer="${aliceId}"]`);
    await expect.poll(() => aliceTile.locator('.label').textContent(), { timeout: 10_000 }).toBe('Alice — Dev mode (delegate)');
    await pageB.waitForFunction((id) => {
      const video = document.querySelector<HTMLVideoElement>(`.tile[data-peer="${id}"] video`);
      return video !== null && video.videoWidth > 0 && video.currentTime > 0;
    }, aliceId);
    await pageB.screenshot({ path: artifactPath('e2e-bob-sees-alice.png') });

    // Simulcast: A sends layers; B's consumer carries the layer that fits the size B shows A at (the page
    // declares its screen with setView; a small gallery tile needs the lowest layer, a large one the highest).
    const bob = await pageB.evaluate(() => (window as unknown as { plenum: { client: { self: { id: string } } } }).plenum.client.self.id);
    const bobVideo = () => {
      const room = [...server.rooms.all].find((r) => r.participants.has(bob))!;
      return [...room.participants.get(bob)!.endpoint.consumers.values()].find((c) => c.kind === 'video')!;
    };
    const showAliceAt = (width: number, height: number) =>
      pageB.evaluate(
        ([peerId, w, h]) =>
          (window as unknown as { plenum: { client: { setView(v: unknown): Promise<void> } } }).plenum.client.setView({ stage: null, tiles: [{ peerId, width: w, height: h }] }),
        [aliceId, width, height] as const,
      );
    expect(bobVideo().type).toBe('simulcast');
    await showAliceAt(1280, 720);
    await expect.poll(() => bobVideo().currentLayers?.spatialLayer ?? -1, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    await showAliceAt(320, 180);
    await expect.poll(() => bobVideo().currentLayers?.spatialLayer, { timeout: 20_000 }).toBe(0);

    // A also receives B: media flows both ways.
    await waitForInbound(pageA, (stats) => stats.some((s) => s.kind === 'video' && s.framesDecoded > 0), "Bob's video on Alice's page");

    await pageB.evaluate(() => {
      const w = window as unknown as { removed: string[]; plenum: { client: { on(e: string, fn: (t: { kind: string }) => void): void } } };
      w.removed = [];
      w.plenum.client.on('trackRemoved', (t) => w.removed.push(t.kind));
    });
    await pageA.click('#leave');
    await pageB.waitForFunction(() => (window as unknown as { removed: string[] }).removed.length === 2, null, { timeout: 15_000 });
    expect((await pageB.evaluate(() => (window as unknown as { removed: string[] }).removed)).sort()).toEqual(['audio', 'video']);
    expect(await pageB.evaluate(() => (window as unknown as { plenum: { client: { remoteTracks: Map<string, unknown> } } }).plenum.client.remoteTracks.size)).toBe(0);
    await expect.poll(() => aliceTile.count(), { timeout: 10_000 }).toBe(0);
    expect(await pageA.textContent('#status')).toBe('You left the room.');
  });
});

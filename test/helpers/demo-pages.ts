import type { Browser, Page } from 'playwright-core';
import { waitFor } from './wait.js';

type ClientWindow = {
  reconnects: number;
  plenum: {
    client: {
      self: { id: string };
      on(event: string, fn: () => void): void;
      getInboundStats(): Promise<InboundStat[]>;
    };
  };
};

/** Dev mode's quick join on the demo page; counts the client's automatic reconnections in `window.reconnects`. */
export async function devJoinPage(browser: Browser, baseUrl: string, name: string, room: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (error) => console.error(`[${name}] page error:`, error.message));
  page.on('console', (msg) => msg.type() === 'error' && console.error(`[${name}] console:`, msg.text()));
  await page.goto(`${baseUrl}/demo/`);
  await page.click('#dev summary');
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.click('#join');
  await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'Connected.', null, { timeout: 30_000 });
  await countReconnects(page);
  return page;
}

/** Counts the page client's automatic reconnections in `window.reconnects` (see `reconnected`). */
export async function countReconnects(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as ClientWindow;
    w.reconnects = 0;
    w.plenum.client.on('reconnected', () => (w.reconnects += 1));
  });
}

/** The node serving the page's client now (origin or edge). */
export function serverUrl(page: Page): Promise<string> {
  return page.evaluate(() => (window as unknown as { plenum: { client: { serverUrl: string } } }).plenum.client.serverUrl);
}

/** How many tracks the page's client publishes now (camera and microphone after a join or a reconnect). */
export function publishedTracks(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { plenum: { client: { localTracks: Map<string, unknown> } } }).plenum.client.localTracks.size);
}

export function selfId(page: Page): Promise<string> {
  return page.evaluate(() => (window as unknown as ClientWindow).plenum.client.self.id);
}

export function reconnected(page: Page, timeoutMs = 40_000): Promise<unknown> {
  return page.waitForFunction(() => (window as unknown as ClientWindow).reconnects >= 1, null, { timeout: timeoutMs });
}

export interface InboundStat {
  consumerId: string;
  peerId: string;
  kind: string;
  bytesReceived: number;
  framesDecoded: number;
}

export function inboundStats(page: Page): Promise<InboundStat[]> {
  return page.evaluate(() => (window as unknown as ClientWindow).plenum.client.getInboundStats());
}

/**
 * Polls the page's consumer stats from here until `ready` holds (Playwright's waitForFunction does not
 * await an async predicate: the promise it returns counts as truthy at once).
 */
export async function waitForInbound(page: Page, ready: (stats: InboundStat[]) => boolean, what: string, timeoutMs = 30_000): Promise<InboundStat[]> {
  return waitFor(
    async () => {
      const stats = await inboundStats(page);
      return ready(stats) ? stats : undefined;
    },
    { timeoutMs, intervalMs: 250, what },
  );
}

/** Consumer ids through which `page` receives audio and video from `peerId`, once both are flowing. */
export async function receivingFrom(page: Page, peerId: string): Promise<string[]> {
  const stats = await waitForInbound(
    page,
    (all) => all.some((s) => s.peerId === peerId && s.kind === 'audio' && s.bytesReceived > 0) && all.some((s) => s.peerId === peerId && s.kind === 'video' && s.framesDecoded > 0),
    `audio and video from ${peerId}`,
  );
  return stats.filter((s) => s.peerId === peerId).map((s) => s.consumerId);
}

type StageWindow = { plenum: { client: { remoteTracks: Map<string, { track: MediaStreamTrack; peerId: string; consumerId: string }> } } };

/** The remote track the page's stage plays now (its peer and consumer), or null (nobody, or this client's own camera). */
export function stageTrack(page: Page): Promise<{ peerId: string; consumerId: string } | null> {
  return page.evaluate(() => {
    const video = document.querySelector<HTMLVideoElement>('#stage video');
    const track = (video?.srcObject as MediaStream | null)?.getVideoTracks()[0];
    for (const r of (window as unknown as StageWindow).plenum.client.remoteTracks.values()) if (track && r.track === track) return { peerId: r.peerId, consumerId: r.consumerId };
    return null;
  });
}

/**
 * Waits until the page's stage names `label` and plays `peerId`'s camera, with frames being decoded (counted
 * twice from the consumer's own stats: they grow).
 */
export async function waitForStage(page: Page, peerId: string, label: string, timeoutMs = 30_000): Promise<void> {
  const stage = await waitFor(
    async () => {
      const shown = await stageTrack(page);
      return (await page.textContent('#stage-label')) === label && shown?.peerId === peerId ? shown : undefined;
    },
    { timeoutMs, intervalMs: 200, what: `the stage to show ${label}` },
  );
  const frames = async (): Promise<number> => (await inboundStats(page)).find((s) => s.consumerId === stage.consumerId)?.framesDecoded ?? 0;
  const first = await waitFor(frames, { timeoutMs, intervalMs: 200, what: `frames of ${label} on the stage` });
  await waitFor(async () => (await frames()) > first, { timeoutMs, intervalMs: 200, what: `more frames of ${label} on the stage` });
}

/** Waits until the page receives more and more audio bytes from `peerId` (its consumer's own stats). */
export async function waitForGrowingAudio(page: Page, peerId: string, timeoutMs = 30_000): Promise<void> {
  const bytes = async (): Promise<number> => (await inboundStats(page)).filter((s) => s.peerId === peerId && s.kind === 'audio').reduce((n, s) => n + s.bytesReceived, 0);
  const first = await waitFor(bytes, { timeoutMs, intervalMs: 200, what: `audio from ${peerId}` });
  await waitFor(async () => (await bytes()) > first, { timeoutMs, intervalMs: 200, what: `more audio from ${peerId}` });
}

/** The gallery's tiles as shown: each tile's peer and label. */
export function galleryTiles(page: Page): Promise<Array<{ peerId: string; label: string }>> {
  return page.$$eval('#tiles .tile', (tiles) => tiles.map((t) => ({ peerId: (t as HTMLElement).dataset.peer ?? '', label: t.querySelector('.label')?.textContent ?? '' })));
}

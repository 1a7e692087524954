import type { Browser, Page } from 'playwright-core';

type ClientWindow = {
  reconnects: number;
  plenum: {
    client: {
      self: { id: string };
      on(event: string, fn: () => void): void;
      getInboundStats(): Promise<Array<{ consumerId: string; peerId: string; kind: string; bytesReceived: number; framesDecoded: number }>>;
    };
  };
};

/** Dev mode's quick join on the demo page; counts the client's automatic reconnections in `window.reconnects`. */
export async function devJoinPage(browser: Browser, baseUrl: string, name: string, room: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (error) => console.error(`[${name}] page error:`, error.message));
  page.on('console', (msg) => msg.type() === 'error' && console.error(`[${name}] console:`, msg.text()));
  await page.goto(`${baseUrl}/`);
  await page.click('#dev summary');
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.click('#join');
  await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'Connected.', null, { timeout: 30_000 });
  await page.evaluate(() => {
    const w = window as unknown as ClientWindow;
    w.reconnects = 0;
    w.plenum.client.on('reconnected', () => (w.reconnects += 1));
  });
  return page;
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

/** Consumer ids through which `page` receives audio and video from `peerId`, once both are flowing. */
export async function receivingFrom(page: Page, peerId: string): Promise<string[]> {
  await page.waitForFunction(
    async (id) => {
      const stats = await (window as unknown as ClientWindow).plenum.client.getInboundStats();
      return stats.some((s) => s.peerId === id && s.kind === 'audio' && s.bytesReceived > 0) && stats.some((s) => s.peerId === id && s.kind === 'video' && s.framesDecoded > 0);
    },
    peerId,
    { timeout: 30_000, polling: 250 },
  );
  return (await page.evaluate(() => (window as unknown as ClientWindow).plenum.client.getInboundStats())).filter((s) => s.peerId === peerId).map((s) => s.consumerId);
}

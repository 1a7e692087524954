import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { signInAndJoinPage, waitForPeak } from '../helpers/audio-pages.js';
import { launchChromium } from '../helpers/browser.js';
import { startTestServer } from '../helpers/test-server.js';

// A very large room can ask listeners to receive only the floor and the language they chose
// (listenerChannels: selected): less worker CPU per packet, a consumer created on each switch.

const ADMIN_KEY = 'admin-api-key-admin-api-key-0123456789';
let server: MeetingServer;
let browser: Browser;
const pages: Record<string, Page> = {};

beforeAll(async () => {
  server = await startTestServer({ PLENUM_DEV_MODE: 'false', PLENUM_ADMIN_API_KEY: ADMIN_KEY });
  const res = await fetch(`${server.url}/api/admin/events/${DEMO_EVENT_ID}/sessions/lean`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY },
    body: JSON.stringify({ title: 'Plenary (large)', lobby: false, languages: ['fr', 'es'], listenerChannels: 'selected' }),
  });
  if (!res.ok) throw new Error(`session: ${res.status}`);
  browser = await launchChromium();
  const join = (email: string, options: Parameters<typeof signInAndJoinPage>[4]) => signInAndJoinPage(browser, server.url, email, 'lean', options);
  pages.floor = await join('amina.odhiambo@demo.ke', { toneHz: 440 });
  pages.fr = await join('elodie.martin@interpreters.example', { path: '/booth.html', toneHz: 880 });
  pages.es = await join('lucia.fernandez@interpreters.example', { path: '/booth.html', toneHz: 1320 });
  pages.listener = await join('omar.haddad@openaccess.example', {});
  for (const booth of ['fr', 'es']) await pages[booth]!.click('#mic-on');
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** The channels the listener's server-side consumers carry. */
function consumedChannels(): string[] {
  const omar = server.rooms.get('lean')!.participants.get('p-ngo-1')!;
  return [...omar.endpoint.consumers.values()].filter((c) => c.kind === 'audio').map((c) => c.appData.channel as string).sort();
}

describe('interpretation with listenerChannels: selected', () => {
  it('the listener receives only the floor and the chosen language, and switching moves the consumer', async () => {
    const listener = pages.listener!;
    await expect.poll(consumedChannels, { timeout: 15_000 }).toEqual(['floor']);
    await listener.selectOption('#channel', 'fr');
    await waitForPeak(listener, 880);
    expect(consumedChannels()).toEqual(['floor', 'fr']);
    await listener.selectOption('#channel', 'es');
    await waitForPeak(listener, 1320);
    await expect.poll(consumedChannels, { timeout: 10_000 }).toEqual(['es', 'floor']);
    await listener.selectOption('#channel', 'floor');
    await waitForPeak(listener, 440);
    await expect.poll(consumedChannels, { timeout: 10_000 }).toEqual(['floor']);
  });
});

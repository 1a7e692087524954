import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { signInAndJoinPage, waitForPeak } from '../helpers/audio-pages.js';
import { launchChromium } from '../helpers/browser.js';
import { startTestServer } from '../helpers/test-server.js';

// By default (listenerChannels: selected) a listener receives only the floor and the language they chose: a
// consumer is created on each switch, and no paused consumer costs the worker anything per packet. A session
// may ask for `all`: every language consumed, paused until chosen, a switch being one resume.

const ADMIN_KEY = 'admin-api-key-admin-api-key-0123456789';
let server: MeetingServer;
let browser: Browser;

async function createSession(sessionId: string, extra: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${server.url}/api/admin/events/${DEMO_EVENT_ID}/sessions/${sessionId}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY },
    body: JSON.stringify({ title: `Plenary (${sessionId})`, lobby: false, languages: ['fr', 'es'], ...extra }),
  });
  if (!res.ok) throw new Error(`session: ${res.status}`);
}

/** The floor (440 Hz), a live French (880 Hz) and Spanish (1320 Hz) booth, and a listener, in one session. */
async function openSession(sessionId: string): Promise<Record<string, Page>> {
  const join = (email: string, options: Parameters<typeof signInAndJoinPage>[4]) => signInAndJoinPage(browser, server.url, email, sessionId, options);
  const pages: Record<string, Page> = {};
  pages.floor = await join('amina.odhiambo@demo.ke', { toneHz: 440 });
  pages.fr = await join('elodie.martin@interpreters.example', { path: '/demo/booth.html', toneHz: 880 });
  pages.es = await join('lucia.fernandez@interpreters.example', { path: '/demo/booth.html', toneHz: 1320 });
  pages.listener = await join('omar.haddad@openaccess.example', {});
  for (const booth of ['fr', 'es']) await pages[booth]!.click('#mic-on');
  return pages;
}

async function closeSession(pages: Record<string, Page>): Promise<void> {
  for (const page of Object.values(pages)) await page.context().close();
}

/** The listener's server-side audio consumers in a session. */
function listenerAudio(sessionId: string) {
  const omar = server.rooms.get(sessionId)!.participants.get('p-ngo-1')!;
  return [...omar.endpoint.consumers.values()].filter((c) => c.kind === 'audio');
}
const consumedChannels = (sessionId: string) => listenerAudio(sessionId).map((c) => c.appData.channel as string).sort();
/** The channels whose consumers forward now (not paused). */
const flowingChannels = (sessionId: string) => listenerAudio(sessionId).filter((c) => !c.paused).map((c) => c.appData.channel as string).sort();

beforeAll(async () => {
  server = await startTestServer({ PLENUM_DEV_MODE: 'false', PLENUM_ADMIN_API_KEY: ADMIN_KEY });
  await createSession('lean', {}); // the default
  await createSession('full', { listenerChannels: 'all' });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('interpretation with the default listenerChannels (selected)', () => {
  let pages: Record<string, Page> = {};
  beforeAll(async () => {
    pages = await openSession('lean');
  }, 120_000);
  afterAll(() => closeSession(pages));

  it('the listener receives only the floor and the chosen language, and switching moves the consumer', async () => {
    const listener = pages.listener!;
    await expect.poll(() => consumedChannels('lean'), { timeout: 15_000 }).toEqual(['floor']);
    await listener.selectOption('#channel', 'fr');
    await waitForPeak(listener, 880);
    expect(consumedChannels('lean')).toEqual(['floor', 'fr']);
    await listener.selectOption('#channel', 'es');
    await waitForPeak(listener, 1320);
    await expect.poll(() => consumedChannels('lean'), { timeout: 10_000 }).toEqual(['es', 'floor']);
    await listener.selectOption('#channel', 'floor');
    await waitForPeak(listener, 440);
    await expect.poll(() => consumedChannels('lean'), { timeout: 10_000 }).toEqual(['floor']);
  });
});

describe('interpretation with listenerChannels: all', () => {
  let pages: Record<string, Page> = {};
  beforeAll(async () => {
    pages = await openSession('full');
  }, 120_000);
  afterAll(() => closeSession(pages));

  it('the listener receives every channel, paused but the chosen one, and a switch creates nothing', async () => {
    const listener = pages.listener!;
    await expect.poll(() => consumedChannels('full'), { timeout: 15_000 }).toEqual(['es', 'floor', 'fr']);
    await expect.poll(() => flowingChannels('full'), { timeout: 10_000 }).toEqual(['floor']);
    const ids = listenerAudio('full').map((c) => c.id).sort();
    await listener.selectOption('#channel', 'fr');
    await waitForPeak(listener, 880);
    expect(flowingChannels('full')).toEqual(['floor', 'fr']);
    await listener.selectOption('#channel', 'es');
    await waitForPeak(listener, 1320);
    expect(flowingChannels('full')).toEqual(['es', 'floor']);
    expect(listenerAudio('full').map((c) => c.id).sort()).toEqual(ids);
  });
});

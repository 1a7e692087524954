import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { signInAndJoinPage, spectrum, waitForPeak } from '../helpers/audio-pages.js';
import { artifactPath, launchChromium } from '../helpers/browser.js';
import { startTestServer } from '../helpers/test-server.js';

// A moderated sitting in real Chromium: delegate A speaks a 440 Hz tone; every other microphone is
// silent; the observer's page tells by ear (its AnalyserNode) whether A reaches the room.

const ADMIN_KEY = 'admin-api-key-admin-api-key-0123456789';
let server: MeetingServer;
let browser: Browser;
const pages: Record<'secretariat' | 'kenya' | 'kenya2' | 'listener', Page> = {} as never;

beforeAll(async () => {
  server = await startTestServer({ PLENUM_DEV_MODE: 'false', PLENUM_ADMIN_API_KEY: ADMIN_KEY });
  browser = await launchChromium();
  const join = (email: string, toneHz?: number) => signInAndJoinPage(browser, server.url, email, 'demo-council', { toneHz });
  pages.secretariat = await join('sofia.rossi@secretariat.example', 0);
  pages.kenya = await join('amina.odhiambo@demo.ke', 440);
  pages.kenya2 = await join('brian.kamau@demo.ke', 0);
  pages.listener = await join('omar.haddad@openaccess.example');
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const aminaMic = () => [...server.rooms.get('demo-council')!.participants.get('p-ke-1')!.endpoint.producers.values()].find((p) => p.kind === 'audio');

describe('conduct in real Chromium: the speakers list and the floor', () => {
  it('A is not heard before the floor is given, whatever A’s client does', async () => {
    await expect.poll(() => aminaMic()?.paused, { timeout: 15_000 }).toBe(true);
    // The observer's page receives Amina's track but hears nothing at 440 Hz.
    await expect.poll(async () => (await spectrum(pages.listener, [440])).levels[440]!, { timeout: 10_000 }).toBeLessThan(-90);
  });

  it('A requests the floor, a point of order jumps the queue, the secretariat gives A the floor and A is heard', async () => {
    await pages.kenya.click('#request-floor');
    await pages.secretariat.waitForSelector('#speakers-list li[data-speaker="p-ke-1"]');
    await pages.kenya2.click('#point-of-order');
    await expect.poll(() => pages.secretariat.locator('#speakers-list li').first().textContent(), { timeout: 10_000 }).toContain('Brian Kamau — Kenya (point of order)');
    expect(await pages.secretariat.locator('#speakers-list li').nth(1).getAttribute('data-speaker')).toBe('p-ke-1');
    await pages.secretariat.screenshot({ path: artifactPath('conduct-console-speakers-list.png') });

    await pages.secretariat.click('#speakers-list li[data-speaker="p-ke-1"] button.give');
    await waitForPeak(pages.listener, 440);
    await pages.kenya.waitForFunction(() => document.querySelector('#floor-speaker')?.textContent === 'Amina Odhiambo — Kenya has the floor.');
    expect(await pages.kenya.textContent('#floor-timer')).toMatch(/^[23]:\d\d left$/);
  });

  it('taking the floor back mutes A again', async () => {
    await pages.secretariat.click('#take-floor');
    await expect.poll(() => aminaMic()?.paused, { timeout: 10_000 }).toBe(true);
    await expect.poll(async () => (await spectrum(pages.listener, [440])).levels[440]!, { timeout: 20_000 }).toBeLessThan(-90);
  });

  it('a stopped video is forgotten by the SDK, so a reconnect will not publish it again (finding 4)', async () => {
    type W = { plenum: { client: { stopVideo(id: string): Promise<void>; localTracks: Map<string, { track: MediaStreamTrack }>; publications: Array<{ track: MediaStreamTrack }> } } };
    await pages.secretariat.evaluate(() => (window as unknown as W).plenum.client.stopVideo('p-ke-2'));
    const brianKinds = () => [...server.rooms.get('demo-council')!.participants.get('p-ke-2')!.endpoint.producers.values()].map((p) => p.kind);
    await expect.poll(brianKinds, { timeout: 10_000 }).toEqual(['audio']);
    // `publications` is what a reconnect publishes again: a video left in it would be refused until the session ends.
    await expect
      .poll(() => pages.kenya2.evaluate(() => (window as unknown as W).plenum.client.publications.map((p) => p.track.kind)), { timeout: 10_000 })
      .toEqual(['audio']);
    expect(await pages.kenya2.evaluate(() => [...(window as unknown as W).plenum.client.localTracks.values()].map((l) => l.track.kind))).toEqual(['audio']);
  });

  it('closing the session ends everyone’s media, and the attendance matches who joined and left', async () => {
    await pages.secretariat.click('#lc-close');
    for (const page of Object.values(pages)) {
      await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'The secretariat closed the session.', null, { timeout: 15_000 });
    }
    expect(await pages.listener.evaluate(() => (window as unknown as { plenum: { client: { remoteTracks: Map<string, unknown> } } }).plenum.client.remoteTracks.size)).toBe(0);
    expect(server.rooms.get('demo-council')).toBeUndefined();

    const res = await fetch(`${server.url}/api/admin/events/${DEMO_EVENT_ID}/sessions/demo-council/attendance?format=csv`, { headers: { 'x-api-key': ADMIN_KEY } });
    const rows = (await res.text()).trim().split('\r\n').slice(1).map((r) => r.split(','));
    expect(rows.map((r) => [r[0], r[2], r[3]]).sort()).toEqual([
      ['p-ke-1', 'Kenya', 'member_state'],
      ['p-ke-2', 'Kenya', 'member_state'],
      ['p-ngo-1', 'Open Access Network', 'non_governmental_organization'],
      ['p-sec-1', 'Secretariat', 'secretariat'],
    ]);
    for (const r of rows) expect(Date.parse(r[6]!)).toBeGreaterThan(Date.parse(r[5]!)); // each left after joining
  });
});

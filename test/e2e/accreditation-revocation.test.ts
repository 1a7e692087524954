import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCESS_CODE, DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { artifactPath, launchChromium } from '../helpers/browser.js';
import { waitForInbound } from '../helpers/demo-pages.js';
import { startTestServer } from '../helpers/test-server.js';

const ADMIN_KEY = 'admin-api-key-admin-api-key-0123456789';
let server: MeetingServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer({ PLENUM_DEV_MODE: 'false', PLENUM_ADMIN_API_KEY: ADMIN_KEY });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

type ClientWindow = { plenum: { client: { self: { id: string }; remoteTracks: Map<string, unknown>; getInboundStats(): Promise<Array<{ kind: string; bytesReceived: number }>> } } };

/** What a delegate does: open the page, sign in, pick the session, join (and wait for 'Connected.' unless told not to). */
async function signInAndJoin(email: string, sessionId: string, untilStatus = 'Connected.'): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1000, height: 760 } })).newPage();
  page.on('pageerror', (error) => console.error(`[${email}] page error:`, error.message));
  await page.goto(`${server.url}/demo/`);
  await page.fill('#email', email);
  await page.fill('#access-code', DEMO_ACCESS_CODE);
  await page.click('#sign-in-button');
  await page.click(`#session-list li[data-session="${sessionId}"] button`);
  await page.waitForFunction((text) => document.querySelector('#status')?.textContent === text, untilStatus, { timeout: 30_000 }).catch(async (error: Error) => {
    throw new Error(`${email} did not connect; the page says "${await page.textContent('#status')}": ${error.message}`);
  });
  return page;
}

describe('accreditation in real Chromium: live revocation', () => {
  it('a revoked delegate stops receiving media at once and the page says why', async () => {
    const kenya = await signInAndJoin('amina.odhiambo@demo.ke', 'demo-plenary');
    const brazil = await signInAndJoin('beatriz.souza@demo.br', 'demo-plenary');
    const kenyaId = await kenya.evaluate(() => (window as unknown as ClientWindow).plenum.client.self.id);

    // Brazil hears and sees Kenya, and the tile names the entity.
    await waitForInbound(brazil, (stats) => stats.some((s) => s.kind === 'audio' && s.bytesReceived > 0) && stats.some((s) => s.kind === 'video' && s.bytesReceived > 0), "Kenya's media on Brazil's page");
    expect(await brazil.textContent(`.tile[data-peer="${kenyaId}"] .label`)).toBe('Amina Odhiambo — Kenya (head of delegation)');

    const res = await fetch(`${server.url}/api/admin/events/${DEMO_EVENT_ID}/registrations/p-br-1/revoke`, {
      method: 'POST',
      headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);

    await brazil.waitForFunction(() => document.querySelector('#status')?.textContent === 'Removed: your accreditation was revoked.', null, { timeout: 10_000 });
    expect(await brazil.evaluate(() => (window as unknown as ClientWindow).plenum.client.remoteTracks.size)).toBe(0);
    expect(await brazil.locator('.tile').count()).toBe(0);
    await brazil.screenshot({ path: artifactPath('accreditation-revoked.png') });
    // On the server, nothing is sent to Brazil any more: the participant and all its consumers are gone.
    const room = [...server.rooms.all].find((r) => r.id === 'demo-plenary')!;
    expect(room.participants.has('p-br-1')).toBe(false);
    expect([...room.participants.keys()]).toEqual(['p-ke-1']);
  });

  it('the secretariat sees who waits in the lobby with their entity, and admits them from the console', async () => {
    const secretariat = await signInAndJoin('sofia.rossi@secretariat.example', 'demo-with-lobby');
    const kenya = await signInAndJoin('brian.kamau@demo.ke', 'demo-with-lobby', 'Waiting in the lobby: the secretariat will admit you shortly.');
    const waiting = secretariat.locator('#lobby-list li[data-waiting="p-ke-2"]');
    await expect.poll(() => waiting.textContent(), { timeout: 10_000 }).toContain('Brian Kamau — Kenya (delegate)');
    await secretariat.screenshot({ path: artifactPath('accreditation-lobby-console.png') });
    // The lobby's resume token arrives with the handshake's answer: the SDK must be listening by then (finding 1).
    expect(await kenya.evaluate(() => typeof (window as unknown as { plenum: { client: { resumeToken?: string } } }).plenum.client.resumeToken)).toBe('string');
    await waiting.locator('button.admit').click();
    await kenya.waitForFunction(() => document.querySelector('#status')?.textContent === 'Connected.', null, { timeout: 30_000 });
    const row = secretariat.locator('#roster tr[data-participant="p-ke-2"]');
    // The session list already looked the person up, so the join decision came from the cache.
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain('approved (cache)');
    expect(await secretariat.locator('#lobby-list li[data-waiting]').count()).toBe(0);
  });
});

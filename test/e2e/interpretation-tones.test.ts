import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeetingServer } from '../../server/meeting-server.js';
import { signInAndJoinPage, waitForPeak } from '../helpers/audio-pages.js';
import { artifactPath, launchChromium } from '../helpers/browser.js';
import { startTestServer } from '../helpers/test-server.js';

// Every publishing page sends a distinct pure tone: floor 440 Hz, French booth 880 Hz (A) and 660 Hz (B),
// Spanish 1320 Hz, English 1100 Hz. Listening pages read the dominant frequency of what the SDK plays
// with a WebAudio AnalyserNode.

let server: MeetingServer;
let browser: Browser;
const pages: Record<string, Page> = {};

beforeAll(async () => {
  server = await startTestServer({ PLENUM_DEV_MODE: 'false' });
  browser = await launchChromium();
  const join = (email: string, options: Parameters<typeof signInAndJoinPage>[4]) => signInAndJoinPage(browser, server.url, email, 'demo-plenary', options);
  pages.floor = await join('amina.odhiambo@demo.ke', { toneHz: 440 });
  pages.frA = await join('elodie.martin@interpreters.example', { path: '/demo/booth.html', toneHz: 880 });
  pages.frB = await join('julien.petit@interpreters.example', { path: '/demo/booth.html', toneHz: 660 });
  pages.es = await join('lucia.fernandez@interpreters.example', { path: '/demo/booth.html', toneHz: 1320 });
  pages.en = await join('grace.taylor@interpreters.example', { path: '/demo/booth.html', toneHz: 1100 });
  pages.ar = await join('yasmin.khalil@interpreters.example', { path: '/demo/booth.html', toneHz: 250 });
  // The listener is an observer: a delegate would also publish into the floor.
  pages.listener = await join('omar.haddad@openaccess.example', {});
  for (const booth of ['frA', 'es', 'en']) await pages[booth]!.click('#mic-on');
  await pages.frB!.waitForFunction(() => document.querySelector('#live-indicator')?.textContent === 'Élodie Martin is live');
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('interpretation in real Chromium, by ear (tones)', () => {
  it('French: the interpreter at full volume with the floor underneath at the set volume, and none at 0', async () => {
    const listener = pages.listener!;
    await listener.selectOption('#channel', 'fr');
    // Floor underneath at 15 % (about -16 dB): clearly present, clearly below the interpretation. Polled,
    // because the analyser averages over the last frames, when the floor was still at full volume.
    const below = async (): Promise<number> => {
      const s = await waitForPeak(listener, 880, [440]);
      return s.peakDb - s.levels[440]!;
    };
    await expect.poll(below, { timeout: 15_000 }).toBeGreaterThan(10);
    const settled = await below();
    expect(settled).toBeGreaterThan(10);
    expect(settled).toBeLessThan(25);
    await listener.fill('#floor-volume', '0');
    await expect.poll(below, { timeout: 15_000 }).toBeGreaterThan(40);
    expect(await listener.isHidden('#interpretation-status')).toBe(true);
  });

  it('Spanish gives the Spanish booth', async () => {
    await pages.listener!.selectOption('#channel', 'es');
    await waitForPeak(pages.listener!, 1320);
  });

  it('a handover from interpreter A to B while the listener stays on French', async () => {
    const listener = pages.listener!;
    await listener.selectOption('#channel', 'fr');
    await waitForPeak(listener, 880);
    await pages.frA!.click('#offer');
    await pages.frB!.waitForFunction(() => !(document.querySelector('#accept') as HTMLButtonElement).disabled);
    await pages.frB!.click('#accept');
    await waitForPeak(listener, 660);
    await pages.frB!.waitForFunction(() => document.querySelector('#live-indicator')?.textContent === 'You are live');
    expect(await pages.frA!.textContent('#live-indicator')).toBe('Julien Petit is live');
    await pages.frB!.screenshot({ path: artifactPath('interpretation-booth-after-handover.png') });
  });

  it('French with its booth empty falls back to the floor at full volume, and the page says so', async () => {
    const listener = pages.listener!;
    await pages.frB!.click('#mic-off');
    await waitForPeak(listener, 440);
    await listener.waitForSelector('#interpretation-status:not([hidden])');
    expect(await listener.textContent('#interpretation-status')).toBe('Interpretation into French is not available at the moment; you hear the floor.');
    await listener.screenshot({ path: artifactPath('interpretation-listener-fallback.png') });
  });

  it('relay: the Arabic interpreter relaying English hears the English booth', async () => {
    const ar = pages.ar!;
    await waitForPeak(ar, 440); // the floor by default
    await ar.selectOption('#listen-to', 'en');
    await waitForPeak(ar, 1100);
  });
});

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCESS_CODE, DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { toneMicrophone } from '../helpers/audio-pages.js';
import { requestJoinAs } from '../helpers/accreditation-client.js';
import { artifactPath, launchChromium } from '../helpers/browser.js';
import { startTestServer } from '../helpers/test-server.js';
import { catalogue, openWebPage, seriousViolations } from '../helpers/webapp.js';

// The web app's International Sign, built by Vite and served by a real server, in real Chromium: two
// signers on the booth page (/booth), whose camera goes into the sign channel, a speaker (the SDK on a
// blank page: camera and a tone), and an observer on the delegate page (/delegate) who pins International
// Sign. The pinned video is found by its accessible name ("International Sign interpreter: <name>") and
// must play (frames decoded into the element); after a handover on the booth pages it names and plays
// the second signer, the viewer doing nothing. Runs under the server's CSP, checked by axe-core.

const SESSION = 'sign-webapp';
const ILS = 'ils';
const t = catalogue('en');
const ILS_NAME = t('sign.languages.ils');

let server: MeetingServer;
let browser: Browser;
const problems: string[][] = [];

async function boothPage(email: string): Promise<Page> {
  const opened = await openWebPage(browser, `${server.url}/booth?session=${SESSION}`, 'en');
  problems.push(opened.problems);
  const { page } = opened;
  await page.getByLabel(t('signIn.email')).fill(email);
  await page.getByLabel(t('signIn.accessCode')).fill(DEMO_ACCESS_CODE);
  await page.getByRole('button', { name: t('signIn.submit') }).click();
  await page.getByTestId('booth-console').waitFor({ timeout: 30_000 });
  // A sign booth: the signer's own camera, no microphone.
  await page.getByTestId('sign-camera').waitFor({ timeout: 15_000 });
  return page;
}

/** The speaker: camera and a tone through the SDK on a blank page of the server's origin. */
async function speakerPage(): Promise<Page> {
  const context = await browser.newContext();
  await context.addInitScript(toneMicrophone(440));
  const page = await context.newPage();
  await page.goto(`${server.url}/api/config`);
  const answer = await requestJoinAs(server.url, 'amina.odhiambo@demo.ke', SESSION);
  await page.evaluate("import('/sdk/plenum-sdk.js').then((sdk) => { window.PlenumSDK = sdk; })");
  await page.evaluate(async (token) => {
    const w = window as unknown as { PlenumSDK: { MeetingClient: new (o: object) => { join(): Promise<unknown>; publishCamera(): Promise<unknown>; publishMicrophone(): Promise<unknown> } } };
    const client = new w.PlenumSDK.MeetingClient({ token });
    await client.join();
    await client.publishCamera();
    await client.publishMicrophone();
  }, answer.body.joinToken as string);
  return page;
}

/** Waits until the pinned figure named `name` plays: a live track whose frames reach the element. */
async function pinnedPlays(page: Page, name: string): Promise<string> {
  const figure = page.getByRole('figure', { name });
  await figure.waitFor({ timeout: 30_000 });
  await page.waitForFunction(
    (label) => {
      const fig = [...document.querySelectorAll('[data-testid="sign-video"]')].find((f) => f.querySelector('figcaption')?.textContent === label);
      const video = fig?.querySelector('video');
      const quality = video?.getVideoPlaybackQuality();
      return (video?.videoWidth ?? 0) > 0 && (quality?.totalVideoFrames ?? 0) > 5;
    },
    name,
    { timeout: 30_000 },
  );
  return (await figure.getAttribute('data-producer-id')) ?? '';
}

beforeAll(async () => {
  server = await startTestServer({ PLENUM_DEV_MODE: 'false' });
  await server.accreditation.service.sessions.upsert({
    sessionId: SESSION,
    eventId: DEMO_EVENT_ID,
    title: 'Plenary with International Sign',
    open: true,
    lobby: false,
    signLanguages: [ILS],
    interpreters: [
      { personId: 'p-int-fr-1', language: ILS },
      { personId: 'p-int-fr-2', language: ILS },
    ],
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('International Sign on the web pages', () => {
  it('a delegate pins International Sign beside the speaker, named for the live signer, and it follows a handover', async () => {
    const elodie = await boothPage('elodie.martin@interpreters.example');
    const julien = await boothPage('julien.petit@interpreters.example');
    await speakerPage();
    await elodie.getByTestId('go-live').click();
    await elodie.locator('[data-testid="on-air"][data-state="on-air"]').waitFor();

    const opened = await openWebPage(browser, `${server.url}/delegate?session=${SESSION}`, 'en', { viewport: { width: 1280, height: 900 } });
    problems.push(opened.problems);
    const viewer = opened.page;
    await viewer.getByLabel(t('signIn.email')).fill('omar.haddad@openaccess.example');
    await viewer.getByLabel(t('signIn.accessCode')).fill(DEMO_ACCESS_CODE);
    await viewer.getByRole('button', { name: t('signIn.submit') }).click();
    await viewer.getByTestId('prejoin').waitFor({ timeout: 15_000 });
    await viewer.getByRole('button', { name: t('delegate.prejoin.join') }).click();
    await viewer.getByTestId('room').waitFor({ timeout: 20_000 });

    // The speaker on the stage, with their camera.
    await viewer.locator('[data-testid="stage"][data-peer-id="p-ke-1"] video').waitFor({ timeout: 30_000 });
    // Choose International Sign: the live signer, pinned and named.
    await viewer.getByRole('combobox', { name: t('sign.choose') }).selectOption({ label: ILS_NAME });
    const first = await pinnedPlays(viewer, t('sign.pinned', { language: ILS_NAME, name: 'Élodie Martin' }));
    expect(first).not.toBe('');
    // The stage is still there, and nothing of the sign video went into the gallery or the stage.
    expect(await viewer.locator('[data-testid="stage"][data-peer-id="p-ke-1"] video').count()).toBe(1);
    expect(await viewer.locator('[data-testid="tile"][data-peer-id="p-int-fr-1"]').count()).toBe(0);
    expect(await seriousViolations(viewer)).toEqual([]);
    await viewer.screenshot({ path: artifactPath('sign-language-pinned.png') });

    // The handover on the booth pages; the viewer does nothing.
    await elodie.getByTestId('handover-offer').click();
    await julien.getByTestId('handover-accept').waitFor();
    await julien.waitForFunction(() => !(document.querySelector('[data-testid="handover-accept"]') as HTMLButtonElement).disabled);
    await julien.getByTestId('handover-accept').click();
    const second = await pinnedPlays(viewer, t('sign.pinned', { language: ILS_NAME, name: 'Julien Petit' }));
    expect(second).not.toBe(first);

    // Leaving the sign channel: the pinned video goes, the stage stays.
    await viewer.getByRole('combobox', { name: t('sign.choose') }).selectOption({ label: t('sign.none') });
    await viewer.getByTestId('sign-video').waitFor({ state: 'detached' });
    expect(await viewer.locator('[data-testid="stage"][data-peer-id="p-ke-1"] video').count()).toBe(1);
    expect(problems.flat()).toEqual([]);
  }, 180_000);
});

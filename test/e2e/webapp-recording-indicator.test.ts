import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCESS_CODE, DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { signInAs } from '../helpers/accreditation-client.js';
import { artifactPath, launchChromium } from '../helpers/browser.js';
import { httpRequest } from '../helpers/http-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { catalogue, openWebPage, seriousViolations, type Translate } from '../helpers/webapp.js';

// "This session is being recorded" on the delegate page, in real Chromium against a real server with the
// demo event, in English and in Arabic. Amina (Kenya) is in the demo plenary, Élodie in its French booth: no
// indicator. The secretariat starts recording through the API: both pages show the indicator (role=status,
// with the start time as the page writes it) and say it through the live region; Brian, who opens the
// delegate page after the start, sees it on joining. The secretariat stops the recording: it disappears from
// the three pages, and the live region says so. axe-core in each state; no page error nor CSP violation.

const CATALOGUES = { en: catalogue('en'), ar: catalogue('ar') };
const SECRETARIAT = 'sofia.rossi@secretariat.example';
const AMINA = 'amina.odhiambo@demo.ke';
const BRIAN = 'brian.kamau@demo.ke';
/** The French booth's interpreter, on the booth page. */
const ELODIE = 'elodie.martin@interpreters.example';
const SESSION = 'demo-plenary';

let browser: Browser;
let server: MeetingServer;

beforeAll(async () => {
  [browser, server] = await Promise.all([launchChromium(), startTestServer()]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function noSeriousViolations(page: Page, state: string): Promise<void> {
  expect(await seriousViolations(page), state).toEqual([]);
}

/** The live region says `text` (it is cleared and set again for each announcement). */
const announced = (page: Page, text: string) => page.getByTestId('live-region').filter({ hasText: text }).waitFor({ timeout: 10_000 });

/** A delegate in the demo plenary on the delegate page (audio only). */
async function openDelegate(locale: 'en' | 'ar', email: string) {
  const t = CATALOGUES[locale];
  const opened = await openWebPage(browser, `${server.url}/delegate?session=${SESSION}`, locale, { viewport: { width: 1280, height: 1000 } });
  expect(await opened.page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual([locale, locale === 'ar' ? 'rtl' : 'ltr']);
  await opened.page.getByTestId('sign-in-form').waitFor();
  await opened.page.getByLabel(t('signIn.email')).fill(email);
  await opened.page.getByLabel(t('signIn.accessCode')).fill(DEMO_ACCESS_CODE);
  await opened.page.getByRole('button', { name: t('signIn.submit'), exact: true }).click();
  await opened.page.getByTestId('prejoin').waitFor({ timeout: 15_000 });
  await opened.page.getByRole('checkbox', { name: t('delegate.prejoin.audioOnly') }).check();
  await opened.page.getByRole('button', { name: t('delegate.prejoin.join') }).click();
  await opened.page.getByTestId('room').waitFor({ timeout: 20_000 });
  return opened;
}

/** The French booth's interpreter on the booth page, in the demo plenary. */
async function openBooth(locale: 'en' | 'ar') {
  const t = CATALOGUES[locale];
  const opened = await openWebPage(browser, `${server.url}/booth?session=${SESSION}`, locale);
  await opened.page.getByTestId('sign-in-form').waitFor();
  await opened.page.getByLabel(t('signIn.email')).fill(ELODIE);
  await opened.page.getByLabel(t('signIn.accessCode')).fill(DEMO_ACCESS_CODE);
  await opened.page.getByRole('button', { name: t('signIn.submit'), exact: true }).click();
  await opened.page.getByTestId('booth-console').waitFor({ timeout: 30_000 });
  return opened;
}

/** The indicator shows the label and "since hh:mm" as the page writes the start time in its language. */
async function expectIndicator(page: Page, t: Translate, startedAt: number): Promise<void> {
  const indicator = page.getByTestId('recording-indicator');
  await indicator.waitFor({ timeout: 10_000 });
  expect(await page.getByRole('status').and(indicator).count()).toBe(1);
  expect(await indicator.getAttribute('role')).toBe('status');
  expect(await indicator.getAttribute('data-since')).toBe(String(startedAt));
  const time = await page.evaluate((ms) => new Intl.DateTimeFormat(document.documentElement.lang, { hour: '2-digit', minute: '2-digit' }).format(ms), startedAt);
  const text = (await indicator.textContent())!;
  expect(text).toContain(t('recordingIndicator.label'));
  expect(text).toContain(t('recordingIndicator.since', { time }));
}

describe.each(['en', 'ar'] as const)('the recording indicator on /delegate and /booth in %s', (locale) => {
  const t: Translate = CATALOGUES[locale];

  it('shows while the session is recorded, to those present and to those who join, and goes when it stops', async () => {
    const base = `${server.url}/api/admin/events/${DEMO_EVENT_ID}/sessions/${SESSION}`;
    const secretariat = { authorization: `Bearer ${await signInAs(server.url, SECRETARIAT)}` };

    // Not recorded: no indicator, on the delegate page nor in the booth.
    const amina = await openDelegate(locale, AMINA);
    const elodie = await openBooth(locale);
    for (const { page } of [amina, elodie]) {
      expect(await page.getByTestId('recording-indicator').count()).toBe(0);
      await noSeriousViolations(page, 'not recorded');
    }

    // The secretariat starts recording: it shows on her page, said once.
    const started = await httpRequest('POST', `${base}/recording/start`, undefined, secretariat);
    expect(started.status).toBe(201);
    const startedAt = Date.parse((started.json as { recording: { startedAt: string } }).recording.startedAt);
    for (const { page } of [amina, elodie]) {
      await expectIndicator(page, t, startedAt);
      await announced(page, t('recordingIndicator.started'));
      await noSeriousViolations(page, 'recorded');
    }

    // Brian opens the page after the start: the room tells him on joining.
    const brian = await openDelegate(locale, BRIAN);
    await expectIndicator(brian.page, t, startedAt);
    await announced(brian.page, t('recordingIndicator.started'));
    await noSeriousViolations(brian.page, 'joined while recorded');
    await amina.page.screenshot({ path: artifactPath(`webapp-recording-indicator-${locale}.png`), fullPage: true });

    // The secretariat stops it: gone from both pages, said once.
    const stopped = await httpRequest('POST', `${base}/recording/stop`, undefined, secretariat);
    expect(stopped.status).toBe(200);
    for (const { page } of [amina, brian, elodie]) {
      await page.getByTestId('recording-indicator').waitFor({ state: 'detached', timeout: 10_000 });
      await announced(page, t('recordingIndicator.stopped'));
      await noSeriousViolations(page, 'recording stopped');
    }

    expect(amina.problems).toEqual([]);
    expect(brian.problems).toEqual([]);
    expect(elodie.problems).toEqual([]);
    await amina.page.context().close();
    await brian.page.context().close();
    await elodie.page.context().close();
  }, 120_000);
});

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCESS_CODE } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { artifactPath, launchChromium } from '../helpers/browser.js';
import { startTestServer } from '../helpers/test-server.js';
import { catalogue, openWebPage, seriousViolations } from '../helpers/webapp.js';

// The /events page of the web app, built by Vite (global setup) and served by a real server with the demo
// event, in real Chromium: in English and in Arabic, a delegate signs in through the embedded sign-in, sees
// the sessions they are accredited for, and asks to join the open plenary. axe-core checks every state, and
// the page must run under the server's Content-Security-Policy without a violation.

const CATALOGUES = { en: catalogue('en'), ar: catalogue('ar') };
const { en, ar } = CATALOGUES;
const PLENARY = 'demo-plenary';
const DELEGATE = 'amina.odhiambo@demo.ke';

let server: MeetingServer;
let browser: Browser;

const openEvents = (locale: string): Promise<{ page: Page; problems: string[] }> => openWebPage(browser, `${server.url}/events`, locale);

beforeAll(async () => {
  server = await startTestServer();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe.each(['en', 'ar'] as const)('/events in %s', (locale) => {
  const t = CATALOGUES[locale];

  it('signs in, lists the sessions with their accreditation, and shows the join decision', async () => {
    const { page, problems } = await openEvents(locale);
    await page.getByTestId('sign-in-form').waitFor();
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual([locale, locale === 'ar' ? 'rtl' : 'ltr']);
    // Controls are named from the catalogue of the browser's language.
    await expect(page.getByRole('combobox', { name: t('app.language') }).inputValue()).resolves.toBe(locale);
    expect(await page.getByRole('main').getByRole('heading', { level: 1 }).textContent()).toBe(t('events.title'));
    expect(await seriousViolations(page)).toEqual([]);

    // A wrong access code: the API's stable code, shown translated in the alert region.
    await page.getByLabel(t('signIn.email')).fill(DELEGATE);
    await page.getByLabel(t('signIn.accessCode')).fill('not-the-code');
    await page.getByRole('button', { name: t('signIn.submit') }).click();
    const alert = page.getByTestId('sign-in-error');
    expect(await alert.getAttribute('role')).toBe('alert');
    await page.waitForSelector('[data-testid="sign-in-error"][data-code="UNAUTHENTICATED"]');
    expect(await alert.textContent()).toBe(t('errors.UNAUTHENTICATED'));
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByLabel(t('signIn.accessCode')).fill(DEMO_ACCESS_CODE);
    await page.getByRole('button', { name: t('signIn.submit') }).click();
    const plenary = page.locator(`[data-testid="session"][data-session-id="${PLENARY}"]`);
    await plenary.waitFor();
    expect(await page.getByTestId('error').textContent()).toBe('');
    expect(await page.getByTestId('session').count()).toBeGreaterThan(1);
    // The person's own accreditation for the event: status, role and entity, translated.
    const own = page.getByTestId('accreditation');
    expect(await own.getAttribute('data-status')).toBe('approved');
    expect(await own.textContent()).toContain(
      t('events.accreditation.summary', { status: t('registrationStatus.approved'), role: t('roles.head_of_delegation'), entity: 'Kenya', entityType: t('entityTypes.member_state') }),
    );
    expect(await plenary.getByTestId('session-status').textContent()).toBe(t('events.statusValue.open'));
    expect(await plenary.getByTestId('session-access').textContent()).toBe(t('events.session.access.allow'));
    expect(await seriousViolations(page)).toEqual([]);

    // Join: the accreditation check's decision, with its reasons, in the page's language.
    await plenary.getByRole('button', { name: t('events.session.join') }).click();
    const decision = plenary.getByTestId('join-decision');
    await decision.waitFor();
    expect(await decision.getAttribute('data-decision')).toBe('allow');
    expect(await decision.textContent()).toContain(t('events.decision.allow'));
    expect(await decision.locator('[data-reason="ADMITTED"]').textContent()).toBe(t('reasons.ADMITTED'));
    // A delegate goes on to the delegate's page for this session.
    expect(await decision.getByRole('link', { name: t('events.decision.enter') }).getAttribute('href')).toBe(`/delegate?session=${PLENARY}`);
    await page.getByTestId('live-region').filter({ hasText: t('events.decision.allow') }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.dir)).toBe(locale === 'ar' ? 'rtl' : 'ltr');

    await page.screenshot({ path: artifactPath(`webapp-events-${locale}.png`), fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

it('tells a person whose registration is pending why no session is listed', async () => {
  const { page, problems } = await openEvents('fr');
  const t = catalogue('fr');
  await page.getByLabel(t('signIn.email')).fill('priya.nair@demo.in');
  await page.getByLabel(t('signIn.accessCode')).fill(DEMO_ACCESS_CODE);
  await page.getByRole('button', { name: t('signIn.submit') }).click();
  const own = page.locator('[data-testid="accreditation"][data-status="pending"]');
  await own.waitFor();
  expect(await own.textContent()).toContain(t('registrationStatus.pending'));
  expect(await page.getByTestId('session').count()).toBe(0);
  expect(await seriousViolations(page)).toEqual([]);
  expect(problems).toEqual([]);
  await page.context().close();
});

it('switches language from the header, and keeps the choice across a reload', async () => {
  const { page, problems } = await openEvents('en');
  await page.getByRole('combobox', { name: en('app.language') }).selectOption('ar');
  await page.waitForFunction(() => document.documentElement.dir === 'rtl' && document.documentElement.lang === 'ar');
  expect(await page.getByRole('button', { name: ar('signIn.submit') }).count()).toBe(1);
  await page.reload();
  await page.getByRole('combobox', { name: ar('app.language') }).waitFor();
  expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual(['ar', 'rtl']);
  expect(problems).toEqual([]);
  await page.context().close();
});

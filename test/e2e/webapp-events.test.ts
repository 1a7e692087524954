import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCESS_CODE } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import ar from '../../web/src/i18n/locales/ar.json' with { type: 'json' };
import en from '../../web/src/i18n/locales/en.json' with { type: 'json' };
import { artifactPath, launchChromium } from '../helpers/browser.js';
import { startTestServer } from '../helpers/test-server.js';

// The /events page of the web app, built by Vite (global setup) and served by a real server with the demo
// event, in real Chromium: in English and in Arabic, a delegate signs in through the embedded sign-in, sees
// the sessions they are accredited for, and asks to join the open plenary. axe-core checks every state, and
// the page must run under the server's Content-Security-Policy without a violation.

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const CATALOGUES = { en, ar };
const PLENARY = 'demo-plenary';
const DELEGATE = 'amina.odhiambo@demo.ke';

let server: MeetingServer;
let browser: Browser;

interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: { target: string[] }[];
}

/** Runs axe-core in the page (injected through the debugging protocol, so the CSP stays as served). */
async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  const violations = await page.evaluate(async (source) => {
    const w = window as unknown as { axe?: { run(): Promise<{ violations: AxeViolation[] }> } };
    if (!w.axe) (0, eval)(source);
    return (await w.axe!.run()).violations;
  }, AXE_SOURCE);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** A fresh browser context in `locale`, collecting page errors and CSP violations. */
async function openEvents(locale: 'en' | 'ar'): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ locale });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // Console errors other than failed requests (the wrong access code's 401 is one, on purpose), CSP violations included.
  page.on('console', (msg) => msg.type() === 'error' && !msg.text().startsWith('Failed to load resource') && problems.push(`console: ${msg.text()}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  const response = await page.goto(`${server.url}/events`);
  expect(response?.status()).toBe(200);
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
  return { page, problems };
}

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
    await expect(page.getByRole('combobox', { name: t.app.language }).inputValue()).resolves.toBe(locale);
    expect(await page.getByRole('main').getByRole('heading', { level: 1 }).textContent()).toBe(t.events.title);
    expect(await seriousViolations(page)).toEqual([]);

    // A wrong access code: the API's stable code, shown translated in the alert region.
    await page.getByLabel(t.signIn.email).fill(DELEGATE);
    await page.getByLabel(t.signIn.accessCode).fill('not-the-code');
    await page.getByRole('button', { name: t.signIn.submit }).click();
    const alert = page.getByTestId('error');
    expect(await alert.getAttribute('role')).toBe('alert');
    await page.waitForSelector('[data-testid="error"][data-code="UNAUTHENTICATED"]');
    expect(await alert.textContent()).toBe(t.errors.UNAUTHENTICATED);
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByLabel(t.signIn.accessCode).fill(DEMO_ACCESS_CODE);
    await page.getByRole('button', { name: t.signIn.submit }).click();
    const plenary = page.locator(`[data-testid="session"][data-session-id="${PLENARY}"]`);
    await plenary.waitFor();
    expect(await alert.textContent()).toBe('');
    expect(await page.getByTestId('session').count()).toBeGreaterThan(1);
    expect(await plenary.getByTestId('session-status').textContent()).toBe(t.events.statusValue.open);
    expect(await plenary.getByTestId('session-access').textContent()).toBe(t.events.session.access.allow);
    expect(await seriousViolations(page)).toEqual([]);

    // Join: the accreditation check's decision, with its reasons, in the page's language.
    await plenary.getByRole('button', { name: t.events.session.join }).click();
    const decision = plenary.getByTestId('join-decision');
    await decision.waitFor();
    expect(await decision.getAttribute('data-decision')).toBe('allow');
    expect(await decision.textContent()).toContain(t.events.decision.allow);
    expect(await decision.locator('[data-reason="ADMITTED"]').textContent()).toBe(t.reasons.ADMITTED);
    await page.getByTestId('live-region').filter({ hasText: t.events.decision.allow }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.dir)).toBe(locale === 'ar' ? 'rtl' : 'ltr');

    await page.screenshot({ path: artifactPath(`webapp-events-${locale}.png`), fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

it('switches language from the header, and keeps the choice across a reload', async () => {
  const { page, problems } = await openEvents('en');
  await page.getByRole('combobox', { name: en.app.language }).selectOption('ar');
  await page.waitForFunction(() => document.documentElement.dir === 'rtl' && document.documentElement.lang === 'ar');
  expect(await page.getByRole('button', { name: ar.signIn.submit }).count()).toBe(1);
  await page.reload();
  await page.getByRole('combobox', { name: ar.app.language }).waitFor();
  expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual(['ar', 'rtl']);
  expect(problems).toEqual([]);
  await page.context().close();
});

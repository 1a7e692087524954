import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCESS_CODE, DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { launchChromium } from '../helpers/browser.js';
import { httpRequest } from '../helpers/http-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { catalogue, openWebPage, seriousViolations, type Translate } from '../helpers/webapp.js';

// Dial-in PINs in the secretariat's console (/console), in real Chromium against a real server, in English
// and in Arabic (right to left): the panel lists the sessions' dial-in numbers; the secretariat picks a
// delegate ("name — entity") and issues a PIN, which the page shows once and the caller's PIN check then
// admits as that person; the list shows who has a PIN; Revoke removes it and the same PIN is refused.
// axe-core in each state; no page error nor CSP violation.

const ADMIN_KEY = 'dial-in-panel-admin-key-0123456789abcdef';
const SECRETARIAT_EMAIL = 'sofia.rossi@secretariat.example';
const SESSION = 'dial-panel';
const TITLE = 'Dial-in committee';
const NUMBER = '5150';
const AMINA = { id: 'p-ke-1', name: 'Amina Odhiambo', entity: 'Kenya' };

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

const announced = (page: Page, text: string) => page.getByTestId('live-region').filter({ hasText: text }).waitFor({ timeout: 10_000 });

describe.each(['en', 'ar'] as const)('dial-in PINs in /console in %s', (locale) => {
  const t: Translate = catalogue(locale);
  let server: MeetingServer;
  beforeAll(async () => {
    server = await startTestServer({ PLENUM_ADMIN_API_KEY: ADMIN_KEY });
    const put = await httpRequest('PUT', `${server.url}/api/admin/events/${DEMO_EVENT_ID}/sessions/${SESSION}`, { title: TITLE, lobby: false, dialIn: { number: NUMBER } }, { 'x-api-key': ADMIN_KEY });
    expect(put.status).toBe(200);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('issues a PIN shown once that admits the caller, lists it, and revokes it', async () => {
    const { page, problems } = await openWebPage(browser, `${server.url}/console`, locale, { viewport: { width: 1400, height: 1100 } });
    expect(await page.evaluate(() => document.documentElement.dir)).toBe(locale === 'ar' ? 'rtl' : 'ltr');
    await page.getByTestId('sign-in-form').waitFor();
    await page.getByLabel(t('signIn.email')).fill(SECRETARIAT_EMAIL);
    await page.getByLabel(t('signIn.accessCode')).fill(DEMO_ACCESS_CODE);
    await page.getByRole('button', { name: t('signIn.submit'), exact: true }).click();

    const panel = page.getByRole('region', { name: t('dialIn.heading') });
    await panel.waitFor({ timeout: 20_000 });
    expect(await panel.getAttribute('data-testid')).toBe('dial-in-panel');
    await panel.locator(`[data-testid="dial-in-numbers"] li[data-session-id="${SESSION}"]`).filter({ hasText: t('dialIn.numberOf', { title: TITLE, number: NUMBER }) }).waitFor();
    await panel.getByTestId('dial-in-none').waitFor();
    await expectNoSeriousViolations(page, 'no PIN');

    // Issue: the person is chosen by "name — entity"; the PIN is shown once, grouped for reading.
    const person = panel.getByLabel(t('dialIn.person'), { exact: true });
    await person.selectOption({ label: t('console.person', { name: AMINA.name, entity: AMINA.entity }) });
    await panel.getByRole('button', { name: t('dialIn.issue'), exact: true }).click();
    const who = t('console.person', { name: AMINA.name, entity: AMINA.entity });
    await announced(page, t('dialIn.issued', { person: who }));
    const shown = panel.getByTestId('dial-in-pin');
    const pin = ((await shown.textContent()) ?? '').replace(/\s/g, '');
    expect(pin).toMatch(/^\d{8}$/);
    expect(await panel.getByTestId('dial-in-issued').getAttribute('data-person-id')).toBe(AMINA.id);
    const row = panel.locator(`[data-testid="dial-in-list"] tr[data-person-id="${AMINA.id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain(who);
    expect(await row.textContent()).not.toContain(pin);
    await expectNoSeriousViolations(page, 'PIN shown');

    // The caller keying that PIN is admitted as Amina.
    const admitted = await server.accreditation.service.decidePhoneJoin(pin, SESSION);
    expect(admitted).toMatchObject({ decision: 'allow', via: 'dial-in', registration: { personId: AMINA.id, entity: { name: AMINA.entity } } });

    // Hide: the PIN is gone from the page (it cannot be shown again).
    await panel.getByRole('button', { name: t('dialIn.hide'), exact: true }).click();
    expect(await panel.getByTestId('dial-in-pin').count()).toBe(0);
    expect(await page.content()).not.toContain(pin);

    // Revoke: the row goes, and the same PIN is refused.
    await row.getByRole('button', { name: t('dialIn.revokeFor', { person: who }), exact: true }).click();
    await announced(page, t('dialIn.revoked', { person: who }));
    await panel.getByTestId('dial-in-none').waitFor();
    expect(await server.accreditation.service.decidePhoneJoin(pin, SESSION)).toMatchObject({ decision: 'deny', reasons: ['PIN_INVALID'] });
    await expectNoSeriousViolations(page, 'revoked');
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

async function expectNoSeriousViolations(page: Page, state: string): Promise<void> {
  expect(await seriousViolations(page), state).toEqual([]);
}

import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCESS_CODE } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { joinedSocket } from '../helpers/accreditation-client.js';
import { artifactPath, launchChromium } from '../helpers/browser.js';
import { call } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { catalogue, openWebPage, seriousViolations, type Translate } from '../helpers/webapp.js';

// Votes by entity in the web app, in real Chromium against a real server with the demo event. In English
// and in Arabic: the Chair designates France's voter and opens a recorded vote in the console; Kenya's head
// of delegation sees it on the delegate page (announced), votes "in favour" through the confirmation step
// and sees her delegation's vote; France votes "against" through a Node signaling client; the console shows
// the count, closes the vote, shows the results by entity and downloads the CSV; the delegate page shows the
// results by entity. Then (in English) a secret ballot: Kenya's other delegate is refused (the reason
// translated, the panel read-only); the head picks a candidate; the results are totals only, and her choice
// is never shown back. axe-core in each state; no page error nor CSP violation.

const CATALOGUES = { en: catalogue('en'), ar: catalogue('ar') };
const CHAIR = 'kwame.mensah@demo.gh';
const AMINA = { email: 'amina.odhiambo@demo.ke', entity: 'Kenya' };
/** Kenya's other delegate: neither its head nor designated, so not the one who casts Kenya's vote. */
const BRIAN = { email: 'brian.kamau@demo.ke', entity: 'Kenya' };
const CAMILLE = { email: 'camille.durand@demo.fr', id: 'p-fr-1', entity: 'France' };
const SESSIONS = { en: 'demo-plenary', ar: 'demo-council' } as const;
const TITLES: Record<string, string> = {
  'demo-plenary': 'Plenary — opening',
  'demo-council': 'Council — formal sitting (moderated floor)',
  'demo-member-states': 'Closed consultations — Member States only',
};

let server: MeetingServer;
let browser: Browser;
const sockets: Socket[] = [];

beforeAll(async () => {
  server = await startTestServer();
  browser = await launchChromium();
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await browser?.close();
  await server?.close();
});

async function noSeriousViolations(page: Page, state: string): Promise<void> {
  expect(await seriousViolations(page), state).toEqual([]);
}

/** The live region says `text` (it is cleared and set again for each announcement). */
const announced = (page: Page, text: string) => page.getByTestId('live-region').filter({ hasText: text }).waitFor({ timeout: 10_000 });

/** A number as the page writes it in its language. */
const formatted = (page: Page, n: number) => page.evaluate((n) => new Intl.NumberFormat(document.documentElement.lang).format(n), n);

async function signIn(page: Page, t: Translate, email: string): Promise<void> {
  await page.getByTestId('sign-in-form').waitFor();
  await page.getByLabel(t('signIn.email')).fill(email);
  await page.getByLabel(t('signIn.accessCode')).fill(DEMO_ACCESS_CODE);
  await page.getByRole('button', { name: t('signIn.submit'), exact: true }).click();
}

/** The Chair's console conducting `session`, its votes panel shown. */
async function openConsole(locale: 'en' | 'ar', session: string) {
  const t = CATALOGUES[locale];
  const opened = await openWebPage(browser, `${server.url}/console`, locale, { viewport: { width: 1400, height: 1100 } });
  expect(await opened.page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual([locale, locale === 'ar' ? 'rtl' : 'ltr']);
  await signIn(opened.page, t, CHAIR);
  const row = opened.page.locator(`[data-testid="session-row"][data-session-id="${session}"]`);
  await row.getByRole('button', { name: t('console.sessions.conductNamed', { title: TITLES[session]! }) }).click();
  await opened.page.locator('[data-testid="room-status"][data-status="connected"]').waitFor({ timeout: 20_000 });
  await opened.page.getByTestId('votes-panel').waitFor();
  return opened;
}

/** A delegate (Kenya's head of delegation unless said) in `session` on the delegate page (audio only). */
async function openDelegate(locale: 'en' | 'ar', session: string, email = AMINA.email) {
  const t = CATALOGUES[locale];
  const opened = await openWebPage(browser, `${server.url}/delegate?session=${session}`, locale, { viewport: { width: 1280, height: 1000 } });
  await signIn(opened.page, t, email);
  await opened.page.getByTestId('prejoin').waitFor({ timeout: 15_000 });
  await opened.page.getByRole('checkbox', { name: t('delegate.prejoin.audioOnly') }).check();
  await opened.page.getByRole('button', { name: t('delegate.prejoin.join') }).click();
  await opened.page.getByTestId('room').waitFor({ timeout: 20_000 });
  return opened;
}

async function designateFrance(page: Page, t: Translate): Promise<void> {
  const form = page.getByTestId('designate-form');
  await form.getByLabel(t('votes.console.designateEntity')).fill(CAMILLE.entity);
  await form.getByLabel(t('votes.console.designatePerson')).fill(CAMILLE.id);
  await form.getByRole('button', { name: t('votes.console.designateSubmit'), exact: true }).click();
  await page.locator(`[data-testid="designated"][data-entity="${CAMILLE.entity}"][data-person-id="${CAMILLE.id}"]`).waitFor();
}

async function openVote(page: Page, t: Translate, question: string, secret?: { candidates: string[]; seats: number }, kind?: 'roll_call'): Promise<string> {
  const form = page.getByTestId('open-vote-form');
  await form.getByLabel(t('votes.console.question')).fill(question);
  if (kind) await form.getByLabel(t('votes.console.kindField')).selectOption(kind);
  if (secret) {
    await form.getByLabel(t('votes.console.kindField')).selectOption('secret');
    await form.getByLabel(t('votes.console.candidatesField')).fill(secret.candidates.join('\n'));
    await form.getByLabel(t('votes.console.seatsField')).fill(String(secret.seats));
  }
  expect(await form.getByRole('checkbox', { name: t('entityTypes.member_state') }).isChecked()).toBe(true);
  await noSeriousViolations(page, 'the open-vote form');
  await form.getByRole('button', { name: t('votes.console.submit'), exact: true }).click();
  const current = page.locator('[data-testid="current-vote"][data-status="open"]');
  await current.waitFor({ timeout: 10_000 });
  return (await current.getAttribute('data-vote-id'))!;
}

/** Casts through the page: the choice, then the confirmation step (its text checked), then Confirm. */
async function confirmVote(page: Page, t: Translate, confirmText: string): Promise<void> {
  const confirm = page.getByRole('group', { name: t('votes.confirmHeading') });
  await confirm.waitFor();
  expect(await confirm.getByTestId('vote-confirm-text').textContent()).toBe(confirmText);
  // The confirmation takes the focus: a keyboard user confirms with Enter.
  expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('vote-confirm-button');
  await noSeriousViolations(page, 'the confirmation step');
  await page.keyboard.press('Enter');
}

describe.each(['en', 'ar'] as const)('votes in the web app, %s', (locale) => {
  const t = CATALOGUES[locale];
  const session = SESSIONS[locale];

  it('a recorded vote: opened in the console, cast on the delegate page with confirmation, results by entity on both, CSV export', async () => {
    const chair = await openConsole(locale, session);
    const c = chair.page;
    await noSeriousViolations(c, 'the votes panel');
    await designateFrance(c, t);
    const delegate = await openDelegate(locale, session);
    const d = delegate.page;
    const france = await joinedSocket(server.url, CAMILLE.email, session);
    sockets.push(france);

    const question = locale === 'en' ? 'Adopt the draft resolution?' : 'اعتماد مشروع القرار؟';
    const voteId = await openVote(c, t, question);
    // Kenya (its head) and France (its designated delegate) are present and entitled.
    const progress = c.getByTestId('current-vote').getByTestId('vote-progress');
    expect(await progress.getAttribute('data-entitled')).toBe('2');
    expect(await progress.textContent()).toBe(t('votes.progress', { cast: await formatted(c, 0), entitled: await formatted(c, 2) }));

    // The delegate page: the panel, announced, with the question, the kind, the timer and the count.
    const panel = d.locator(`[data-testid="vote-panel"][data-vote-id="${voteId}"]`);
    await panel.waitFor({ timeout: 10_000 });
    await announced(d, t('votes.announce.opened', { question, kind: t('votes.kind.recorded') }));
    expect(await panel.getByTestId('vote-question').textContent()).toBe(question);
    expect(await panel.getByTestId('vote-kind').textContent()).toBe(t('votes.kindLabel', { kind: t('votes.kind.recorded') }));
    await panel.getByTestId('vote-time-left').waitFor();
    expect(await panel.getByTestId('vote-progress').textContent()).toBe(t('votes.progress', { cast: await formatted(d, 0), entitled: await formatted(d, 2) }));
    await noSeriousViolations(d, 'a vote open');

    // In favour, through the confirmation step; then "your delegation has voted: in favour".
    await panel.getByRole('group', { name: t('votes.choose') }).getByRole('button', { name: t('votes.position.yes'), exact: true }).click();
    await confirmVote(d, t, t('votes.confirmPosition', { position: t('votes.position.yes') }));
    const voted = panel.locator('[data-testid="vote-voted"][data-position="yes"]');
    await voted.waitFor({ timeout: 10_000 });
    expect(await voted.textContent()).toBe(t('votes.votedPosition', { position: t('votes.position.yes') }));
    await announced(d, t('votes.announce.cast'));
    expect(await panel.getByRole('button', { name: t('votes.position.no'), exact: true }).count()).toBe(0);
    await noSeriousViolations(d, 'voted');

    // France votes through its signaling client; the console counts both, then closes.
    const cast = await call(france, 'castVote', { voteId, ballot: { position: 'no' } });
    expect(cast.ok).toBe(true);
    await c.locator('[data-testid="current-vote"] [data-testid="vote-progress"][data-cast="2"]').waitFor({ timeout: 10_000 });
    await d.locator('[data-testid="vote-panel"] [data-testid="vote-progress"][data-cast="2"]').waitFor({ timeout: 10_000 });
    await c.getByRole('button', { name: t('votes.console.close'), exact: true }).click();
    await c.locator('[data-testid="current-vote"][data-status="closed"]').waitFor({ timeout: 10_000 });

    // The results by entity, in the console and on the delegate page.
    for (const page of [c, d]) {
      const rows = page.getByTestId('vote-result-entity');
      await rows.first().waitFor({ timeout: 10_000 });
      expect(await rows.evaluateAll((rs) => rs.map((r) => `${r.getAttribute('data-entity')}:${r.getAttribute('data-position')}`).sort())).toEqual(['France:no', 'Kenya:yes']);
      const kenya = page.locator('[data-testid="vote-result-entity"][data-entity="Kenya"]');
      expect(await kenya.locator('td').last().textContent()).toBe(t('votes.position.yes'));
      expect(await page.locator('[data-testid="vote-totals"] [data-position="yes"]').getAttribute('data-count')).toBe('1');
      expect(await page.getByRole('table', { name: t('votes.resultsTable') }).count()).toBe(1);
    }
    await d.locator(`[data-testid="vote-panel"][data-status="closed"]`).waitFor();
    await announced(d, t('votes.announce.closed', { question }));
    await noSeriousViolations(d, 'the results on the delegate page');
    await noSeriousViolations(c, 'the results in the console');

    // The CSV export (the admin API with the identity token), and the session's list of votes.
    const [download] = await Promise.all([c.waitForEvent('download'), c.getByRole('button', { name: t('votes.console.exportCsv'), exact: true }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split(/\r?\n/)[0]).toBe('entity,entityType,position');
    expect(csv).toContain('Kenya,member_state,yes');
    expect(csv).toContain('France,member_state,no');
    await c.locator(`[data-testid="past-vote"][data-vote-id="${voteId}"][data-status="closed"]`).waitFor({ timeout: 10_000 });
    // A new vote may be opened again.
    await c.getByTestId('open-vote-form').waitFor();

    await d.screenshot({ path: artifactPath(`webapp-vote-delegate-${locale}.png`), fullPage: true });
    await c.screenshot({ path: artifactPath(`webapp-vote-console-${locale}.png`), fullPage: true });
    expect(delegate.problems).toEqual([]);
    expect(chair.problems).toEqual([]);
    // Nothing went wrong along the way in the console (its error banner is empty).
    expect(await c.getByTestId('console-error').getAttribute('data-code')).toBe('');
    expect(await c.getByTestId('votes-error').count()).toBe(0);
    france.close();
    await d.context().close();
    await c.context().close();
  });
});

describe('a roll-call and a secret ballot in the web app', () => {
  const t = CATALOGUES.en;
  const session = 'demo-member-states';

  it('a roll-call (called in turn, Pass); then a secret ballot: a delegate who does not cast the vote is refused (translated); the head picks a candidate with confirmation; totals only; the choice is never shown back', async () => {
    const chair = await openConsole('en', session);
    const c = chair.page;
    await designateFrance(c, t);
    const delegate = await openDelegate('en', session);
    const d = delegate.page;
    const other = await openDelegate('en', session, BRIAN.email);
    const b = other.page;
    const france = await joinedSocket(server.url, CAMILLE.email, session);
    sockets.push(france);

    // A roll-call: the page offers the positions only while Kenya is called; the Chair passes the entity called.
    const rollCallId = await openVote(c, t, 'Roll-call on the amendment', undefined, 'roll_call');
    const called = c.getByTestId('current-vote').getByTestId('vote-called');
    const yes = d.locator(`[data-testid="vote-panel"][data-vote-id="${rollCallId}"]`).getByRole('button', { name: t('votes.position.yes'), exact: true });
    const calledNow = async (entity: string, kenyaHasVoted = false) => {
      await c.locator(`[data-testid="current-vote"] [data-testid="vote-called"][data-entity="${entity}"]`).waitFor({ timeout: 10_000 });
      await d.locator(`[data-testid="vote-panel"] [data-testid="vote-called"][data-entity="${entity}"]`).waitFor({ timeout: 10_000 });
      // Once Kenya has voted, the page offers no position any more.
      if (kenyaHasVoted) expect(await yes.count()).toBe(0);
      else expect(await yes.isEnabled()).toBe(entity === AMINA.entity);
    };
    const first = (await called.getAttribute('data-entity'))!;
    expect([AMINA.entity, CAMILLE.entity]).toContain(first);
    await calledNow(first);
    expect(await called.textContent()).toContain(t('votes.called', { entity: first }));
    await c.getByRole('button', { name: t('votes.console.pass'), exact: true }).click();
    const second = first === AMINA.entity ? CAMILLE.entity : AMINA.entity;
    await calledNow(second);
    const kenyaVotes = async () => {
      await yes.click();
      await confirmVote(d, t, t('votes.confirmPosition', { position: t('votes.position.yes') }));
      await d.locator('[data-testid="vote-voted"][data-position="yes"]').waitFor({ timeout: 10_000 });
    };
    const franceVotes = async () => expect((await call(france, 'castVote', { voteId: rollCallId, ballot: { position: 'no' } })).ok).toBe(true);
    if (second === AMINA.entity) {
      await announced(d, t('votes.announce.calledYou'));
      await kenyaVotes();
      await calledNow(CAMILLE.entity, true);
      await franceVotes();
    } else {
      await franceVotes();
      await calledNow(AMINA.entity);
      await kenyaVotes();
    }
    await c.locator('[data-testid="current-vote"] [data-testid="vote-progress"][data-cast="2"]').waitFor({ timeout: 10_000 });
    await noSeriousViolations(c, 'a roll-call in the console');
    await c.getByRole('button', { name: t('votes.console.close'), exact: true }).click();
    await d.locator(`[data-testid="vote-panel"][data-vote-id="${rollCallId}"] [data-testid="vote-results"][data-kind="roll_call"]`).waitFor({ timeout: 10_000 });
    // By entity in the calling order drawn by lot.
    expect(await d.getByTestId('vote-result-entity').evaluateAll((rs) => rs.map((r) => `${r.getAttribute('data-entity')}:${r.getAttribute('data-position')}`))).toEqual(
      first === AMINA.entity ? ['Kenya:yes', 'France:no'] : ['France:no', 'Kenya:yes'],
    );

    const candidates = ['Candidate Arborea', 'Candidate Borealis', 'Candidate Caldera'];
    const question = 'Election of one Vice-Chair';
    const voteId = await openVote(c, t, question, { candidates, seats: 1 });
    const panel = d.locator(`[data-testid="vote-panel"][data-vote-id="${voteId}"][data-kind="secret"]`);
    await panel.waitFor({ timeout: 10_000 });
    await announced(d, t('votes.announce.opened', { question, kind: t('votes.kind.secret') }));

    // Kenya's other delegate tries: the server refuses (VOTE_NOT_ENTITLED), the page explains and turns read-only.
    const otherPanel = b.locator(`[data-testid="vote-panel"][data-vote-id="${voteId}"]`);
    await otherPanel.getByRole('checkbox', { name: candidates[1] }).check();
    await otherPanel.getByRole('button', { name: t('votes.castBallot'), exact: true }).click();
    await confirmVote(b, t, t('votes.confirmCandidates', { candidates: candidates[1]! }));
    const refusal = otherPanel.locator('[data-testid="vote-error"][data-code="VOTE_NOT_ENTITLED"]');
    await refusal.waitFor({ timeout: 10_000 });
    expect(await refusal.textContent()).toBe(t('votes.errors.VOTE_NOT_ENTITLED'));
    await otherPanel.getByTestId('vote-read-only').waitFor();
    expect(await otherPanel.getByRole('checkbox').count()).toBe(0);
    await noSeriousViolations(b, 'a refused cast');
    // Up to the seats: with one chosen, the others cannot be.
    const ballot = panel.getByRole('group', { name: t('votes.candidates', { seats: '1' }) });
    await ballot.getByRole('checkbox', { name: candidates[0] }).check();
    expect(await ballot.getByRole('checkbox', { name: candidates[1] }).isDisabled()).toBe(true);
    await noSeriousViolations(d, 'a secret ballot open');
    await panel.getByRole('button', { name: t('votes.castBallot'), exact: true }).click();
    await confirmVote(d, t, t('votes.confirmCandidates', { candidates: candidates[0]! }));
    const voted = panel.getByTestId('vote-voted');
    await voted.waitFor({ timeout: 10_000 });
    expect(await voted.textContent()).toBe(t('votes.voted'));
    expect(await panel.textContent()).not.toContain(candidates[0]);
    // Kenya's other delegate is told the delegation has voted, and not how.
    const told = otherPanel.getByTestId('vote-voted');
    await told.waitFor({ timeout: 10_000 });
    expect(await told.textContent()).toBe(t('votes.voted'));

    expect((await call(france, 'castVote', { voteId, ballot: { candidates: [candidates[0]] } })).ok).toBe(true);
    await c.locator('[data-testid="current-vote"] [data-testid="vote-progress"][data-cast="2"]').waitFor({ timeout: 10_000 });
    await c.getByRole('button', { name: t('votes.console.close'), exact: true }).click();

    // Totals only: by candidate, the elected; no table by entity, no entity named.
    for (const page of [c, d]) {
      const results = page.locator('[data-testid="vote-results"][data-kind="secret"]');
      await results.waitFor({ timeout: 10_000 });
      expect(await results.getByTestId('vote-result-candidate').evaluateAll((rs) => rs.map((r) => `${r.getAttribute('data-candidate')}:${r.getAttribute('data-votes')}`))).toEqual([
        `${candidates[0]}:2`,
        `${candidates[1]}:0`,
        `${candidates[2]}:0`,
      ]);
      expect(await results.getByTestId('vote-elected').getAttribute('data-elected')).toBe(candidates[0]);
      expect(await page.getByTestId('vote-result-entity').count()).toBe(0);
      expect(await results.textContent()).not.toMatch(/Kenya|France/);
    }
    await noSeriousViolations(d, 'secret ballot results (delegate)');
    await noSeriousViolations(c, 'secret ballot results (console)');
    const [download] = await Promise.all([c.waitForEvent('download'), c.getByRole('button', { name: t('votes.console.exportCsv'), exact: true }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv).toContain(`${candidates[0]},2,yes`);
    expect(csv).not.toMatch(/Kenya|France/);
    await d.screenshot({ path: artifactPath('webapp-vote-secret-en.png'), fullPage: true });
    expect(delegate.problems).toEqual([]);
    expect(other.problems).toEqual([]);
    expect(chair.problems).toEqual([]);
    france.close();
  }, 150_000);
});

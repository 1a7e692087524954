import { readFileSync } from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCESS_CODE } from '../../accreditation/demo-seed.js';
import type { FloorState } from '../../protocol/signaling.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { requestJoinAs } from '../helpers/accreditation-client.js';
import { artifactPath, launchChromium } from '../helpers/browser.js';
import { call, connectSignaling } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { nextEvent, waitFor } from '../helpers/wait.js';
import { catalogue, openWebPage, seriousViolations, type Translate } from '../helpers/webapp.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

// The secretariat's console (/console) in real Chromium against a real server with the demo event, in
// English and in Arabic. The Chair signs in, creates a session with a lobby and opens it; delegates are
// Node signaling clients: one waits in the lobby and is admitted from the console, both ask for the floor,
// the console reorders the list of speakers by keyboard and by drag and drop, gives the floor (the
// delegate's client sees it), mutes a delegate (their client is told), assigns an interpreter to a booth
// and sees her "slow down", removes a delegate with a reason. The roster shows "name — entity" and
// filters; the attendance CSV holds the delegate; the audit trail shows the admission; the webhook
// deliveries show. axe-core in each state; no page error nor CSP violation.

const CATALOGUES = { en: catalogue('en'), ar: catalogue('ar') };
const CHAIR = 'kwame.mensah@demo.gh';
const BRIAN = { email: 'brian.kamau@demo.ke', id: 'p-ke-2', name: 'Brian Kamau', entity: 'Kenya' };
const CAMILLE = { email: 'camille.durand@demo.fr', id: 'p-fr-1', name: 'Camille Durand', entity: 'France' };
const GRACE = { email: 'grace.taylor@interpreters.example', id: 'p-int-en-1', name: 'Grace Taylor', entity: 'Secretariat interpretation service' };
const HOOK_SECRET = 'outgoing-webhook-secret-0123456789abcdef';

let server: MeetingServer;
let browser: Browser;
let hooks: WebhookReceiver;
const sockets: Socket[] = [];

beforeAll(async () => {
  hooks = await WebhookReceiver.start(HOOK_SECRET);
  server = await startTestServer({ PLENUM_WEBHOOK_URL: hooks.url, PLENUM_WEBHOOK_SECRET: HOOK_SECRET });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await browser?.close();
  await server?.close();
  await hooks?.close();
});

/** A delegate's client: asks to join (the session has a lobby), connects, and waits there. */
async function waitingDelegate(person: typeof BRIAN, sessionId: string): Promise<{ socket: Socket; admitted: Promise<unknown> }> {
  const answer = await requestJoinAs(server.url, person.email, sessionId);
  expect(answer.body.decision).toBe('lobby');
  const socket = await connectSignaling(server.url, answer.body.joinToken);
  sockets.push(socket);
  return { socket, admitted: nextEvent(socket, 'lobbyAdmitted', 20_000) };
}

async function joinRoom(socket: Socket): Promise<void> {
  const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
  if (!caps.ok) throw new Error(caps.error.code);
  const joined = await call(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities });
  if (!joined.ok) throw new Error(joined.error.code);
}

async function noSeriousViolations(page: Page, state: string): Promise<void> {
  expect(await seriousViolations(page), state).toEqual([]);
}

const speakerOrder = (page: Page) => page.getByTestId('speaker').evaluateAll((items) => items.map((li) => li.getAttribute('data-participant-id')));
const rosterIds = (page: Page) => page.getByTestId('roster-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-participant-id')));
const person = (t: Translate, p: typeof BRIAN) => t('console.person', { name: p.name, entity: p.entity });

async function signIn(page: Page, t: Translate): Promise<void> {
  await page.getByLabel(t('signIn.email')).fill(CHAIR);
  await page.getByLabel(t('signIn.accessCode')).fill(DEMO_ACCESS_CODE);
  await page.getByRole('button', { name: t('signIn.submit'), exact: true }).click();
}

async function createAndOpen(page: Page, t: Translate, sessionId: string, title: string): Promise<Locator> {
  await page.getByRole('button', { name: t('console.sessions.new'), exact: true }).click();
  const form = page.getByTestId('schedule-form');
  await form.getByLabel(t('console.schedule.sessionId')).fill(sessionId);
  await form.getByLabel(t('console.schedule.title'), { exact: true }).fill(title);
  await form.getByLabel(t('console.schedule.startsAt')).fill('2026-12-01T10:00');
  await form.getByLabel(t('console.schedule.lobby')).check();
  await form.getByLabel(t('console.schedule.floorControl')).check();
  await form.getByTestId('schedule-language-fr').check();
  await noSeriousViolations(page, 'schedule form');
  await form.getByRole('button', { name: t('console.schedule.save'), exact: true }).click();
  const row = page.locator(`[data-testid="session-row"][data-session-id="${sessionId}"]`);
  await row.waitFor();
  expect(await row.getAttribute('data-status')).toBe('scheduled');
  await row.getByRole('button', { name: t('console.sessions.conductNamed', { title }) }).click();
  const selected = page.getByTestId('selected-session');
  await selected.getByRole('button', { name: t('console.lifecycle.open'), exact: true }).click();
  await page.locator(`[data-testid="selected-session"][data-status="open"]`).waitFor();
  expect(await selected.getByTestId('selected-status').textContent()).toBe(t('console.status.open'));
  expect(await row.getByTestId('session-status').textContent()).toBe(t('console.status.open'));
  await page.locator('[data-testid="room-status"][data-status="connected"]').waitFor({ timeout: 20_000 });
  return row;
}

describe.each(['en', 'ar'] as const)('/console in %s', (locale) => {
  const t = CATALOGUES[locale];
  const sessionId = `console-${locale}`;

  it('creates and opens a session, admits from the lobby, filters the roster, runs the floor, and shows the records', async () => {
    const { page, problems } = await openWebPage(browser, `${server.url}/console`, locale, { viewport: { width: 1400, height: 1000 } });
    await page.getByTestId('sign-in-form').waitFor();
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual([locale, locale === 'ar' ? 'rtl' : 'ltr']);
    expect(await page.getByRole('main').getByRole('heading', { level: 1 }).textContent()).toBe(t('console.title'));
    await noSeriousViolations(page, 'sign-in');

    await signIn(page, t);
    await page.getByTestId('sessions-panel').waitFor();
    expect(await page.locator('[data-testid="session-row"][data-session-id="demo-with-lobby"]').count()).toBe(1);
    await noSeriousViolations(page, 'sessions');

    // Sessions: create with a lobby and a moderated floor, then open it; the console joins its room.
    await createAndOpen(page, t, sessionId, locale === 'ar' ? 'جلسة الاختبار' : 'Test sitting');
    await page.getByTestId('live-region').filter({ hasText: t('console.sessionDone.open', { id: sessionId }) }).waitFor();
    await noSeriousViolations(page, 'room connected');

    // The lobby: Brian waits, shown with his delegation, and is admitted from the console.
    const brian = await waitingDelegate(BRIAN, sessionId);
    const entry = page.locator(`[data-testid="lobby-entry"][data-participant-id="${BRIAN.id}"]`);
    await entry.waitFor();
    expect(await entry.textContent()).toContain(person(t, BRIAN));
    await noSeriousViolations(page, 'lobby');
    await entry.getByRole('button', { name: `${t('console.lobby.admit')} ${person(t, BRIAN)}`, exact: true }).click();
    await brian.admitted;
    await joinRoom(brian.socket);
    // Camille is admitted from the roster, where the lobby shows too.
    const camille = await waitingDelegate(CAMILLE, sessionId);
    const waitingRow = page.locator(`[data-testid="roster-row"][data-participant-id="${CAMILLE.id}"][data-where="lobby"]`);
    await waitingRow.waitFor();
    await waitingRow.getByRole('button', { name: `${t('console.lobby.admit')} ${person(t, CAMILLE)}`, exact: true }).click();
    await camille.admitted;
    await joinRoom(camille.socket);

    // The roster: "name — entity", and the filters (entity, search, role, status) applied by the server.
    const brianRow = page.locator(`[data-testid="roster-row"][data-participant-id="${BRIAN.id}"][data-where="room"]`);
    await brianRow.waitFor();
    expect(await brianRow.getByTestId('roster-name').textContent()).toBe(person(t, BRIAN));
    await expect.poll(() => rosterIds(page)).toEqual(expect.arrayContaining(['p-chair-1', BRIAN.id, CAMILLE.id]));
    await page.getByTestId('roster-entity').selectOption('France');
    await expect.poll(() => rosterIds(page)).toEqual([CAMILLE.id]);
    await page.getByTestId('roster-entity').selectOption('');
    await page.getByRole('searchbox', { name: t('console.roster.search') }).fill('kamau');
    await expect.poll(() => rosterIds(page)).toEqual([BRIAN.id]);
    await page.getByRole('searchbox', { name: t('console.roster.search') }).fill('');
    await page.getByTestId('roster-role').selectOption('chair');
    await expect.poll(() => rosterIds(page)).toEqual(['p-chair-1']);
    await page.getByTestId('roster-role').selectOption('');
    await page.getByTestId('roster-status').selectOption('lobby');
    await page.getByTestId('roster-empty').waitFor();
    await page.getByTestId('roster-status').selectOption('all');
    await expect.poll(() => rosterIds(page).then((ids) => ids.length)).toBe(3);
    // Accreditation: everyone here was confirmed by the registry (live, or its cache); none under the outage grace policy.
    const source = (await brianRow.getByTestId('roster-accreditation-source').getAttribute('data-source'))!;
    expect(['live', 'cache']).toContain(source);
    await page.getByTestId('roster-accreditation').selectOption('grace');
    await page.getByTestId('roster-empty').waitFor();
    await page.getByTestId('roster-accreditation').selectOption(source);
    await expect.poll(() => rosterIds(page)).toContain(BRIAN.id);
    const shown = await page.locator('[data-testid="roster-row"] [data-testid="roster-accreditation-source"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-source')));
    expect(new Set(shown)).toEqual(new Set([source]));
    await page.getByTestId('roster-accreditation').selectOption('');
    await expect.poll(() => rosterIds(page).then((ids) => ids.length)).toBe(3);
    // The roster list is keyboard-navigable: one tab stop, arrows move between rows.
    const firstRow = page.locator('[data-testid="roster"] li[aria-posinset="1"]');
    await firstRow.focus();
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-posinset'))).toBe('2');
    await noSeriousViolations(page, 'roster');

    // The floor: both ask; the list is reordered by keyboard (move up), then by drag and drop.
    expect((await call(brian.socket, 'requestFloor', { kind: 'speaker' })).ok).toBe(true);
    expect((await call(camille.socket, 'requestFloor', { kind: 'speaker' })).ok).toBe(true);
    await expect.poll(() => speakerOrder(page)).toEqual([BRIAN.id, CAMILLE.id]);
    const camilleItem = page.locator(`[data-testid="speaker"][data-participant-id="${CAMILLE.id}"]`);
    await camilleItem.getByRole('button', { name: `${t('console.speakers.moveUp')} ${person(t, CAMILLE)}`, exact: true }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => speakerOrder(page)).toEqual([CAMILLE.id, BRIAN.id]);
    const brianItem = page.locator(`[data-testid="speaker"][data-participant-id="${BRIAN.id}"]`);
    await brianItem.dragTo(camilleItem);
    await expect.poll(() => speakerOrder(page)).toEqual([BRIAN.id, CAMILLE.id]);
    await noSeriousViolations(page, 'speakers list');

    // Give the floor to Camille: her client is told; the console shows her with the speaking timer.
    let camilleFloor: FloorState | undefined;
    camille.socket.on('floorState', (state: FloorState) => (camilleFloor = state));
    const given = waitFor(() => camilleFloor?.speaker?.id === CAMILLE.id, { what: 'Camille given the floor' });
    await camilleItem.getByRole('button', { name: `${t('console.speakers.giveFloor')} ${person(t, CAMILLE)}`, exact: true }).click();
    await given;
    await page.locator(`[data-testid="floor-speaker"][data-participant-id="${CAMILLE.id}"]`).waitFor();
    expect(await page.getByTestId('speaking-timer').getAttribute('data-state')).toBe('ok');
    await page.getByTestId('live-region').filter({ hasText: t('console.floor.hasFloor', { person: person(t, CAMILLE) }) }).waitFor();
    await noSeriousViolations(page, 'floor given');

    // Mute Brian from the roster: his client gets the moderation event.
    const muted = nextEvent<[{ action: string }]>(brian.socket, 'moderated');
    await brianRow.getByRole('button', { name: `${t('console.roster.mute')} ${person(t, BRIAN)}`, exact: true }).click();
    expect((await muted)[0]).toEqual({ action: 'muted' });
    await page.getByTestId('live-region').filter({ hasText: t('console.done.mute', { name: BRIAN.name }) }).waitFor();
    // Stop Camille's video, then allow it again: her client is told both times.
    const camilleRow = page.locator(`[data-testid="roster-row"][data-participant-id="${CAMILLE.id}"][data-where="room"]`);
    const stopped = nextEvent<[{ action: string }]>(camille.socket, 'moderated');
    await camilleRow.getByRole('button', { name: `${t('console.roster.stopVideo')} ${person(t, CAMILLE)}`, exact: true }).click();
    expect((await stopped)[0]).toEqual({ action: 'video-stopped' });
    const allowed = nextEvent(camille.socket, 'videoAllowed');
    await camilleRow.getByRole('button', { name: `${t('console.roster.allowVideo')} ${person(t, CAMILLE)}`, exact: true }).click();
    await allowed;

    // Records: the quorum by entity type, the attendance CSV (downloaded with the identity token), the
    // audit trail's admission, the webhook deliveries.
    await expect.poll(() => page.locator('[data-testid="quorum-type"][data-type="member_state"]').getAttribute('data-count'), { timeout: 10_000 }).toBe('3');
    const csv = await waitFor(async () => {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: t('console.records.download') }).click()]);
      const text = readFileSync((await download.path())!, 'utf8');
      return text.includes(BRIAN.name) ? { text, name: download.suggestedFilename() } : undefined;
    }, { what: 'the attendance CSV with Brian', timeoutMs: 10_000, intervalMs: 300 });
    expect(csv.name).toBe(`attendance-${sessionId}.csv`);
    expect(csv.text).toContain(BRIAN.id);
    const admission = page.locator(`[data-testid="audit-record"][data-decision="lobby-admit"][data-person-id="${BRIAN.id}"]`);
    await waitFor(async () => {
      await page.getByTestId('audit').getByRole('button', { name: t('console.records.refresh') }).click();
      return (await admission.count()) === 1;
    }, { what: 'the admission in the audit view', intervalMs: 300 });
    expect(await admission.textContent()).toContain(t('console.audit.decisions.lobby-admit'));
    await page.getByTestId('audit-decision').selectOption('lobby-admit');
    await expect.poll(() => page.getByTestId('audit-record').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-decision')))).toEqual(['lobby-admit', 'lobby-admit']);
    await waitFor(async () => {
      await page.getByTestId('webhooks').getByRole('button', { name: t('console.records.refresh') }).click();
      return Number(await page.locator('[data-testid="webhook-counts"] [data-state="delivered"]').getAttribute('data-count')) > 0;
    }, { what: 'delivered webhooks in the console', intervalMs: 300 });
    await noSeriousViolations(page, 'records');

    // Take the floor back: Camille's client sees nobody holds it.
    await page.getByRole('button', { name: t('console.floor.take'), exact: true }).click();
    await waitFor(() => camilleFloor !== undefined && camilleFloor.speaker === null, { what: 'the floor taken back' });
    expect(await page.evaluate(() => document.documentElement.dir)).toBe(locale === 'ar' ? 'rtl' : 'ltr');

    // Booths: the French booth has nobody live; an interpreter (admitted without the lobby) is assigned to
    // it, and her client is told she is in that booth.
    const booth = page.locator('[data-testid="booth"][data-language="fr"]');
    expect(await booth.getAttribute('data-live')).toBe('false');
    expect(await booth.locator('td').textContent()).toBe(t('console.booths.notLive'));
    const answer = await requestJoinAs(server.url, GRACE.email, sessionId);
    expect(answer.body.decision).toBe('allow');
    const grace = { socket: await connectSignaling(server.url, answer.body.joinToken) };
    sockets.push(grace.socket);
    const boothState = new Promise<{ language: string; interpreters: Array<{ id: string }> }>((resolve) =>
      grace.socket.on('boothState', (state: { language: string; interpreters: Array<{ id: string }> }) => state.interpreters.some((i) => i.id === GRACE.id) && resolve(state)),
    );
    await joinRoom(grace.socket);
    await page.locator(`[data-testid="assign-who"] option[value="${GRACE.id}"]`).waitFor({ state: 'attached' });
    await page.getByTestId('assign-who').selectOption(GRACE.id);
    await page.getByTestId('assign-language').selectOption('fr');
    await noSeriousViolations(page, 'booths');
    await page.getByRole('button', { name: t('console.booths.assign'), exact: true }).click();
    expect((await boothState).language).toBe('fr');
    // Now in the booth, she asks the speaker to slow down: the console shows it, by whom and from which booth.
    expect((await call(grace.socket, 'boothSignal', { language: 'fr', kind: 'slow_down' })).ok).toBe(true);
    const signal = page.locator('[data-testid="booth-signal"][data-kind="slow_down"][data-language="fr"]');
    await signal.waitFor();
    expect(await signal.textContent()).toContain(GRACE.name);

    // Removal with a reason, asked in a dialog: Brian's client is told, with the reason.
    const removed = nextEvent<[{ reason: string; message: string }]>(brian.socket, 'removed');
    await brianRow.getByRole('button', { name: `${t('console.roster.remove')} ${person(t, BRIAN)}`, exact: true }).click();
    const dialog = page.getByRole('dialog', { name: t('console.roster.removeHeading', { person: person(t, BRIAN) }) });
    await dialog.getByLabel(t('console.roster.reason')).fill('Not accredited for this sitting.');
    await noSeriousViolations(page, 'removal dialog');
    await dialog.getByRole('button', { name: t('console.roster.removeConfirm'), exact: true }).click();
    expect((await removed)[0]).toEqual({ reason: 'REMOVED_BY_SECRETARIAT', message: 'Not accredited for this sitting.' });
    await brianRow.waitFor({ state: 'detached' });

    await page.screenshot({ path: artifactPath(`webapp-console-${locale}.png`), fullPage: true });
    expect(problems).toEqual([]);
    for (const s of [brian.socket, camille.socket, grace.socket]) s.close();
    await page.context().close();
  }, 90_000);
});

it('tells a delegate who opens the console that only the secretariat may, in their language', async () => {
  const t = CATALOGUES.en;
  const { page, problems } = await openWebPage(browser, `${server.url}/console`, 'en');
  await page.getByLabel(t('signIn.email')).fill(BRIAN.email);
  await page.getByLabel(t('signIn.accessCode')).fill(DEMO_ACCESS_CODE);
  await page.getByRole('button', { name: t('signIn.submit'), exact: true }).click();
  const alert = page.locator('[data-testid="console-error"][data-code="FORBIDDEN"]');
  await alert.waitFor();
  expect(await alert.getAttribute('role')).toBe('alert');
  expect(await alert.textContent()).toBe(t('console.errors.FORBIDDEN'));
  expect(await page.getByTestId('sessions-panel').count()).toBe(0);
  await noSeriousViolations(page, 'forbidden');
  expect(problems).toEqual([]);
  await page.context().close();
});

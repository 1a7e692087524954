import { readFile } from 'node:fs/promises';
import type { Browser, Page, Route } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCESS_CODE, DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { joinedSocket } from '../helpers/accreditation-client.js';
import { artifactPath, launchChromium } from '../helpers/browser.js';
import { httpRequest } from '../helpers/http-client.js';
import { call } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { catalogue, openWebPage, seriousViolations, type Translate } from '../helpers/webapp.js';

// Recording in the secretariat's console (/console), in real Chromium against a real server with the demo
// event, in English and in Arabic (each on a server of its own: the session setting changes). The
// secretariat conducts the demo plenary (the console joins its room), presses Start: the panel shows the
// recording with its session clock and the API has one under way, by her; its files appear, one per channel
// (the floor and each language of the session); Brian (a Node client) is given the floor. Stop: the panel
// shows no recording, and the list shows it stopped, with a download per file; the floor's file is
// downloaded through the page (an Ogg file, under the server's name), and the audit trail shows the
// download with its translated label; the chapters download as WebVTT; the meeting index shows as many
// entries as the API's, Brian's turn among them as "name — entity". A recording started elsewhere makes
// Start answer RECORDING_ACTIVE, shown translated. Finally "record whenever open" with 30 days is saved with
// the session's rules (the API's rules carry it) and the session starts recording by itself. axe-core in
// each state; no page error nor CSP violation.

const CATALOGUES = { en: catalogue('en'), ar: catalogue('ar') };
const SECRETARIAT = { email: 'sofia.rossi@secretariat.example', id: 'p-sec-1' };
const SESSION = 'demo-plenary';
const TITLE = 'Plenary — opening';
const LANGUAGES = ['en', 'fr', 'es', 'ar'];
const BRIAN = { email: 'brian.kamau@demo.ke', id: 'p-ke-2', name: 'Brian Kamau', entity: 'Kenya' };

interface ApiFile {
  channel: string;
  part: number;
  mediaType: string;
  bytes: number;
  url: string;
}
interface ApiRecording {
  recordingId: string;
  status: string;
  startedBy: string;
  retentionDays: number | null;
  files: ApiFile[];
}

let browser: Browser;
const sockets: Socket[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await browser?.close();
});

async function noSeriousViolations(page: Page, state: string): Promise<void> {
  expect(await seriousViolations(page), state).toEqual([]);
}

const announced = (page: Page, text: string) => page.getByTestId('live-region').filter({ hasText: text }).waitFor({ timeout: 10_000 });

/** The identity token the page signed in with (what its API calls carry). */
const pageToken = (page: Page) => page.evaluate(() => (JSON.parse(sessionStorage.getItem('plenum.identity') ?? '{}') as { token: string }).token);

describe.each(['en', 'ar'] as const)('recording in /console in %s', (locale) => {
  const t: Translate = CATALOGUES[locale];
  let server: MeetingServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const base = () => `${server.url}/api/admin/events/${DEMO_EVENT_ID}/sessions/${SESSION}`;
  const recordings = async (token: string): Promise<ApiRecording[]> => {
    const answer = await httpRequest('GET', `${base()}/recordings`, undefined, { authorization: `Bearer ${token}` });
    expect(answer.status).toBe(200);
    return (answer.json as { recordings: ApiRecording[] }).recordings;
  };

  it('starts and stops a recording, downloads its files, shows its index, and saves the session setting', async () => {
    const { page, problems } = await openWebPage(browser, `${server.url}/console`, locale, { viewport: { width: 1400, height: 1100 }, acceptDownloads: true });
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual([locale, locale === 'ar' ? 'rtl' : 'ltr']);
    await page.getByTestId('sign-in-form').waitFor();
    await page.getByLabel(t('signIn.email')).fill(SECRETARIAT.email);
    await page.getByLabel(t('signIn.accessCode')).fill(DEMO_ACCESS_CODE);
    await page.getByRole('button', { name: t('signIn.submit'), exact: true }).click();
    const row = page.locator(`[data-testid="session-row"][data-session-id="${SESSION}"]`);
    await row.getByRole('button', { name: t('console.sessions.conductNamed', { title: TITLE }) }).click();
    await page.locator('[data-testid="room-status"][data-status="connected"]').waitFor({ timeout: 20_000 });
    const panel = page.getByRole('region', { name: t('recording.heading') });
    expect(await panel.getAttribute('data-testid')).toBe('recording-panel');
    const status = panel.getByTestId('recording-status');
    await panel.locator('[data-testid="recording-status"][data-state="idle"]').waitFor();
    expect(await status.textContent()).toContain(t('recording.status.idle'));
    await panel.getByTestId('recordings-empty').waitFor();
    await noSeriousViolations(page, 'no recording');
    const token = await pageToken(page);
    expect(await recordings(token)).toEqual([]);

    // Start: the panel shows the recording under way with its clock; the API has it, started by her.
    await panel.getByRole('button', { name: t('recording.start'), exact: true }).click();
    await panel.locator('[data-testid="recording-status"][data-state="recording"]').waitFor();
    await announced(page, t('recording.done.started'));
    expect(await panel.getByRole('button', { name: t('recording.stop'), exact: true }).isEnabled()).toBe(true);
    expect(await panel.getByRole('button', { name: t('recording.start'), exact: true }).isDisabled()).toBe(true);
    await panel.getByRole('timer').waitFor();
    const [underWay] = await recordings(token);
    expect(underWay).toMatchObject({ status: 'recording', startedBy: SECRETARIAT.id, retentionDays: null });
    expect(await status.getAttribute('data-recording-id')).toBe(underWay!.recordingId);
    expect(await panel.locator(`[data-testid="recording"][data-recording-id="${underWay!.recordingId}"]`).getAttribute('data-status')).toBe('recording');
    await noSeriousViolations(page, 'recording');

    // Brian (Kenya) asks for the floor and is given it from the console: a floor turn in the index.
    const brian = await joinedSocket(server.url, BRIAN.email, SESSION);
    sockets.push(brian);
    expect((await call(brian, 'requestFloor', { kind: 'speaker' })).ok).toBe(true);
    const brianLabel = t('console.person', { name: BRIAN.name, entity: BRIAN.entity });
    await page.locator(`[data-testid="speaker"][data-participant-id="${BRIAN.id}"]`).getByRole('button', { name: `${t('console.speakers.giveFloor')} ${brianLabel}`, exact: true }).click();
    await page.locator(`[data-testid="floor-speaker"][data-participant-id="${BRIAN.id}"]`).waitFor();

    // The room's owner records every channel: the floor and each language of the session.
    const channels = ['floor', ...LANGUAGES].sort();
    await waitFor(
      async () => {
        const [r] = await recordings(token);
        const recorded = r?.files.filter((f) => f.bytes > 0).map((f) => f.channel) ?? [];
        return channels.every((c) => recorded.includes(c));
      },
      { what: 'a file with bytes for every channel', timeoutMs: 20_000, intervalMs: 250 },
    );

    // Stop: nothing under way; the list shows it stopped with a download per file.
    await panel.getByRole('button', { name: t('recording.stop'), exact: true }).click();
    await panel.locator('[data-testid="recording-status"][data-state="idle"]').waitFor();
    await announced(page, t('recording.done.stopped'));
    const [stopped] = await recordings(token);
    expect(stopped).toMatchObject({ recordingId: underWay!.recordingId, status: 'stopped' });
    expect([...new Set(stopped!.files.map((f) => f.channel))].filter((c) => c !== 'floor-video').sort()).toEqual(channels);
    const item = panel.locator(`[data-testid="recording"][data-recording-id="${stopped!.recordingId}"]`);
    await panel.locator(`[data-testid="recording"][data-recording-id="${stopped!.recordingId}"][data-status="stopped"]`).waitFor();
    expect(await item.getByTestId('recording-state').textContent()).toBe(t('recording.states.stopped'));
    for (const f of stopped!.files) {
      const button = item.locator(`[data-testid="recording-file-download"][data-channel="${f.channel}"][data-part="${f.part}"]`);
      expect(await button.count(), `${f.channel}/${f.part}`).toBe(1);
    }
    // Each language channel is named in the page's language, not by its code.
    const frName = await page.evaluate((lang) => new Intl.DisplayNames([lang], { type: 'language' }).of('fr')!, locale);
    expect(await item.locator('[data-testid="recording-file"][data-channel="fr"] th').textContent()).toBe(frName);
    expect(await item.locator('[data-testid="recording-file"][data-channel="floor"] th').textContent()).toBe(t('recording.channels.floor'));
    await noSeriousViolations(page, 'stopped, with its files');

    // The floor's file, through the page (fetched with her token, then saved): an Ogg file under the server's name.
    const floorButton = item.getByRole('button', { name: t('recording.downloadChannel', { channel: t('recording.channels.floor'), part: 1 }), exact: true });
    const [download] = await Promise.all([page.waitForEvent('download'), floorButton.click()]);
    expect(download.suggestedFilename()).toBe(`${SESSION}-${stopped!.recordingId}-floor-1.ogg`);
    const bytes = await readFile((await download.path())!);
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('OggS');
    expect(bytes.length).toBeGreaterThan(0);
    // The same URL with the page's token answers the Ogg file; without it, nothing.
    const floorFile = stopped!.files.find((f) => f.channel === 'floor')!;
    const direct = await fetch(`${server.url}${floorFile.url}`, { headers: { authorization: `Bearer ${token}` } });
    expect([direct.status, direct.headers.get('content-type')]).toEqual([200, 'audio/ogg']);
    await direct.arrayBuffer();
    expect((await fetch(`${server.url}${floorFile.url}`)).status).toBe(401);
    // The audit trail shows the download, with its translated label.
    await page.getByTestId('audit-decision').selectOption('recording-download');
    const audited = page.locator(`[data-testid="audit-record"][data-decision="recording-download"][data-person-id="${SECRETARIAT.id}"]`);
    await waitFor(async () => {
      await page.getByTestId('audit-refresh').click();
      return (await audited.count()) > 0;
    }, { what: 'the download in the audit view', intervalMs: 300 });
    expect(await audited.first().textContent()).toContain(t('console.audit.decisions.recording-download'));

    // The chapters as WebVTT, and the meeting index: as many entries as the API's, each at hh:mm:ss.
    const [chapters] = await Promise.all([page.waitForEvent('download'), item.getByRole('button', { name: t('recording.chapters'), exact: true }).click()]);
    expect((await readFile((await chapters.path())!, 'utf8')).startsWith('WEBVTT')).toBe(true);
    const index = (await httpRequest('GET', `${base()}/recordings/${stopped!.recordingId}`, undefined, { authorization: `Bearer ${token}` })).json as { entries: unknown[] };
    const toggle = item.getByRole('button', { name: t('recording.showIndex'), exact: true });
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    await item.getByTestId('recording-index').waitFor();
    const entries = await item.getByTestId('index-entry').allTextContents();
    expect(entries).toHaveLength(index.entries.length);
    for (const e of entries) expect(e).toMatch(/^\d{2}:\d{2}:\d{2}/);
    // Brian's turn, as "name — entity", from when he was given the floor to the stop.
    const turn = item.locator('[data-testid="index-entry"][data-kind="floor"]');
    expect(await turn.count()).toBe(1);
    const turnText = (await turn.textContent())!;
    expect(turnText).toMatch(/^\d{2}:\d{2}:\d{2} – \d{2}:\d{2}:\d{2} /);
    expect(turnText.endsWith(t('recording.entries.floor', { who: brianLabel }))).toBe(true);
    await noSeriousViolations(page, 'index shown');

    // A recording started elsewhere (the API, with her token): Start is refused, the code translated, and
    // the panel then shows the one under way. The console's room says it started and the panel reads its list
    // again at once: those reads are held (then let through) so that Start is still offered when clicked.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const listRead = (url: URL) => url.pathname.endsWith(`/sessions/${SESSION}/recordings`);
    const passing: Promise<void>[] = [];
    const hold = (route: Route) => {
      const passed = held.then(() => route.continue());
      passing.push(passed);
      return passed;
    };
    await page.route(listRead, hold);
    const elsewhere = await httpRequest('POST', `${base()}/recording/start`, undefined, { authorization: `Bearer ${token}` });
    expect(elsewhere.status).toBe(201);
    const elsewhereId = (elsewhere.json as { recording: ApiRecording }).recording.recordingId;
    await panel.getByRole('button', { name: t('recording.start'), exact: true }).click();
    const refused = panel.locator('[data-testid="recording-error"][data-code="RECORDING_ACTIVE"]');
    await refused.waitFor();
    expect(await refused.getAttribute('role')).toBe('alert');
    expect(await refused.textContent()).toBe(t('recording.errors.RECORDING_ACTIVE'));
    release();
    await Promise.all(passing);
    await page.unroute(listRead, hold);
    await panel.locator(`[data-testid="recording-status"][data-state="recording"][data-recording-id="${elsewhereId}"]`).waitFor();
    await noSeriousViolations(page, 'refused');
    await panel.getByRole('button', { name: t('recording.stop'), exact: true }).click();
    await panel.locator('[data-testid="recording-status"][data-state="idle"]').waitFor();
    expect((await recordings(token)).map((r) => r.status)).toEqual(['stopped', 'stopped']);

    // The setting: record whenever open, files kept 30 days, saved with the session's rules.
    const setting = panel.getByRole('form', { name: t('recording.setting.heading') });
    await setting.getByRole('checkbox', { name: t('recording.setting.auto') }).check();
    await setting.getByRole('spinbutton', { name: t('recording.setting.retention') }).fill('30');
    await noSeriousViolations(page, 'setting');
    await setting.getByRole('button', { name: t('recording.setting.save'), exact: true }).click();
    await announced(page, t('recording.done.saved'));
    const sessions = await httpRequest('GET', `${server.url}/api/admin/events/${DEMO_EVENT_ID}/sessions`, undefined, { authorization: `Bearer ${token}` });
    const rules = (sessions.json as { sessions: Array<{ sessionId: string; title: string; languages: string[]; recording: unknown }> }).sessions.find((s) => s.sessionId === SESSION)!;
    expect(rules.recording).toEqual({ auto: true, retentionDays: 30 });
    // The rest of the rules kept (the PUT carries them all).
    expect([rules.title, rules.languages]).toEqual([TITLE, LANGUAGES]);
    // The session is open and its room here: it starts recording by itself, with the new retention.
    const auto = await waitFor(async () => (await recordings(token)).find((r) => r.status === 'recording'), { what: 'the session recording by itself', intervalMs: 250 });
    expect(auto).toMatchObject({ startedBy: 'auto', retentionDays: 30 });
    await waitFor(async () => {
      await panel.getByRole('button', { name: t('recording.refresh'), exact: true }).click();
      return (await status.getAttribute('data-recording-id')) === auto.recordingId;
    }, { what: 'the automatic recording in the panel', intervalMs: 300 });
    expect(await status.textContent()).toContain(t('recording.startedByAuto'));
    await noSeriousViolations(page, 'recording by itself');
    // Stopped through the API: the console's room says so and the panel shows it stopped, nobody refreshing
    // it (the session, recorded whenever open, may start a new one at once).
    expect((await httpRequest('POST', `${base()}/recording/stop`, undefined, { authorization: `Bearer ${token}` })).status).toBe(200);
    await panel.locator(`[data-testid="recording"][data-recording-id="${auto.recordingId}"][data-status="stopped"]`).waitFor();

    await page.screenshot({ path: artifactPath(`webapp-recording-${locale}.png`), fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  }, 120_000);
});

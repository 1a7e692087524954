import type { Browser, Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCESS_CODE } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { joinedSocket, requestJoinAs } from '../helpers/accreditation-client.js';
import { artifactPath, launchChromium } from '../helpers/browser.js';
import { inboundStats, waitForGrowingAudio } from '../helpers/demo-pages.js';
import { call } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { nextEvent, waitFor } from '../helpers/wait.js';
import { catalogue, openWebPage, seriousViolations, type Translate } from '../helpers/webapp.js';

// The interpreter's page (/booth) in real Chromium against a real server with the demo event, in English and
// in Arabic (right to left). Two booth pages are the French booth's two partners; the speaker is a page
// running the SDK (Amina, given the floor by the chair), which also listens to the French channel; the chair
// and a plain delegate are signaling clients. Covered: sign-in, the speaker's video and floor audio, relay
// choice, going live (heard by the listener, from its consumer stats), the live conflict, cough (held by a
// key, then by the mouse: the listener stops receiving), handover request and accept, the booth chat, and
// "slow down" reaching the chair and the speaker but not a delegate. axe-core checks each state.

// One server; each language in its own session (booth state and the booths' signal limits are per room).
// The chair gives the floor in both, so the speaker is known: a moderated floor in English, an open one in Arabic.
const SESSIONS = { en: 'demo-council', ar: 'demo-plenary' } as const;
const ELODIE = { email: 'elodie.martin@interpreters.example', id: 'p-int-fr-1', name: 'Élodie Martin' };
const JULIEN = { email: 'julien.petit@interpreters.example', id: 'p-int-fr-2', name: 'Julien Petit' };
const AMINA = 'p-ke-1';

let browser: Browser;
let server: MeetingServer;
const sockets: Socket[] = [];

beforeAll(async () => {
  [browser, server] = await Promise.all([launchChromium(), startTestServer()]);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await browser?.close();
  await server?.close();
});

/** A page running the SDK bundle as the speaker: joins, takes the floor the chair gives, publishes camera and microphone, listens to French. */
async function speakerPage(session: string, chair: Socket): Promise<Page> {
  const answer = await requestJoinAs(server.url, 'amina.odhiambo@demo.ke', session);
  const { page } = await openWebPage(browser, `${server.url}/events`, 'en');
  // A string, so that the test's transform leaves the page's dynamic import alone.
  await page.evaluate(`(async () => {
    const { MeetingClient } = await import('/sdk/plenum-sdk.js');
    const client = new MeetingClient({ token: ${JSON.stringify(answer.body.joinToken)} });
    window.plenum = { client };
    window.signals = [];
    client.on('boothSignal', (s) => window.signals.push(s));
    await client.join();
    await client.requestFloor();
  })()`);
  const given = nextEvent(chair, 'floorState');
  expect((await call(chair, 'giveFloor', { participantId: AMINA })).ok).toBe(true);
  await given;
  await page.evaluate(`(async () => {
    const client = window.plenum.client;
    await client.publishCamera();
    await client.publishMicrophone();
    await client.selectChannel('fr');
  })()`);
  return page;
}

/** A booth page signed in through the page's own form, once its console shows. */
async function boothPage(session: string, locale: string, t: Translate, email: string): Promise<{ page: Page; problems: string[] }> {
  const opened = await openWebPage(browser, `${server.url}/booth?session=${session}`, locale);
  const { page } = opened;
  await page.getByLabel(t('signIn.email')).fill(email);
  await page.getByLabel(t('signIn.accessCode')).fill(DEMO_ACCESS_CODE);
  await page.getByRole('button', { name: t('signIn.submit') }).click();
  await page.getByTestId('booth-console').waitFor({ timeout: 30_000 });
  return opened;
}

const onAir = (page: Page, state: 'on-air' | 'off-air' | 'coughing') => page.locator(`[data-testid="on-air"][data-state="${state}"]`).waitFor();
const said = (page: Page, text: string) => page.getByTestId('live-region').filter({ hasText: text }).waitFor();

/** Bytes received from `peerId`'s audio by the page's SDK client. */
async function audioBytes(page: Page, peerId: string): Promise<number> {
  return (await inboundStats(page)).filter((s) => s.peerId === peerId && s.kind === 'audio').reduce((n, s) => n + s.bytesReceived, 0);
}

/** Waits until the page receives nothing more from `peerId`'s audio: two readings 1 s apart are equal (Opus DTX still sends a packet every 400 ms in silence). */
async function waitForSilence(page: Page, peerId: string): Promise<void> {
  await waitFor(
    async () => {
      const before = await audioBytes(page, peerId);
      await page.waitForTimeout(1000);
      return (await audioBytes(page, peerId)) === before;
    },
    { timeoutMs: 15_000, intervalMs: 0, what: `no more audio from ${peerId}` },
  );
}

async function expectAccessible(page: Page, state: string): Promise<void> {
  expect(await seriousViolations(page), `axe-core, ${state}`).toEqual([]);
}

describe.each(['en', 'ar'] as const)('/booth in %s', (locale) => {
  const t = catalogue(locale);
  const SESSION = SESSIONS[locale];

  it('two partners: the speaker, going live, conflict, cough, handover, chat and "slow down"', async () => {
    const chair = await joinedSocket(server.url, 'kwame.mensah@demo.gh', SESSION);
    const delegate = await joinedSocket(server.url, 'beatriz.souza@demo.br', SESSION);
    sockets.push(chair, delegate);
    const delegateSignals: unknown[] = [];
    delegate.on('boothSignal', (s: unknown) => delegateSignals.push(s));
    const speaker = await speakerPage(SESSION, chair);

    // Élodie signs in from the sign-in gate.
    const { page: elodie, problems: elodieProblems } = await openWebPage(browser, `${server.url}/booth?session=${SESSION}`, locale);
    await elodie.getByTestId('sign-in-form').waitFor();
    expect(await elodie.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual([locale, locale === 'ar' ? 'rtl' : 'ltr']);
    expect(await elodie.getByRole('main').getByRole('heading', { level: 1 }).textContent()).toBe(t('booth.title'));
    await expectAccessible(elodie, 'sign-in');
    await elodie.getByLabel(t('signIn.email')).fill(ELODIE.email);
    await elodie.getByLabel(t('signIn.accessCode')).fill(DEMO_ACCESS_CODE);
    await elodie.getByRole('button', { name: t('signIn.submit') }).click();
    await elodie.getByTestId('booth-console').waitFor({ timeout: 30_000 });

    // The speaker: named, on video (frames decoded, growing), and heard (the floor audio); the floor change was announced.
    await elodie.locator(`[data-testid="speaker"][data-peer-id="${AMINA}"]`).waitFor();
    expect(await elodie.getByTestId('speaker-name').textContent()).toContain('Amina Odhiambo');
    expect(await elodie.getByTestId('speaker-name').textContent()).toContain(t('entityTypes.member_state'));
    await elodie.getByTestId('speaker-video').waitFor();
    const frames = async () => (await inboundStats(elodie)).filter((s) => s.peerId === AMINA && s.kind === 'video').reduce((n, s) => n + s.framesDecoded, 0);
    const firstFrames = await waitFor(frames, { timeoutMs: 20_000, intervalMs: 200, what: 'video frames of the speaker' }).catch(async (e: Error) => {
      throw new Error(`${e.message}; stats ${JSON.stringify(await inboundStats(elodie))}`);
    });
    await waitFor(async () => (await frames()) > firstFrames, { timeoutMs: 20_000, intervalMs: 200, what: 'more video frames of the speaker' });
    await waitForGrowingAudio(elodie, AMINA);
    expect(await elodie.getByTestId('partner-absent').textContent()).toBe(t('booth.partner.absent'));
    expect(await elodie.getByTestId('documents-empty').textContent()).toBe(t('booth.documents.empty'));
    await expectAccessible(elodie, 'console, off air');

    // Relay: English has nobody live, so the floor stands in (and says so); back to the floor.
    await elodie.getByLabel(t('booth.listen.source')).selectOption('en');
    await elodie.getByTestId('relay-fallback').waitFor();
    await elodie.getByLabel(t('booth.listen.source')).selectOption('floor');
    await elodie.getByTestId('relay-fallback').waitFor({ state: 'detached' });

    // The partner arrives; Élodie goes live: ON AIR, and the French listener hears her.
    const { page: julien, problems: julienProblems } = await boothPage(SESSION, locale, t, JULIEN.email);
    await elodie.locator(`[data-testid="partner"][data-partner-id="${JULIEN.id}"]`).waitFor();
    await elodie.getByRole('button', { name: t('booth.mic.goLive') }).click();
    await onAir(elodie, 'on-air');
    await said(julien, t('booth.announce.partnerLive', { name: ELODIE.name }));
    expect(await julien.locator(`[data-testid="partner"][data-partner-id="${ELODIE.id}"]`).getAttribute('data-live')).toBe('true');
    await waitForGrowingAudio(speaker, ELODIE.id);
    // The meter is read on animation frames: the page in front, as the interpreter's screen would be.
    await elodie.bringToFront();
    await waitFor(() => elodie.getByTestId('mic-level').evaluate((m) => (m as HTMLMeterElement).value > 0), { timeoutMs: 20_000, intervalMs: 100, what: 'the microphone level meter to move' });
    await expectAccessible(elodie, 'on air');

    // Julien opens his microphone too: the server refuses a second one, and the page warns.
    await julien.getByRole('button', { name: t('booth.mic.goLive') }).click();
    const conflict = julien.getByTestId('live-conflict');
    await julien.locator('[data-testid="live-conflict"]:not(:empty)').waitFor();
    expect(await conflict.getAttribute('role')).toBe('alert');
    expect(await conflict.textContent()).toBe(t('booth.mic.conflict', { name: ELODIE.name }));
    await onAir(julien, 'off-air');
    await expectAccessible(julien, 'live conflict');

    // Cough: held by the C key (English) or the mouse (Arabic); the listener stops receiving, then hears her again.
    const cough = elodie.getByRole('button', { name: t('booth.mic.cough') });
    if (locale === 'en') {
      await elodie.locator('body').click({ position: { x: 2, y: 2 } });
      await elodie.keyboard.down('c');
    } else {
      await cough.hover();
      await elodie.mouse.down();
    }
    await onAir(elodie, 'coughing');
    expect(await cough.getAttribute('aria-pressed')).toBe('true');
    await waitForSilence(speaker, ELODIE.id);
    if (locale === 'en') await elodie.keyboard.up('c');
    else await elodie.mouse.up();
    await onAir(elodie, 'on-air');
    await waitForGrowingAudio(speaker, ELODIE.id);

    // Handover: Julien asks, Élodie is told (live region) and accepts; Julien is on air and heard.
    await julien.getByRole('button', { name: t('booth.partner.request') }).click();
    await julien.getByTestId('handover-countdown').waitFor();
    await elodie.locator('[data-testid="handover-state"][data-kind="request"]').waitFor();
    await said(elodie, t('booth.partner.requests', { name: JULIEN.name }));
    await expectAccessible(elodie, 'handover requested');
    await elodie.getByRole('button', { name: t('booth.partner.accept') }).click();
    await onAir(julien, 'on-air');
    await onAir(elodie, 'off-air');
    expect(await julien.getByTestId('live-conflict').textContent()).toBe('');
    await said(elodie, t('booth.announce.partnerLive', { name: JULIEN.name }));
    await waitForGrowingAudio(speaker, JULIEN.id);

    // The booth chat reaches the partner, in a log.
    const message = locale === 'en' ? 'Next speaker reads fast, figures at 3.2' : 'المتكلم التالي يقرأ بسرعة';
    await julien.getByLabel(t('booth.chat.message')).fill(message);
    await julien.getByRole('button', { name: t('booth.chat.send') }).click();
    const log = elodie.getByRole('log', { name: t('booth.chat.heading') });
    await log.getByTestId('chat-message').filter({ hasText: message }).waitFor();
    expect(await log.textContent()).toContain(JULIEN.name);

    // "Slow down": the chair's console and the speaker get it, with the booth and the interpreter's name; a delegate does not.
    const toChair = nextEvent<[{ language: string; kind: string; from: { name: string } }]>(chair, 'boothSignal');
    await elodie.getByRole('button', { name: t('booth.signals.slow_down') }).click();
    expect((await toChair)[0]).toMatchObject({ language: 'fr', kind: 'slow_down', from: { name: ELODIE.name } });
    await elodie.locator('[data-testid="signal-status"][data-outcome="sent"]').waitFor();
    await waitFor(() => speaker.evaluate(() => (window as unknown as { signals: Array<{ kind: string }> }).signals.map((s) => s.kind).join()), { what: 'the signal at the speaker' }).then((kinds) =>
      expect(kinds).toBe('slow_down'),
    );
    // The same request from the partner at once is refused as too soon, and said so.
    await julien.getByRole('button', { name: t('booth.signals.slow_down') }).click();
    await julien.locator('[data-testid="signal-status"][data-outcome="limited"]').waitFor();
    await julien.screenshot({ path: artifactPath(`webapp-booth-${locale}.png`), fullPage: true });
    // A marker every participant gets (the chair takes the floor back): the delegate had no signal by then.
    const marker = nextEvent(delegate, 'floorState');
    expect((await call(chair, 'takeFloor', {})).ok).toBe(true);
    await marker;
    expect(delegateSignals).toEqual([]);
    // On the moderated floor nobody speaks now, and the page says so (on the open one, Amina's voice keeps the stage).
    if (SESSION === 'demo-council') {
      await elodie.locator('[data-testid="speaker"][data-peer-id=""]').waitFor();
      await said(elodie, t('booth.announce.nobodySpeaks'));
    }
    await expectAccessible(elodie, 'after handover and chat');
    await expectAccessible(julien, 'on air after handover');
    expect(await julien.evaluate(() => document.documentElement.dir)).toBe(locale === 'ar' ? 'rtl' : 'ltr');

    expect(elodieProblems).toEqual([]);
    expect(julienProblems).toEqual([]);
    for (const page of [elodie, julien, speaker]) await page.context().close();
  }, 120_000);
});

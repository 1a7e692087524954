import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestJoin, signIn } from '../../client-sdk/src/accreditation-api.js';
import { DEMO_ACCESS_CODE } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { spectrum, waitForPeak } from '../helpers/audio-pages.js';
import { artifactPath, launchChromium } from '../helpers/browser.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { catalogue, openWebPage, seriousViolations, type Translate } from '../helpers/webapp.js';

// The delegate's page (/delegate) of the web app, built by Vite and served by a real server with the demo
// event, in real Chromium whose microphone is a 440 Hz tone. In English and in Arabic: sign in, the pre-join
// check (a live camera preview, a moving level meter), join the open plenary; the delegate mutes and unmutes
// by button and by Alt+M, and the secretariat's page hears the tone come and go (its own analyser, i.e. what
// it receives); listening (a language without interpreter, captions); the delegate asks for the floor and
// sees their place; the secretariat gives the floor (a booth then asks the speaker to slow down), mutes
// the delegate (the page says so) and asks them to unmute (the page's button works); the delegate leaves.
// In English also: the server drops the connection (the reconnecting banner comes and goes) and the delegate
// picks another microphone in the room (heard at 660 Hz). Then a refusal with its reason, dev mode's quick
// join, and an audio-only join through the lobby. axe-core checks each state; the page must run under the
// server's CSP without a violation.

const TONE_HZ = 440;
/** The tone of any microphone chosen by id (a device switch). */
const CHOSEN_HZ = 660;

/** getUserMedia's microphone is a tone: 440 Hz from the default device, 660 Hz from one asked for by id; the camera stays Chromium's fake one. */
const toneMicrophones = `(() => {
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints = {}) => {
    const stream = constraints.video ? await original({ video: constraints.video }) : new MediaStream();
    if (constraints.audio) {
      const ctx = new AudioContext();
      const osc = ctx.createOscillator();
      osc.frequency.value = constraints.audio.deviceId ? ${CHOSEN_HZ} : ${TONE_HZ};
      const gain = ctx.createGain();
      gain.gain.value = 0.3;
      const dest = ctx.createMediaStreamDestination();
      osc.connect(gain).connect(dest);
      osc.start();
      stream.addTrack(dest.stream.getAudioTracks()[0]);
    }
    return stream;
  };
})();`;
const SESSION = 'demo-plenary';
const CATALOGUES = { en: catalogue('en'), ar: catalogue('ar') };
const DELEGATES = {
  en: { email: 'amina.odhiambo@demo.ke', id: 'p-ke-1', name: 'Amina Odhiambo', entity: 'Kenya' },
  ar: { email: 'beatriz.souza@demo.br', id: 'p-br-1', name: 'Beatriz Souza', entity: 'Brazil' },
} as const;
const CAPTIONER = 'noor.rahman@captions.example';
const SECRETARIAT = { email: 'sofia.rossi@secretariat.example', id: 'p-sec-1', name: 'Sofia Rossi', entity: 'Secretariat' };

type ChairWindow = {
  plenum: {
    client: {
      peers: Map<string, unknown>;
      giveFloor(id: string): Promise<void>;
      muteParticipant(id: string): Promise<void>;
      askToUnmute(id: string): Promise<void>;
      admitFromLobby(id: string): Promise<void>;
      publishCaption(language: string, text: string, final: boolean): Promise<void>;
      boothSignal(language: string, kind: 'slow_down' | 'repeat'): Promise<void>;
    };
  };
};

let server: MeetingServer;
let browser: Browser;
/** The secretariat in the plenary: gives the floor, mutes, asks to unmute, and listens (its analyser). */
let chair: Page;
let captioner: Page;
/** An interpreter of the French booth: asks the speaker to slow down or to repeat. */
let interpreter: Page;

/** Someone in `session` through a blank page of the server's origin running the SDK bundle (the secretariat, a captioner). */
async function sdkPage(email: string, session: string): Promise<Page> {
  const { identityToken } = await signIn(server.url, email, DEMO_ACCESS_CODE);
  const { joinToken } = await requestJoin(server.url, identityToken, session);
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (error) => console.error(`[${email}] page error:`, error.message));
  await page.goto(`${server.url}/api/config`);
  // Given as text: vitest would rewrite an import() inside a function.
  await page.evaluate("import('/sdk/plenum-sdk.js').then((sdk) => { window.PlenumSDK = sdk; })");
  await page.evaluate(async (token) => {
    const sdk = (window as unknown as { PlenumSDK: { MeetingClient: new (o: object) => { join(): Promise<unknown> } } }).PlenumSDK;
    const client = new sdk.MeetingClient({ token });
    (window as unknown as { plenum: unknown }).plenum = { client };
    await client.join();
  }, joinToken);
  return page;
}

const chairDo = (action: 'giveFloor' | 'muteParticipant' | 'askToUnmute', id: string): Promise<void> =>
  chair.evaluate(({ action, id }) => (window as unknown as ChairWindow).plenum.client[action](id), { action, id });

/** The secretariat hears nothing at the tone's frequency any more. */
const waitForSilence = (): Promise<unknown> =>
  waitFor(async () => ((await spectrum(chair, [TONE_HZ])).levels[TONE_HZ] ?? 0) < -90, { timeoutMs: 15_000, intervalMs: 100, what: `${TONE_HZ} Hz to fade at the secretariat` });

async function expectAccessible(page: Page, state: string): Promise<void> {
  expect(await seriousViolations(page), `axe-core in the ${state} state`).toEqual([]);
}

/** The microphone's toggle and its state: aria-pressed, and the state in words from the catalogue. */
async function expectMic(page: Page, t: Translate, state: 'on' | 'off' | 'muted-by-secretariat'): Promise<void> {
  const button = page.getByRole('button', { name: t('delegate.media.mic'), exact: true });
  await page.locator(`[data-testid="mic-state"][data-state="${state}"]`).waitFor({ timeout: 10_000 });
  expect(await button.getAttribute('aria-pressed')).toBe(String(state === 'on'));
  expect(await page.getByTestId('mic-state').textContent()).toBe(t(`delegate.media.state.${state}`));
}

/** The live region says `text` (polled: it is cleared and set again for each announcement). */
const waitForAnnouncement = (page: Page, text: string): Promise<unknown> => page.getByTestId('live-region').filter({ hasText: text }).waitFor({ timeout: 10_000 });

beforeAll(async () => {
  server = await startTestServer();
  browser = await launchChromium();
  chair = await sdkPage(SECRETARIAT.email, SESSION);
  captioner = await sdkPage(CAPTIONER, SESSION);
  interpreter = await sdkPage('elodie.martin@interpreters.example', SESSION);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe.each(['en', 'ar'] as const)('/delegate in %s', (locale) => {
  const t = CATALOGUES[locale];
  const delegate = DELEGATES[locale];
  const label = t('delegate.personLabel', { name: delegate.name, entity: delegate.entity });

  it('pre-join check, join, listening and captions, mute and unmute heard or not (button, Alt+M), the floor, the secretariat’s mute and unmute request, leave (en also: reconnecting banner, microphone switch)', async () => {
    const { page, problems } = await openWebPage(browser, `${server.url}/delegate?session=${SESSION}`, locale, { viewport: { width: 1280, height: 900 } });
    await page.addInitScript(toneMicrophones);
    await page.reload();
    await page.getByTestId('sign-in-form').waitFor();
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual([locale, locale === 'ar' ? 'rtl' : 'ltr']);
    expect(await page.getByRole('main').getByRole('heading', { level: 1 }).textContent()).toBe(t('delegate.title'));
    await page.getByLabel(t('signIn.email')).fill(delegate.email);
    await page.getByLabel(t('signIn.accessCode')).fill(DEMO_ACCESS_CODE);
    await page.getByRole('button', { name: t('signIn.submit') }).click();

    // Pre-join: the camera preview plays a live track, the level meter moves with the (tone) microphone.
    await page.getByTestId('prejoin').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('prejoin-self').textContent()).toBe(label);
    await page.waitForFunction(
      () => {
        const video = document.querySelector<HTMLVideoElement>('[data-testid="preview-video"]');
        const track = (video?.srcObject as MediaStream | null)?.getVideoTracks()[0];
        return track?.readyState === 'live' && (video?.videoWidth ?? 0) > 0;
      },
      null,
      { timeout: 10_000 },
    );
    await page.waitForFunction(() => (document.querySelector<HTMLMeterElement>('[data-testid="mic-level"]')?.value ?? 0) > 0.05, null, { timeout: 10_000 });
    expect(await page.getByRole('meter', { name: t('delegate.prejoin.micLevel') }).count()).toBe(1);
    // Device pickers list the (fake) devices by name once the preview opened them.
    expect(await page.getByRole('combobox', { name: t('delegate.devices.mic') }).locator('option').count()).toBeGreaterThan(0);
    expect(await page.getByRole('combobox', { name: t('delegate.devices.camera') }).locator('option').count()).toBeGreaterThan(0);
    const speakerTest = page.getByTestId('speaker-test');
    await speakerTest.click();
    await page.waitForFunction(() => !(document.querySelector('[data-testid="speaker-test"]') as HTMLButtonElement).disabled, null, { timeout: 10_000 });
    expect(await page.getByRole('checkbox', { name: t('delegate.prejoin.audioOnly') }).isChecked()).toBe(false);
    await expectAccessible(page, 'pre-join');
    await page.screenshot({ path: artifactPath(`webapp-delegate-prejoin-${locale}.png`) });

    // Join: the secretariat hears the delegate's tone.
    await page.getByRole('button', { name: t('delegate.prejoin.join') }).click();
    await page.getByTestId('room').waitFor({ timeout: 20_000 });
    await waitForAnnouncement(page, t('delegate.joined'));
    expect(await page.getByTestId('self-label').textContent()).toBe(t('delegate.youAre', { label }));
    await expectMic(page, t, 'on');
    await waitForPeak(chair, TONE_HZ);
    // Everyone is "name — entity" in the gallery, the secretariat included.
    const chairTile = page.locator(`[data-testid="tile"][data-peer-id="${SECRETARIAT.id}"]`);
    await chairTile.waitFor({ timeout: 10_000 });
    expect(await chairTile.textContent()).toBe(t('delegate.personLabel', { name: SECRETARIAT.name, entity: SECRETARIAT.entity }));
    await page.locator('[data-testid="connection-quality"][data-quality="good"]').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('shortcuts-help').textContent()).toBe(t('delegate.media.shortcuts'));
    await expectAccessible(page, 'room');

    // Listening: French has no interpreter now, so the page says the floor stands in; captions follow the channel.
    const channel = page.getByRole('combobox', { name: t('delegate.listening.channel') });
    await channel.selectOption('fr');
    const french = new Intl.DisplayNames([locale], { type: 'language' }).of('fr')!;
    expect(await page.getByTestId('interpretation-unavailable').textContent()).toBe(t('delegate.listening.unavailable', { language: french }));
    await channel.selectOption('floor');
    await page.getByTestId('interpretation-unavailable').waitFor({ state: 'detached' });
    const captionText = `Caption ${locale} ${Date.now()}`;
    await captioner.evaluate((text) => (window as unknown as ChairWindow).plenum.client.publishCaption('floor', text, true), captionText);
    await page.getByTestId('captions').filter({ hasText: captionText }).waitFor({ timeout: 10_000 });
    await page.getByRole('slider', { name: t('delegate.listening.floorVolume') }).fill('40');

    // The connection drops (the server closes the signaling transport): the reconnecting banner shows while
    // the SDK reconnects by itself, then goes, and the delegate is heard again.
    // (English only: the page's part is the same in every language, and this keeps the file's runtime down.)
    if (locale === 'en') {
      await page.evaluate(() => {
        const w = window as unknown as { bannerSeen: boolean };
        w.bannerSeen = false;
        new MutationObserver(() => {
          if (document.querySelector('[data-testid="reconnecting-banner"]')) w.bannerSeen = true;
        }).observe(document.body, { childList: true, subtree: true });
      });
      const sockets = [...server.signaling.io.sockets.sockets.values()].filter((socket) => (socket.data.admitted as { grants: { person: string } } | undefined)?.grants.person === delegate.id);
      expect(sockets).toHaveLength(1);
      sockets[0]!.conn.close();
      await page.waitForFunction(() => (window as unknown as { bannerSeen: boolean }).bannerSeen, null, { timeout: 15_000 });
      await page.getByTestId('reconnecting-banner').waitFor({ state: 'detached', timeout: 20_000 });
      await page.getByTestId('room').waitFor();
      await expectMic(page, t, 'on');
      await waitForPeak(chair, TONE_HZ);
    }

    // Mute and unmute by button: the secretariat stops and starts hearing the tone.
    const mic = page.getByRole('button', { name: t('delegate.media.mic'), exact: true });
    await mic.click();
    await expectMic(page, t, 'off');
    await waitForSilence();
    await mic.click();
    await expectMic(page, t, 'on');
    await waitForPeak(chair, TONE_HZ);

    // And by the keyboard shortcut (by physical key, whatever the layout).
    await page.keyboard.press('Alt+KeyM');
    await expectMic(page, t, 'off');
    await waitForSilence();
    await page.keyboard.press('Alt+KeyM');
    await expectMic(page, t, 'on');
    await waitForPeak(chair, TONE_HZ);

    // Request the floor: first on the list of speakers, said in the live region.
    await page.getByRole('button', { name: t('delegate.floor.request') }).click();
    const position = page.getByTestId('my-position');
    await position.waitFor({ timeout: 10_000 });
    expect(await position.getAttribute('data-position')).toBe('1');
    expect(await position.textContent()).toBe(t('delegate.floor.position', { position: 1 }));
    await waitForAnnouncement(page, t('delegate.floor.position', { position: 1 }));
    const entry = page.getByRole('list', { name: t('delegate.floor.speakersList') }).getByRole('listitem');
    expect(await entry.count()).toBe(1);
    expect(await entry.getAttribute('data-speaker-id')).toBe(delegate.id);
    expect(await entry.textContent()).toContain(label);
    expect(await page.getByRole('button', { name: t('delegate.floor.withdraw') }).isEnabled()).toBe(true);
    await expectAccessible(page, 'on the list of speakers');

    // The secretariat gives the floor: the page says so, and the stage shows the delegate by name and entity.
    await chairDo('giveFloor', delegate.id);
    await page.locator(`[data-testid="floor-holder"][data-speaker-id="${delegate.id}"]`).waitFor({ timeout: 10_000 });
    await waitForAnnouncement(page, t('delegate.floor.youHaveFloor'));
    await page.locator(`[data-testid="stage"][data-peer-id="${delegate.id}"]`).waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('stage-label').textContent()).toBe(label);
    // The French booth asks the speaker to slow down (English) or to repeat (Arabic): shown and said.
    const signal: 'slow_down' | 'repeat' = locale === 'en' ? 'slow_down' : 'repeat';
    await interpreter.evaluate((kind: 'slow_down' | 'repeat') => (window as unknown as ChairWindow).plenum.client.boothSignal('fr', kind), signal);
    const boothSignal = page.locator(`[data-testid="booth-signal"][data-kind="${signal}"]`);
    await boothSignal.waitFor({ timeout: 10_000 });
    expect(await boothSignal.textContent()).toBe(t(`delegate.floor.boothSignal.${signal}`, { language: french }));
    await waitForAnnouncement(page, t(`delegate.floor.boothSignal.${signal}`, { language: french }));

    // The secretariat mutes the delegate: shown, and neither the button nor the shortcut opens the microphone.
    await chairDo('muteParticipant', delegate.id);
    await expectMic(page, t, 'muted-by-secretariat');
    expect(await page.getByTestId('moderated-notice').textContent()).toBe(t('delegate.media.moderated.muted'));
    await waitForAnnouncement(page, t('delegate.media.moderated.muted'));
    expect(await mic.getAttribute('aria-disabled')).toBe('true');
    await mic.click({ force: true });
    await page.keyboard.press('Alt+KeyM');
    await expectMic(page, t, 'muted-by-secretariat');
    await expectAccessible(page, 'muted by the secretariat');

    // It asks the delegate to unmute: the request comes with its button, which works.
    await chairDo('askToUnmute', delegate.id);
    const unmute = page.getByRole('button', { name: t('delegate.media.unmute') });
    await unmute.waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('unmute-request').textContent()).toContain(t('delegate.media.unmuteRequested'));
    await expectMic(page, t, 'off');
    await expectAccessible(page, 'unmute requested');
    await page.screenshot({ path: artifactPath(`webapp-delegate-${locale}.png`), fullPage: true });
    await unmute.click();
    await expectMic(page, t, 'on');
    expect(await page.getByTestId('unmute-request').count()).toBe(0);
    await waitForPeak(chair, TONE_HZ);

    // Another microphone, chosen in the room: the secretariat hears it (its tone is 660 Hz).
    if (locale === 'en') {
      const picker = page.getByRole('combobox', { name: t('delegate.devices.mic') });
      const options = await picker.locator('option').evaluateAll((all) => all.map((o) => (o as HTMLOptionElement).value));
      const other = options.find((id) => id !== 'default' && id !== '');
      expect(other, 'a second (fake) microphone').toBeDefined();
      await picker.selectOption(other!);
      await waitForPeak(chair, CHOSEN_HZ);
      await expectMic(page, t, 'on');
    }

    // Leave: the page says so, and the secretariat sees the delegate go.
    await page.getByRole('button', { name: t('delegate.leave') }).click();
    await page.locator('[data-testid="ended"][data-reason="LEFT"]').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('ended').textContent()).toContain(t('delegate.ended.LEFT'));
    await waitFor(() => chair.evaluate((id) => !(window as unknown as ChairWindow).plenum.client.peers.has(id), delegate.id), { what: 'the delegate to leave the room' });
    await expectAccessible(page, 'left');
    expect(await page.evaluate(() => document.documentElement.dir)).toBe(locale === 'ar' ? 'rtl' : 'ltr');
    expect(problems).toEqual([]);
    await page.context().close();
  }, 90_000);
});

describe('/delegate: refusal, dev mode, lobby, audio only', () => {
  const t = CATALOGUES.en;

  it('a pending registration is refused with its reason, translated', async () => {
    const { page, problems } = await openWebPage(browser, `${server.url}/delegate?session=${SESSION}`, 'en');
    await page.getByLabel(t('signIn.email')).fill('priya.nair@demo.in');
    await page.getByLabel(t('signIn.accessCode')).fill(DEMO_ACCESS_CODE);
    await page.getByRole('button', { name: t('signIn.submit') }).click();
    const refused = page.getByTestId('refused');
    await refused.waitFor({ timeout: 15_000 });
    expect(await refused.getByRole('heading').textContent()).toBe(t('delegate.refused.heading'));
    expect(await refused.locator('[data-reason="REGISTRATION_PENDING"]').textContent()).toBe(t('reasons.REGISTRATION_PENDING'));
    await expectAccessible(page, 'refused');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('dev mode (test servers): a quick join without accreditation, as the old demo page had', async () => {
    const { page, problems } = await openWebPage(browser, `${server.url}/delegate`, 'en');
    await page.getByTestId('no-session').waitFor();
    await page.getByTestId('dev-join').locator('summary').click();
    await page.getByLabel(t('delegate.dev.name')).fill('Dev Tester');
    await page.getByLabel(t('delegate.dev.room')).fill(`dev-${Date.now()}`);
    await page.getByRole('button', { name: t('delegate.dev.join'), exact: true }).click();
    await page.getByTestId('prejoin').waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: t('delegate.prejoin.join') }).click();
    await page.getByTestId('room').waitFor({ timeout: 20_000 });
    await expectMic(page, t, 'on');
    expect(await page.evaluate(() => (window as unknown as { plenum: { client: { joined: boolean } } }).plenum.client.joined)).toBe(true);
    await expectAccessible(page, 'dev-mode room');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('joins audio only through the lobby, is admitted, then switches the camera on with Alt+V', async () => {
    const lobbySession = 'demo-with-lobby';
    const chairOfLobby = await sdkPage('kwame.mensah@demo.gh', lobbySession);
    const { page, problems } = await openWebPage(browser, `${server.url}/delegate?session=${lobbySession}`, 'en');
    await page.getByLabel(t('signIn.email')).fill('camille.durand@demo.fr');
    await page.getByLabel(t('signIn.accessCode')).fill(DEMO_ACCESS_CODE);
    await page.getByRole('button', { name: t('signIn.submit') }).click();
    await page.getByTestId('prejoin').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('prejoin').textContent()).toContain(t('delegate.prejoin.throughLobby'));

    // Audio only: the preview closes the camera and says so; the level meter still moves.
    await page.getByRole('checkbox', { name: t('delegate.prejoin.audioOnly') }).check();
    await page.getByTestId('preview-off').filter({ hasText: t('delegate.prejoin.cameraOff') }).waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('preview-video').count()).toBe(0);
    await page.waitForFunction(() => (document.querySelector<HTMLMeterElement>('[data-testid="mic-level"]')?.value ?? 0) > 0, null, { timeout: 10_000 });
    await page.getByRole('button', { name: t('delegate.prejoin.join') }).click();

    // Waiting in the lobby until the Chair admits.
    await page.getByTestId('lobby-waiting').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('lobby-waiting').textContent()).toBe(t('delegate.lobby'));
    await waitForAnnouncement(page, t('delegate.lobby'));
    await expectAccessible(page, 'lobby');
    await waitFor(() => chairOfLobby.evaluate((id) => (window as unknown as ChairWindow).plenum.client.admitFromLobby(id).then(() => true), 'p-fr-1'), {
      intervalMs: 250,
      what: 'the Chair to admit the delegate from the lobby',
    });
    await page.getByTestId('room').waitFor({ timeout: 20_000 });

    // Joined without a camera; Alt+V publishes it, and the own tile shows it.
    const camera = page.getByRole('button', { name: t('delegate.media.camera'), exact: true });
    await page.locator('[data-testid="camera-state"][data-state="none"]').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('camera-state').textContent()).toBe(t('delegate.media.state.none'));
    expect(await camera.getAttribute('aria-pressed')).toBe('false');
    await page.keyboard.press('Alt+KeyV');
    await page.locator('[data-testid="camera-state"][data-state="on"]').waitFor({ timeout: 10_000 });
    expect(await camera.getAttribute('aria-pressed')).toBe('true');
    await page.locator('[data-testid="tile"][data-peer-id="p-fr-1"] video').waitFor({ timeout: 10_000 });
    await expectAccessible(page, 'admitted from the lobby');

    await page.getByRole('button', { name: t('delegate.leave') }).click();
    await page.locator('[data-testid="ended"][data-reason="LEFT"]').waitFor({ timeout: 10_000 });
    expect(problems).toEqual([]);
    await page.context().close();
    await chairOfLobby.context().close();
  }, 60_000);
});

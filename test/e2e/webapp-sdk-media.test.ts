import type { Browser, Page } from 'playwright-core';
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeetingServer } from '../../server/meeting-server.js';
import type { Room } from '../../server/rooms/room.js';
import { spectrum, waitForPeak } from '../helpers/audio-pages.js';
import { launchChromium } from '../helpers/browser.js';
import { inboundStats, waitForGrowingAudio } from '../helpers/demo-pages.js';
import { devToken } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

// The SDK's own microphone switch, device switch and ICE restart, with real Chromium pages and a real server.
// A publishes a tone (440 Hz from the default microphone, 660 Hz from any chosen device); B listens by ear
// (the SDK's analyser) and by its consumer's stats.

const DEFAULT_HZ = 440;
const CHOSEN_HZ = 660;

let server: MeetingServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** getUserMedia gives a tone: 440 Hz for the default microphone, 660 Hz when a device is asked for by id. */
const toneByDevice = `(() => {
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints = {}) => {
    if (!constraints.audio) return original(constraints);
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    osc.frequency.value = constraints.audio.deviceId ? ${CHOSEN_HZ} : ${DEFAULT_HZ};
    const gain = ctx.createGain();
    gain.gain.value = 0.3;
    const dest = ctx.createMediaStreamDestination();
    osc.connect(gain).connect(dest);
    osc.start();
    return dest.stream;
  };
})();`;

interface PageLog {
  localMedia: Array<{ mic: string; camera: string }>;
  connection: string[];
  iceRestarts: Array<{ direction: string; attempt: number }>;
}
type SdkWindow = {
  log: PageLog;
  plenum: {
    client: {
      self: { id: string };
      localMedia: { mic: string; camera: string };
      connection: { state: string };
      setMicrophoneEnabled(on: boolean): Promise<void>;
      switchMicrophone(deviceId: string): Promise<void>;
      listDevices(): Promise<{ microphones: Array<{ deviceId: string }> }>;
    };
  };
};

/** A blank page of the server's origin that loads the SDK bundle, joins `room` and (publish) sends its microphone. */
async function sdkPage(name: string, room: string, publish: boolean): Promise<Page> {
  const context = await browser.newContext();
  await context.addInitScript(toneByDevice);
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${name}] page error:`, error.message));
  await page.goto(`${server.url}/api/config`);
  const token = await devToken(server.url, name, room);
  // The bundle, as a page imports it (given as text: vitest would rewrite an import() inside a function).
  await page.evaluate("import('/sdk/plenum-sdk.js').then((sdk) => { window.PlenumSDK = sdk; })");
  await page.evaluate(
    async ({ token, publish }) => {
      type Client = SdkWindow['plenum']['client'] & {
        on(event: string, fn: (data: never) => void): void;
        join(): Promise<unknown>;
        publishMicrophone(): Promise<unknown>;
      };
      const sdk = (window as unknown as { PlenumSDK: { MeetingClient: new (options: object) => Client } }).PlenumSDK;
      const client = new sdk.MeetingClient({ token, iceRestart: { disconnectedGraceMs: 1000 } });
      const w = window as unknown as SdkWindow;
      w.plenum = { client };
      w.log = { localMedia: [], connection: [], iceRestarts: [] };
      client.on('localMedia', (state: PageLog['localMedia'][number]) => w.log.localMedia.push(state));
      client.on('connectionState', (view: { state: string }) => w.log.connection.push(view.state));
      client.on('iceRestart', (attempt: PageLog['iceRestarts'][number]) => w.log.iceRestarts.push(attempt));
      await client.join();
      if (publish) await client.publishMicrophone();
    },
    { token, publish },
  );
  return page;
}

const selfId = (page: Page): Promise<string> => page.evaluate(() => (window as unknown as SdkWindow).plenum.client.self.id);
const pageLog = (page: Page): Promise<PageLog> => page.evaluate(() => (window as unknown as SdkWindow).log);
const micState = (page: Page): Promise<string> => page.evaluate(() => (window as unknown as SdkWindow).plenum.client.localMedia.mic);
const setMic = (page: Page, on: boolean): Promise<void> => page.evaluate((on) => (window as unknown as SdkWindow).plenum.client.setMicrophoneEnabled(on), on);

function roomOf(participantId: string): Room {
  const room = [...server.rooms.all].find((r) => r.participants.has(participantId));
  if (!room) throw new Error(`no room holds ${participantId}`);
  return room;
}
function micProducer(participantId: string): types.Producer {
  const producer = [...roomOf(participantId).participants.get(participantId)!.endpoint.producers.values()].find((p) => p.kind === 'audio');
  if (!producer) throw new Error(`${participantId} publishes no microphone`);
  return producer;
}

/** Waits until `page` hears nothing at `hz` (the tone is gone from what its user hears). */
async function waitForSilenceAt(page: Page, hz: number): Promise<void> {
  await waitFor(async () => ((await spectrum(page, [hz])).levels[hz] ?? 0) < -90, { timeoutMs: 15_000, intervalMs: 100, what: `${hz} Hz to fade` });
}

describe('the SDK’s own microphone, device and connection (real Chromium, real server)', () => {
  it('A switches the microphone off and on: B stops and starts hearing A; the state follows, and a secretariat hold refuses it', async () => {
    const room = `sdk-mute-${Date.now()}`;
    const a = await sdkPage('Alice', room, true);
    const b = await sdkPage('Bob', room, false);
    const alice = await selfId(a);
    await waitForPeak(b, DEFAULT_HZ);
    expect(await micState(a)).toBe('on');

    await setMic(a, false);
    expect(await micState(a)).toBe('off');
    expect(micProducer(alice).paused).toBe(true);
    await waitForSilenceAt(b, DEFAULT_HZ);

    await setMic(a, true);
    expect(await micState(a)).toBe('on');
    expect(micProducer(alice).paused).toBe(false);
    await waitForPeak(b, DEFAULT_HZ);
    await waitForGrowingAudio(b, alice);

    // The secretariat mutes (as muteParticipant does): the state says so and switching on is refused.
    const r = roomOf(alice);
    r.setBlock(alice, 'mic', true);
    await r.setFloorAudio(alice, false);
    r.participants.get(alice)!.notify('moderated', { action: 'muted' });
    await waitFor(async () => (await micState(a)) === 'muted-by-secretariat', { what: 'the muted state' });
    await waitForSilenceAt(b, DEFAULT_HZ);
    const refused = await a.evaluate(() =>
      (window as unknown as SdkWindow).plenum.client.setMicrophoneEnabled(true).then(
        () => 'resolved',
        (error: { code: string }) => error.code,
      ),
    );
    expect(refused).toBe('MUTED_BY_MODERATOR');
    expect(await micState(a)).toBe('muted-by-secretariat');

    // Asked to unmute (as askToUnmute does): off until A switches it on, then heard.
    r.setBlock(alice, 'mic', false);
    r.participants.get(alice)!.notify('unmuteRequested', {});
    await waitFor(async () => (await micState(a)) === 'off', { what: 'the state after an unmute request' });
    await setMic(a, true);
    await waitForPeak(b, DEFAULT_HZ);
    expect((await pageLog(a)).localMedia.map((s) => s.mic)).toEqual(['on', 'off', 'on', 'muted-by-secretariat', 'off', 'on']);
    await a.context().close();
    await b.context().close();
  }, 90_000);

  it('A switches to another microphone while off: it stays off, then B hears the new device', async () => {
    const room = `sdk-device-${Date.now()}`;
    const a = await sdkPage('Alice', room, true);
    const b = await sdkPage('Bob', room, false);
    await waitForPeak(b, DEFAULT_HZ);
    const microphones = await a.evaluate(async () => (await (window as unknown as SdkWindow).plenum.client.listDevices()).microphones.map((d) => d.deviceId));
    expect(microphones.length).toBeGreaterThan(0);
    const chosen = microphones.find((id) => id !== 'default') ?? microphones[0]!;

    await setMic(a, false);
    await a.evaluate((id) => (window as unknown as SdkWindow).plenum.client.switchMicrophone(id), chosen);
    expect(await micState(a)).toBe('off');
    await waitForSilenceAt(b, DEFAULT_HZ);
    expect((await spectrum(b, [CHOSEN_HZ])).levels[CHOSEN_HZ]).toBeLessThan(-90);

    await setMic(a, true);
    await waitForPeak(b, CHOSEN_HZ);
    await a.context().close();
    await b.context().close();
  }, 90_000);

  it('A’s send transport loses its ICE credentials: the SDK restarts ICE by itself and B hears A again', async () => {
    const room = `sdk-ice-${Date.now()}`;
    const a = await sdkPage('Alice', room, true);
    const b = await sdkPage('Bob', room, false);
    const alice = await selfId(a);
    await waitForPeak(b, DEFAULT_HZ);
    expect(await a.evaluate(() => (window as unknown as SdkWindow).plenum.client.connection.state)).toBe('connected');

    // Behind the client's back: two server-side restarts retire the credentials it uses (mediasoup accepts
    // the previous pair until the new one is used), so its ICE checks fail and its connection drops.
    const send = [...roomOf(alice).participants.get(alice)!.endpoint.transports.values()].find((t) => t.appData.direction === 'send')!;
    await send.restartIce();
    await send.restartIce();
    let restartsByClient = 0;
    const restartIce = send.restartIce.bind(send);
    send.restartIce = () => {
      restartsByClient += 1;
      return restartIce();
    };

    const log = await waitFor(
      async () => {
        const l = await pageLog(a);
        const reconnecting = l.connection.lastIndexOf('reconnecting');
        return reconnecting >= 0 && l.connection.slice(reconnecting).includes('connected') ? l : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the SDK to announce reconnecting, then connected' },
    );
    expect(log.iceRestarts.some((r) => r.direction === 'send')).toBe(true);
    expect(restartsByClient).toBeGreaterThan(0);
    expect(await a.evaluate(() => (window as unknown as SdkWindow).plenum.client.connection.state)).toBe('connected');

    // Media flows again on the restarted transport: more packets after the restart, and the tone is heard.
    const before = (await inboundStats(b)).filter((s) => s.peerId === alice && s.kind === 'audio').reduce((n, s) => n + s.bytesReceived, 0);
    await waitFor(
      async () => (await inboundStats(b)).filter((s) => s.peerId === alice && s.kind === 'audio').reduce((n, s) => n + s.bytesReceived, 0) > before,
      { timeoutMs: 20_000, intervalMs: 250, what: 'more audio from A after the restart' },
    );
    await waitForPeak(b, DEFAULT_HZ);
    await a.context().close();
    await b.context().close();
  }, 120_000);
});

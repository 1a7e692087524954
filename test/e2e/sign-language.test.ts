import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { toneMicrophone } from '../helpers/audio-pages.js';
import { requestJoinAs } from '../helpers/accreditation-client.js';
import { launchChromium } from '../helpers/browser.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

// A sign-language channel in real Chromium. Two signers (Élodie, Julien) are assigned to International Sign
// and publish their (fake) cameras into it; a delegate speaks on the floor with camera and a tone; an
// observer pins International Sign beside the stage. What the observer decodes is read from each
// consumer's own inbound-rtp stats, matched to the producer it consumes, so the test fails if the server
// sends the wrong signer, sends the partner too, or does not follow a handover.

const SESSION = 'sign-plenary';
const ILS = 'ils';

let server: MeetingServer;
let browser: Browser;
const pages: Record<'speaker' | 'signerA' | 'signerB' | 'viewer', Page> = {} as never;
const producers: Record<string, string> = {};

interface Decoded {
  producerId: string;
  peerId: string;
  kind: string;
  channel: string;
  framesDecoded: number;
  bytesReceived: number;
}

type SdkClient = {
  self: { id: string };
  remoteTracks: Map<string, { producerId: string; channel: string; kind: string }>;
  signVideo: { language: string | null; track: { producerId: string } | null; interpreter: { id: string; name: string } | null };
  join(): Promise<unknown>;
  publish(track: MediaStreamTrack, source: string, options: object): Promise<{ producerId: string }>;
  publishCamera(options?: object): Promise<{ producerId: string }>;
  publishMicrophone(): Promise<{ producerId: string }>;
  pinSignChannel(language: string | null, size?: { width: number; height: number }): Promise<void>;
  boothGoLive(language: string): Promise<void>;
  boothHandover(language: string, action: string): Promise<void>;
  getInboundStats(): Promise<Array<{ consumerId: string; peerId: string; kind: string; framesDecoded: number; bytesReceived: number }>>;
};
type SdkWindow = { PlenumSDK: { MeetingClient: new (options: object) => SdkClient }; client: SdkClient; signVideoEvents: number };

/** A page of the server's origin that loads the SDK bundle and joins the session as `email`. */
async function sdkPage(name: string, email: string, toneHz?: number): Promise<Page> {
  const context = await browser.newContext();
  if (toneHz !== undefined) await context.addInitScript(toneMicrophone(toneHz));
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${name}] page error:`, error.message));
  await page.goto(`${server.url}/api/config`);
  const answer = await requestJoinAs(server.url, email, SESSION);
  if (answer.status !== 200) throw new Error(`${email}: ${answer.status} ${JSON.stringify(answer.body)}`);
  // The bundle, as a page imports it (given as text: vitest would rewrite an import() inside a function).
  await page.evaluate("import('/sdk/plenum-sdk.js').then((sdk) => { window.PlenumSDK = sdk; })");
  await page.evaluate(async (token) => {
    const w = window as unknown as SdkWindow;
    w.client = new w.PlenumSDK.MeetingClient({ token });
    w.signVideoEvents = 0;
    (w.client as unknown as { on(e: string, fn: () => void): void }).on('signVideo', () => (w.signVideoEvents += 1));
    await w.client.join();
  }, answer.body.joinToken as string);
  return page;
}

/** The signer's camera into the sign channel (paused by the server until they are live). */
function publishSignCamera(page: Page): Promise<string> {
  return page.evaluate(async (language) => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 } });
    return (await (window as unknown as SdkWindow).client.publish(stream.getVideoTracks()[0]!, 'camera', { channel: language })).producerId;
  }, ILS);
}

/** What the page decodes, per consumer, with the producer each one consumes. */
function decoded(page: Page): Promise<Decoded[]> {
  return page.evaluate(async () => {
    const client = (window as unknown as SdkWindow).client;
    const stats = await client.getInboundStats();
    return stats.map((s) => {
      const track = client.remoteTracks.get(s.consumerId);
      return { producerId: track?.producerId ?? '', peerId: s.peerId, kind: s.kind, channel: track?.channel ?? '', framesDecoded: s.framesDecoded, bytesReceived: s.bytesReceived };
    });
  });
}

/** Polls until the page decodes more than `after` frames of `producerId`. */
async function framesOf(page: Page, producerId: string, after: number, what: string): Promise<number> {
  return waitFor(
    async () => {
      const frames = (await decoded(page)).find((d) => d.producerId === producerId)?.framesDecoded ?? 0;
      return frames > after ? frames : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250, what },
  );
}

const client = (page: Page, fn: string): Promise<unknown> => page.evaluate(`window.client.${fn}`);

beforeAll(async () => {
  server = await startTestServer({ PLENUM_DEV_MODE: 'false' });
  await server.accreditation.service.sessions.upsert({
    sessionId: SESSION,
    eventId: DEMO_EVENT_ID,
    title: 'Plenary with International Sign',
    open: true,
    lobby: false,
    signLanguages: [ILS],
    interpreters: [
      { personId: 'p-int-fr-1', language: ILS },
      { personId: 'p-int-fr-2', language: ILS },
    ],
  });
  browser = await launchChromium();
  pages.speaker = await sdkPage('speaker', 'amina.odhiambo@demo.ke', 440);
  pages.signerA = await sdkPage('signer A', 'elodie.martin@interpreters.example');
  pages.signerB = await sdkPage('signer B', 'julien.petit@interpreters.example');
  pages.viewer = await sdkPage('viewer', 'omar.haddad@openaccess.example');
  producers.speakerCamera = ((await client(pages.speaker, 'publishCamera()')) as { producerId: string }).producerId;
  producers.speakerMic = ((await client(pages.speaker, 'publishMicrophone()')) as { producerId: string }).producerId;
  producers.signerA = await publishSignCamera(pages.signerA);
  producers.signerB = await publishSignCamera(pages.signerB);
  await client(pages.signerA, `boothGoLive('${ILS}')`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('International Sign in real Chromium', () => {
  it('a viewer who pins International Sign decodes the live signer beside the speaker, and hears the floor', async () => {
    const viewer = pages.viewer;
    // The speaker takes the stage as the dominant (only) voice: the viewer decodes their camera.
    await framesOf(viewer, producers.speakerCamera!, 0, "the speaker's camera on the viewer's stage");
    // Nothing of the sign channel comes before it is pinned.
    expect((await decoded(viewer)).filter((d) => d.channel === ILS)).toEqual([]);

    await client(viewer, `pinSignChannel('${ILS}', { width: 480, height: 270 })`);
    const first = await framesOf(viewer, producers.signerA!, 0, "the live signer's video, pinned");
    expect(first).toBeGreaterThan(0);
    await framesOf(viewer, producers.signerA!, first, "the live signer's video keeps decoding");
    const now = await decoded(viewer);
    // The partner's camera is not sent; the floor's voice and the stage's camera still are.
    expect(now.filter((d) => d.channel === ILS).map((d) => d.producerId)).toEqual([producers.signerA]);
    expect(now.some((d) => d.producerId === producers.speakerMic && d.kind === 'audio' && d.bytesReceived > 0)).toBe(true);
    expect(now.some((d) => d.producerId === producers.speakerCamera && d.framesDecoded > 0)).toBe(true);
    // The SDK says who signs, for the pinned video's accessible name.
    const state = await viewer.evaluate(() => (window as unknown as SdkWindow).client.signVideo);
    expect(state).toMatchObject({ language: ILS, track: { producerId: producers.signerA }, interpreter: { name: 'Élodie Martin' } });
  });

  it('the live signer receives the floor: the speaker\'s voice and camera', async () => {
    await framesOf(pages.signerA, producers.speakerCamera!, 0, "the speaker's camera at the signer");
    const got = await decoded(pages.signerA);
    expect(got.some((d) => d.producerId === producers.speakerMic && d.bytesReceived > 0)).toBe(true);
  });

  it('a handover: the pinned video switches to the second signer without the viewer doing anything', async () => {
    const viewer = pages.viewer;
    await client(pages.signerA, `boothHandover('${ILS}', 'offer')`);
    await client(pages.signerB, `boothHandover('${ILS}', 'accept')`);
    const frames = await framesOf(viewer, producers.signerB!, 0, "the second signer's video after the handover");
    await framesOf(viewer, producers.signerB!, frames, "the second signer's video keeps decoding");
    const now = await decoded(viewer);
    expect(now.filter((d) => d.channel === ILS).map((d) => d.producerId)).toEqual([producers.signerB]);
    const state = await viewer.evaluate(() => (window as unknown as SdkWindow).client.signVideo);
    expect(state).toMatchObject({ language: ILS, track: { producerId: producers.signerB }, interpreter: { name: 'Julien Petit' } });
  });

  it('refusals: a signer\'s microphone into the sign channel, a viewer pinning a channel the session lacks', async () => {
    const refused = (page: Page, script: string): Promise<string> =>
      page.evaluate(`(async () => { try { await ${script}; return 'accepted'; } catch (e) { return e.code ?? String(e); } })()`);
    const mic = `navigator.mediaDevices.getUserMedia({ audio: true }).then((s) => window.client.publish(s.getAudioTracks()[0], 'mic', { channel: '${ILS}' }))`;
    expect(await refused(pages.signerB, mic)).toBe('BAD_REQUEST');
    expect(await refused(pages.viewer, "window.client.pinSignChannel('ase')")).toBe('NOT_FOUND');
    // The refused view changed nothing, here or on the server: the second signer's video still comes.
    expect(await pages.viewer.evaluate(() => (window as unknown as SdkWindow).client.signVideo.language)).toBe(ILS);
    const frames = (await decoded(pages.viewer)).find((d) => d.producerId === producers.signerB)?.framesDecoded ?? 0;
    await framesOf(pages.viewer, producers.signerB!, frames, "the second signer's video after a refused pin");
  });

  it('unpinning stops the sign video; the stage stays', async () => {
    const viewer = pages.viewer;
    await client(viewer, 'pinSignChannel(null)');
    await waitFor(async () => (await decoded(viewer)).every((d) => d.channel !== ILS), { timeoutMs: 10_000, what: 'the sign video closed once unpinned' });
    expect((await decoded(viewer)).some((d) => d.producerId === producers.speakerCamera)).toBe(true);
  });
});

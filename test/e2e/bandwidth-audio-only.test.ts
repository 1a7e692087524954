import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import { DEV_MODE_STATUS } from '../../server/auth/join-token.js';
import { waitForPeak } from '../helpers/audio-pages.js';
import { audioReceipt, BandwidthRig, between } from '../helpers/bandwidth-rig.js';
import { selfId } from '../helpers/demo-pages.js';
import { grants } from '../helpers/grants.js';
import { waitFor } from '../helpers/wait.js';

// Low bandwidth under real network conditions: the delegate's Chromium lives in its own network namespace,
// its link to the server a veth pair limited by tc tbf. The speaker (a 440 Hz tone and a camera) is on the host.

const TONE_HZ = 440;
const FRENCH_HZ = 880;
let rig: BandwidthRig;

beforeAll(async () => {
  rig = await BandwidthRig.start();
}, 60_000);
afterEach(async () => {
  await rig?.closePages();
});
afterAll(async () => {
  await rig?.close();
});

function serverVideoConsumers(participantId: string): number {
  const room = [...rig.server.rooms.all].find((r) => r.participants.has(participantId));
  return [...(room?.participants.get(participantId)?.endpoint.consumers.values() ?? [])].filter((c) => c.kind === 'video' && !c.closed).length;
}

async function transportStats(participantId: string): Promise<unknown> {
  const room = [...rig.server.rooms.all].find((r) => r.participants.has(participantId));
  const t = [...(room?.participants.get(participantId)?.endpoint.transports.values() ?? [])].find((t) => t.appData.direction === 'recv');
  return t?.getStats();
}

/** The channels of the audio the server sends a participant (floor voices are 'floor'). */
function audioChannelsSent(participantId: string): string[] {
  const room = [...rig.server.rooms.all].find((r) => r.participants.has(participantId));
  const consumers = [...(room?.participants.get(participantId)?.endpoint.consumers.values() ?? [])].filter((c) => c.kind === 'audio' && !c.closed);
  return consumers.map((c) => String(room!.media.findProducer(c.producerId)?.appData.channel ?? 'floor')).sort();
}

/** Waits until the page has received `seconds` more of audio, and answers what happened in that time. */
async function listen(page: Page, seconds: number): Promise<ReturnType<typeof between>> {
  const start = await audioReceipt(page);
  const end = await waitFor(
    async () => {
      const now = await audioReceipt(page);
      return now.totalSamplesReceived - start.totalSamplesReceived >= seconds * 48_000 ? now : undefined;
    },
    { timeoutMs: (seconds + 20) * 1000, intervalMs: 500, what: `${seconds} s of audio` },
  );
  return between(start, end);
}

describe('an audio-only delegate at 64 kbit/s (network namespace, tc tbf)', () => {
  it('hears the floor intelligibly (concealed samples under 5 %, the tone) and receives no video', async () => {
    const room = `bw-audio-${Date.now()}`;
    await rig.speaker('Speaker', room, { toneHz: TONE_HZ, camera: true });
    const delegate = await rig.delegate('Delegate', room, { audioOnly: true });
    const delegateId = await selfId(delegate);
    await waitForPeak(delegate, TONE_HZ, [], 30_000);
    await rig.ns.shape({ rateKbit: 64 });
    let heard: ReturnType<typeof between>;
    try {
      heard = await listen(delegate, 10);
      // Still the tone after ten seconds on the narrow link.
      await waitForPeak(delegate, TONE_HZ, [], 5000);
    } finally {
      await rig.ns.unshape();
    }
    if (process.env.DEBUG_BW) console.log(heard, await transportStats(delegateId));
    expect(heard.concealedPercent).toBeLessThan(5);

    // No video: none made for it on the server, none on the page, though the speaker's camera is up.
    expect(serverVideoConsumers(delegateId)).toBe(0);
    const videoTracks = await delegate.evaluate(() => [...(window as unknown as { plenum: { client: { remoteTracks: Map<string, { kind: string }> } } }).plenum.client.remoteTracks.values()].filter((t) => t.kind === 'video').length);
    expect(videoTracks).toBe(0);
  }, 120_000);

  it('switching audio only off brings the stage back; on again takes it away', async () => {
    const room = `bw-toggle-${Date.now()}`;
    await rig.speaker('Speaker', room, { toneHz: TONE_HZ, camera: true });
    const delegate = await rig.delegate('Delegate', room, { audioOnly: true });
    const delegateId = await selfId(delegate);
    await waitForPeak(delegate, TONE_HZ, [], 30_000);
    expect(serverVideoConsumers(delegateId)).toBe(0);

    await delegate.evaluate(() => (window as unknown as { plenum: { client: { setAudioOnly(on: boolean): Promise<void> } } }).plenum.client.setAudioOnly(false));
    await waitFor(async () => (await audioReceipt(delegate)).videoFramesDecoded > 0, { timeoutMs: 30_000, what: 'the stage’s video decoded' });
    expect(serverVideoConsumers(delegateId)).toBe(1);

    await delegate.evaluate(() => (window as unknown as { plenum: { client: { setAudioOnly(on: boolean): Promise<void> } } }).plenum.client.setAudioOnly(true));
    await waitFor(() => serverVideoConsumers(delegateId) === 0, { timeoutMs: 10_000, what: 'the video consumer closed' });
  }, 120_000);

  it('with its language interpreted, receives that channel alone (one stream) and hears it intelligibly; the floor returns when the booth goes off', async () => {
    // A session with interpretation (the demo plenary: en, fr, es, ar); dev-mode grants, which revalidation leaves alone.
    const room = 'demo-plenary';
    const token = (person: string, role: string, booths: string[]) =>
      rig.server.tokens.issue(person, grants({ room, event: DEMO_EVENT_ID, person, name: person, role, publish: { floor: booths.length === 0, booths, captions: false }, accreditation: { status: DEV_MODE_STATUS, source: 'test' } }));
    await rig.speaker('Floor', room, { toneHz: TONE_HZ, camera: false, token: token('bw-floor', 'delegate', []) });
    const french = await rig.speaker('French', room, { toneHz: FRENCH_HZ, camera: false, token: token('bw-french', 'interpreter', ['fr']), booth: 'fr' });
    const delegate = await rig.delegate('Delegate', room, { audioOnly: true, token: token('bw-listener', 'observer', []) });
    const delegateId = await selfId(delegate);
    await waitForPeak(delegate, TONE_HZ, [], 30_000);
    await delegate.evaluate(() => (window as unknown as { plenum: { client: { selectChannel(c: string): Promise<void> } } }).plenum.client.selectChannel('fr'));
    await waitForPeak(delegate, FRENCH_HZ, [], 30_000);
    // The floor is not sent under the interpretation: French is the one audio stream on the narrow link.
    await waitFor(() => audioChannelsSent(delegateId).join() === 'fr', { timeoutMs: 10_000, what: 'French alone' });
    await rig.ns.shape({ rateKbit: 64 });
    let heard: ReturnType<typeof between>;
    try {
      heard = await listen(delegate, 10);
      await waitForPeak(delegate, FRENCH_HZ, [], 5000);
    } finally {
      await rig.ns.unshape();
    }
    if (process.env.DEBUG_BW) {
      console.log(heard, audioChannelsSent(delegateId));
      console.log(await delegate.evaluate(async () => {
        const c = (window as unknown as { plenum: { client: { consumers: Map<string, { kind: string; paused: boolean; producerId: string; getStats(): Promise<RTCStatsReport> }> } } }).plenum.client;
        const out: unknown[] = [];
        for (const [id, k] of c.consumers) {
          const r = await k.getStats();
          r.forEach((s: Record<string, unknown>) => { if (s.type === 'inbound-rtp') out.push({ id, kind: k.kind, paused: k.paused, producer: k.producerId, concealed: s.concealedSamples, total: s.totalSamplesReceived, packets: s.packetsReceived, lost: s.packetsLost, bytes: s.bytesReceived }); });
        }
        return out;
      }));
    }
    expect(heard.concealedPercent).toBeLessThan(5);
    // The booth empty: the delegate hears the floor again, sent again.
    await french.evaluate(() => (window as unknown as { plenum: { client: { boothGoOff(l: string): Promise<void> } } }).plenum.client.boothGoOff('fr'));
    await waitForPeak(delegate, TONE_HZ, [], 30_000);
    expect(audioChannelsSent(delegateId)).toContain('floor');
  }, 120_000);
});

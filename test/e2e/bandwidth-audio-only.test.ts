import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForPeak } from '../helpers/audio-pages.js';
import { audioReceipt, BandwidthRig, between } from '../helpers/bandwidth-rig.js';
import { selfId } from '../helpers/demo-pages.js';
import { waitFor } from '../helpers/wait.js';

// Low bandwidth under real network conditions: the delegate's Chromium lives in its own network namespace,
// its link to the server a veth pair limited by tc tbf. The speaker (a 440 Hz tone and a camera) is on the host.

const TONE_HZ = 440;
let rig: BandwidthRig;

beforeAll(async () => {
  rig = await BandwidthRig.start();
}, 60_000);
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
});

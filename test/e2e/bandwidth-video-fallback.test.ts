import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { types } from 'mediasoup';
import { audioReceipt, BandwidthRig } from '../helpers/bandwidth-rig.js';
import { selfId } from '../helpers/demo-pages.js';
import { waitFor } from '../helpers/wait.js';

// The server's video fallback under a real constrained link: the delegate's Chromium in its own network
// namespace receives the speaker's simulcast camera on its stage; tc tbf narrows the link, mediasoup's
// estimate of the downlink falls, and the server steps the video down (lowest layer, then none), telling
// the client (`videoFallback`, surfaced by the SDK's `audioOnly` event). Lifting the limit brings it back.

let rig: BandwidthRig;

beforeAll(async () => {
  rig = await BandwidthRig.start();
}, 60_000);
afterAll(async () => {
  await rig?.close();
});

function videoConsumer(participantId: string): types.Consumer | undefined {
  const room = [...rig.server.rooms.all].find((r) => r.participants.has(participantId));
  return [...(room?.participants.get(participantId)?.endpoint.consumers.values() ?? [])].find((c) => c.kind === 'video' && !c.closed);
}

describe('video under a constrained estimate (network namespace, tc tbf)', () => {
  it('falls to the lowest layer, then to no video, and comes back when the limit is lifted', async () => {
    const room = `bw-video-${Date.now()}`;
    await rig.speaker('Speaker', room, { toneHz: 440, camera: true });
    const delegate = await rig.delegate('Delegate', room, { audioOnly: false });
    const delegateId = await selfId(delegate);
    const fallbacks = (): Promise<string[]> => delegate.evaluate(() => (window as unknown as { fallbacks: string[] }).fallbacks);
    const frames = async (): Promise<number> => (await audioReceipt(delegate)).videoFramesDecoded;

    await waitFor(async () => (await frames()) > 0, { timeoutMs: 30_000, what: 'the stage video decoded' });
    // The 360-line stage wants the middle layer.
    expect(videoConsumer(delegateId)?.preferredLayers?.spatialLayer).toBe(1);

    try {
      await rig.ns.shape({ rateKbit: 250 });
      await waitFor(async () => (await fallbacks()).includes('lowest'), { timeoutMs: 60_000, intervalMs: 250, what: 'the lowest layer' });
      expect(videoConsumer(delegateId)?.preferredLayers?.spatialLayer).toBe(0);
      // The lowest layer fits in 250 kbit/s: it still comes (frames decoded).
      const atLowest = await frames();
      await waitFor(async () => (await frames()) > atLowest + 10, { timeoutMs: 20_000, what: 'frames at the lowest layer' });

      await rig.ns.shape({ rateKbit: 64 });
      await waitFor(async () => (await fallbacks()).includes('off'), { timeoutMs: 60_000, intervalMs: 250, what: 'no video' });
      await waitFor(() => videoConsumer(delegateId) === undefined, { timeoutMs: 10_000, what: 'the video consumer closed' });
    } finally {
      await rig.ns.unshape();
    }

    // Recovered: a try of the lowest layer holds, then the estimate rises and the stage's layer returns.
    await waitFor(async () => (await fallbacks()).at(-1) === 'full', { timeoutMs: 90_000, intervalMs: 500, what: 'full video again' });
    const before = await frames();
    await waitFor(async () => (await frames()) > before + 10, { timeoutMs: 20_000, what: 'frames decoded again' });
    expect(videoConsumer(delegateId)?.preferredLayers?.spatialLayer).toBe(1);
    // Step by step: first the lowest layer, then none (tries of the lowest layer may come in between), then back.
    const seen = await fallbacks();
    expect(seen[0]).toBe('lowest');
    expect(seen.indexOf('off')).toBeGreaterThan(0);
  }, 240_000);
});

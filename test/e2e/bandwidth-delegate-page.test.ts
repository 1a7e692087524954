import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BandwidthRig } from '../helpers/bandwidth-rig.js';
import { catalogue, openWebPage } from '../helpers/webapp.js';
import { waitFor } from '../helpers/wait.js';

// The delegate page (the web app, dev mode's quick join) inside its own network namespace: its Connection
// panel says what the server does with its video on a narrowed link (tc tbf), in words and in the live
// region, and its audio-only switch stops the video the server sends it.

const t = catalogue('en');
let rig: BandwidthRig;

beforeAll(async () => {
  rig = await BandwidthRig.start();
}, 60_000);
afterAll(async () => {
  await rig?.close();
});

const announced = (page: Page, text: string): Promise<unknown> => page.getByTestId('live-region').filter({ hasText: text }).waitFor({ timeout: 60_000 });

function videoConsumers(participantId: string): number {
  const room = [...rig.server.rooms.all].find((r) => r.participants.has(participantId));
  return [...(room?.participants.get(participantId)?.endpoint.consumers.values() ?? [])].filter((c) => c.kind === 'video' && !c.closed).length;
}

describe('/delegate on a constrained link (network namespace)', () => {
  it('says when the video drops to the lowest quality, pauses and comes back; audio only stops the video', async () => {
    const room = `bw-page-${Date.now()}`;
    await rig.speaker('Speaker', room, { toneHz: 440, camera: true });
    const { page, problems } = await openWebPage(rig.inside, `${rig.insideUrl}/delegate`, 'en');
    await page.getByTestId('dev-join').locator('summary').click();
    await page.getByLabel(t('delegate.dev.name')).fill('Remote Delegate');
    await page.getByLabel(t('delegate.dev.room')).fill(room);
    await page.getByRole('button', { name: t('delegate.dev.join'), exact: true }).click();
    await page.getByTestId('prejoin').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: t('delegate.prejoin.join') }).click();
    await page.getByTestId('room').waitFor({ timeout: 30_000 });
    const selfId = await page.evaluate(() => (window as unknown as { plenum: { client: { self: { id: string } } } }).plenum.client.self.id);
    await waitFor(() => videoConsumers(selfId) > 0, { timeoutMs: 30_000, what: 'the stage video sent to the page' });

    const toggle = page.getByRole('button', { name: t('bandwidth.audioOnly.label'), exact: true });
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    expect(await page.getByTestId('audio-only-state').textContent()).toBe(t('bandwidth.audioOnly.stateOff'));

    const notice = page.getByTestId('video-fallback');
    try {
      await rig.ns.shape({ rateKbit: 250 });
      await notice.filter({ hasText: t('bandwidth.video.lowest') }).waitFor({ timeout: 60_000 });
      await announced(page, t('bandwidth.video.lowest'));
      await rig.ns.shape({ rateKbit: 64 });
      await page.locator('[data-testid="video-fallback"][data-state="off"]').waitFor({ timeout: 60_000 });
      expect(await notice.textContent()).toBe(t('bandwidth.video.off'));
      await announced(page, t('bandwidth.video.off'));
    } finally {
      await rig.ns.unshape();
    }
    await announced(page, t('bandwidth.video.full'));
    expect(await notice.count()).toBe(0);
    await waitFor(() => videoConsumers(selfId) > 0, { timeoutMs: 30_000, what: 'the video back' });

    await toggle.click();
    await page.locator('[data-testid="audio-only-state"][data-state="on"]').waitFor();
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByTestId('audio-only-state').textContent()).toBe(t('bandwidth.audioOnly.stateOn'));
    await announced(page, t('bandwidth.audioOnly.on'));
    await waitFor(() => videoConsumers(selfId) === 0, { timeoutMs: 10_000, what: 'no video sent to the page' });
    expect(problems).toEqual([]);
  }, 240_000);
});

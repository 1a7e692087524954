import type { Browser, Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { PeerInfo } from '../../protocol/signaling.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import type { Room } from '../../server/rooms/room.js';
import { joinedSocket, opusRtpParameters } from '../helpers/accreditation-client.js';
import { signInAndJoinPage, waitForPeak } from '../helpers/audio-pages.js';
import { artifactPath, launchChromium } from '../helpers/browser.js';
import { galleryTiles, waitForGrowingAudio, waitForStage } from '../helpers/demo-pages.js';
import { grants } from '../helpers/grants.js';
import { call } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

// A plenary in real Chromium: three delegate pages (each a pure tone as microphone, Chromium's fake camera)
// in the moderated council with 100 simulated delegates, seated on the server with a floor microphone and
// a camera each (real producers on real send transports; they send no RTP). The secretariat gives the floor
// over signaling. Each page hears and sees whoever holds the floor, and declares only its gallery page's
// cameras, which is all the server sends it (counted on the server, by producer owner).

const ROOM = 'demo-council';
const DELEGATES = 100;
const PAGE = 9; // the page's default gallery size
const TONES = { a: 440, b: 660, c: 880 };
const AMINA = { id: 'p-ke-1', label: 'Amina Odhiambo — Kenya' };
const BEATRIZ = { id: 'p-br-1', label: 'Beatriz Souza — Brazil' };

let server: MeetingServer;
let browser: Browser;
let secretariat: Socket;
const pages = {} as Record<'a' | 'b' | 'c', Page>;

const vp8RtpParameters = (ssrc: number) => ({
  codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] }],
  encodings: [{ ssrc }],
});

/** Seats `count` delegates in the room, each publishing a floor microphone and a camera (silent: no RTP). */
async function seatDelegates(room: Room, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const n = String(i).padStart(3, '0');
    const id = `delegate-${n}`;
    const p = room.join(id, grants({ room: room.id, event: DEMO_EVENT_ID, person: id, name: `Delegate ${n}`, entity: { name: `Member ${n}`, type: 'member_state' } }), room.media.rtpCapabilities, () => undefined);
    const transport = await p.endpoint.createWebRtcTransport('send');
    const mic = await p.endpoint.produce(transport.id, 'audio', opusRtpParameters(0x5000 + i), { source: 'mic', channel: 'floor' });
    room.announceProducer(p, mic);
    const camera = await p.endpoint.produce(transport.id, 'video', vp8RtpParameters(0x6000 + i), { source: 'camera', channel: 'floor' });
    room.announceProducer(p, camera);
  }
}

const room = (): Room => server.rooms.get(ROOM)!;

/** Whose producers of this kind the server holds consumers of for participant `id`, sorted. */
function heldOwners(id: string, kind: 'audio' | 'video'): string[] {
  const owner = (producerId: string) => [...room().participants.values()].find((p) => p.endpoint.producers.has(producerId))?.id ?? '?';
  return [...room().participants.get(id)!.endpoint.consumers.values()]
    .filter((c) => c.kind === kind)
    .map((c) => owner(c.producerId))
    .sort();
}

const consumerCount = (id: string): number => room().participants.get(id)!.endpoint.consumers.size;
const hasCamera = (id: string): boolean => [...room().participants.get(id)!.endpoint.producers.values()].some((p) => p.kind === 'video');

/** The delegate asks for the floor on their page; the secretariat gives it once the request is there. */
async function floorTo(page: Page, participantId: string): Promise<void> {
  await page.click('#request-floor');
  await waitFor(async () => (await call(secretariat, 'giveFloor', { participantId })).ok, { what: `the floor given to ${participantId}` });
}

beforeAll(async () => {
  server = await startTestServer({ PLENUM_DEV_MODE: 'false' });
  browser = await launchChromium();
  const join = (email: string, toneHz: number) => signInAndJoinPage(browser, server.url, email, ROOM, { toneHz });
  pages.a = await join('amina.odhiambo@demo.ke', TONES.a);
  await seatDelegates(room(), DELEGATES);
  pages.b = await join('beatriz.souza@demo.br', TONES.b);
  pages.c = await join('brian.kamau@demo.ke', TONES.c);
  secretariat = await joinedSocket(server.url, 'sofia.rossi@secretariat.example', ROOM);
}, 180_000);
afterAll(async () => {
  secretariat?.close();
  await browser?.close();
  await server?.close();
});

/** These pages hear the floor holder's tone and receive their audio, and show them on the stage with video playing. */
async function hearAndSee(listeners: Page[], tone: number, holder: { id: string; label: string }): Promise<void> {
  for (const page of listeners) {
    await waitForPeak(page, tone);
    await waitForGrowingAudio(page, holder.id);
    await waitForStage(page, holder.id, holder.label);
  }
}

describe('plenary in Chromium: 3 pages among 100 simulated delegates', () => {
  it('B and C hear A (tone, growing inbound audio) and see A on the stage while A holds the floor', async () => {
    await floorTo(pages.a, AMINA.id);
    await hearAndSee([pages.b, pages.c], TONES.a, AMINA);
    await pages.b.screenshot({ path: artifactPath('plenary-stage-amina.png') });
    // The server holds A's microphone for B and C, and no other.
    for (const id of [BEATRIZ.id, 'p-ke-2']) await expect.poll(() => heldOwners(id, 'audio'), { timeout: 10_000 }).toEqual([AMINA.id]);
  });

  it('when the floor passes to B, A and C hear and see B instead', async () => {
    await floorTo(pages.b, BEATRIZ.id);
    await hearAndSee([pages.a, pages.c], TONES.b, BEATRIZ);
    for (const id of [AMINA.id, 'p-ke-2']) await expect.poll(() => heldOwners(id, 'audio'), { timeout: 10_000 }).toEqual([BEATRIZ.id]);
  });

  it('paging B’s gallery moves the cameras the server sends B from page 1 to page 2; nobody holds more than 32 consumers', async () => {
    const total = room().participants.size;
    expect(total).toBe(DELEGATES + 4); // three pages and the secretariat
    const first = room().peersPage({ limit: PAGE });
    const second = room().peersPage({ limit: PAGE, cursor: first.nextCursor! });
    const pages_ = Math.ceil(total / PAGE);
    const shows = (peers: PeerInfo[]) => peers.map((p) => ({ peerId: p.id, label: `${p.name} — ${p.entity.name} (${p.role.replaceAll('_', ' ')})` }));
    // B holds the floor: B's stage is B's own camera, so the gallery is all the video the server sends B.
    const cameras = (peers: PeerInfo[]) => peers.filter((p) => p.id !== BEATRIZ.id && hasCamera(p.id)).map((p) => p.id).sort();

    await expect.poll(() => pages.b.textContent('#gallery-page'), { timeout: 10_000 }).toBe(`page 1 of ${pages_}`);
    await expect.poll(() => galleryTiles(pages.b), { timeout: 10_000 }).toEqual(shows(first.peers));
    await expect.poll(() => heldOwners(BEATRIZ.id, 'video'), { timeout: 10_000 }).toEqual(cameras(first.peers));

    await pages.b.getByRole('button', { name: 'Next page of participants' }).click();
    await expect.poll(() => pages.b.textContent('#gallery-page'), { timeout: 10_000 }).toBe(`page 2 of ${pages_}`);
    await expect.poll(() => galleryTiles(pages.b), { timeout: 10_000 }).toEqual(shows(second.peers));
    expect(second.peers.every((p) => p.name.startsWith('Delegate '))).toBe(true);
    await expect.poll(() => heldOwners(BEATRIZ.id, 'video'), { timeout: 10_000 }).toEqual(cameras(second.peers));
    await pages.b.screenshot({ path: artifactPath('plenary-gallery-page-2.png') });

    await pages.b.getByRole('button', { name: 'Previous page of participants' }).click();
    await expect.poll(() => heldOwners(BEATRIZ.id, 'video'), { timeout: 10_000 }).toEqual(cameras(first.peers));

    for (const id of [AMINA.id, BEATRIZ.id, 'p-ke-2']) expect(consumerCount(id)).toBeLessThanOrEqual(32);
  });
});

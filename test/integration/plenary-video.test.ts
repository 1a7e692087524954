import type { types } from 'mediasoup';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumerInfo, ProducerInfo, ServerEvents } from '../../protocol/signaling.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import type { Participant } from '../../server/rooms/participant.js';
import type { Room } from '../../server/rooms/room.js';
import { grants } from '../helpers/grants.js';
import { call, connectSignaling, devToken } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

// A plenary of 200 delegates on a real mediasoup worker: each delegate is seated in the room with a floor
// microphone and a simulcast camera (three encodings scaled down by 4, 2 and 1), real producers on a
// PlainTransport, announced the way the produce handler does. A few receivers are real socket.io clients.
// At the room's origin the server makes the receivers' consumers itself: what each one holds is counted
// on the server (its media endpoint) and checked against what its client was told (`newConsumer`,
// `consumerClosed`).

const DELEGATES = 200;
/** The bound of the issue: consumers per participant, whatever the room's size. */
const MAX_CONSUMERS = 32;
let server: MeetingServer;
const cleanup: Array<() => unknown> = [];

beforeAll(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
afterAll(async () => {
  await server?.close();
});

type NewConsumer = ServerEvents['newConsumer'];

/** A receiving client that does what the SDK does with the server's consumers, and records what it was told. */
class Receiver {
  /** What the client holds, as it was told: producer id -> the pushed consumer. */
  readonly live = new Map<string, NewConsumer>();
  readonly pushed: NewConsumer[] = [];
  readonly closed: Array<ServerEvents['consumerClosed']> = [];
  readonly speakers: Array<string | null> = [];
  readonly announced: ProducerInfo[] = [];
  /** The most consumers held at once, by the client's count and by the server's, sampled at every event. */
  maxLive = 0;
  maxServer = 0;

  private constructor(
    readonly id: string,
    readonly socket: Socket,
    readonly joinAnswer: { activeSpeaker: string | null; producers: ProducerInfo[] },
  ) {}

  static async join(roomId: string, name: string, at: MeetingServer = server): Promise<Receiver> {
    const socket = await connectSignaling(at.url, await devToken(at.url, name, roomId));
    cleanup.push(() => socket.close());
    const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
    if (!caps.ok) throw new Error(caps.error.code);
    const joined = await call<{ self: { id: string }; activeSpeaker: string | null; producers: ProducerInfo[] }>(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities });
    if (!joined.ok) throw new Error(joined.error.code);
    const r = new Receiver(joined.data.self.id, socket, joined.data);
    const serverCount = () => at.rooms.get(roomId)?.participants.get(r.id)?.endpoint.consumers.size ?? 0;
    // Listening before the receive transport exists: the server's consumers arrive right behind its answer.
    socket.on('newConsumer', (c: NewConsumer) => {
      r.pushed.push(c);
      r.live.set(c.producerId, c);
      r.maxLive = Math.max(r.maxLive, r.live.size);
      r.maxServer = Math.max(r.maxServer, serverCount());
    });
    socket.on('consumerClosed', (c: ServerEvents['consumerClosed']) => {
      r.closed.push(c);
      if (r.live.get(c.producerId)?.consumerId === c.consumerId) r.live.delete(c.producerId);
    });
    socket.on('activeSpeaker', ({ peerId }: { peerId: string | null }) => r.speakers.push(peerId));
    socket.on('newProducer', (info: ProducerInfo) => r.announced.push(info));
    expect((await call(socket, 'createWebRtcTransport', { direction: 'recv' })).ok).toBe(true);
    return r;
  }

  /** The producers whose consumers the server holds for this receiver. */
  holds(room: Room): string[] {
    return [...this.consumers(room)].map((c) => c.producerId).sort();
  }

  consumers(room: Room): types.Consumer[] {
    return [...room.participants.get(this.id)!.endpoint.consumers.values()];
  }

  /** The server holds exactly `expected` for it, and its client was told exactly that. */
  holdsExactly(room: Room, expected: string[]): boolean {
    const want = JSON.stringify([...expected].sort());
    return JSON.stringify(this.holds(room)) === want && JSON.stringify([...this.live.keys()].sort()) === want;
  }

  async setView(view: unknown) {
    return call<{ tiles: number }>(this.socket, 'setView', view);
  }
}

interface Delegate {
  participant: Participant;
  camera: types.Producer;
  /** Its floor microphone (seated with `mics`). */
  mic: types.Producer;
  /** What the server told this delegate (its notify callback). */
  told: Array<[string, unknown]>;
}

interface Plenary {
  room: Room;
  receivers: Receiver[];
  delegates: Delegate[];
}

const VP8 = { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }] };

/** A camera as the SDK sends it: three simulcast encodings, 180, 360 and 720 lines. */
function simulcastCamera(ssrc: number): types.RtpParameters {
  return {
    codecs: [VP8],
    encodings: [
      { ssrc, scaleResolutionDownBy: 4 },
      { ssrc: ssrc + 1, scaleResolutionDownBy: 2 },
      { ssrc: ssrc + 2, scaleResolutionDownBy: 1 },
    ],
  };
}

/**
 * `receiverCount` receivers join (the first opens the room), then `count` delegates are seated. Moderated
 * rooms (demo-council) seat them with microphones too: only the floor is heard there. An open floor would
 * hear the first three microphones seated for a while (a room with no more microphones than voices hears
 * them all), so its delegates publish cameras only.
 */
async function plenary(roomId: string, receiverCount: number, at: MeetingServer = server, count = DELEGATES): Promise<Plenary> {
  const receivers: Receiver[] = [];
  for (let i = 0; i < receiverCount; i++) receivers.push(await Receiver.join(roomId, `Receiver ${i}`, at));
  const room = at.rooms.get(roomId)!;
  return { room, receivers, delegates: await seatDelegates(room, count, { mics: room.floor.options.controlled }) };
}

/**
 * Seats delegates in the room, each publishing a silent floor microphone and a simulcast camera on one
 * PlainTransport. The camera is put in the delegate's endpoint as its send transport would (the room
 * finds a peer's cameras there), made consumable and announced.
 */
async function seatDelegates(room: Room, count: number, { prefix = 'delegate', mics = false, moderate = false } = {}): Promise<Delegate[]> {
  const transport = await room.media.router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
  cleanup.push(() => transport.close());
  const delegates: Delegate[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${prefix}-${String(i).padStart(3, '0')}`;
    const told: Array<[string, unknown]> = [];
    const participant = room.join(id, grants({ room: room.id, person: id, name: `Delegate ${i}`, moderate }), room.media.rtpCapabilities, (event, data) => void told.push([event, data]));
    cleanup.push(() => participant.close('LEFT'));
    const mic = mics
      ? await transport.produce({
          kind: 'audio',
          rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 0x100000 + i }] },
          appData: { channel: 'floor', source: 'mic', endpointId: id },
        })
      : undefined;
    const camera = await transport.produce({ kind: 'video', rtpParameters: simulcastCamera(0x200000 + i * 4), appData: { channel: 'floor', source: 'camera', endpointId: id } });
    // As the produce handler does: a floor microphone that may not be heard now (a moderated floor) starts paused.
    if (mic && !room.mayBeHeardOnFloor(participant)) await mic.pause();
    for (const producer of mic ? [mic, camera] : [camera]) {
      participant.endpoint.producers.set(producer.id, producer);
      producer.observer.once('close', () => participant.endpoint.producers.delete(producer.id));
      room.media.addProducer(producer);
      room.announceProducer(participant, producer);
    }
    delegates.push({ participant, camera, mic: mic!, told });
  }
  return delegates;
}

function giveFloor(room: Room, p: Participant): void {
  room.floor.request({ id: p.id, name: p.grants.name, entity: p.grants.entity.name, kind: 'speaker' });
  room.floor.give(p.id);
}

const cameras = (delegates: Delegate[]) => delegates.map((d) => d.camera.id);
const tiles = (delegates: Delegate[], width = 320, height = 180) => delegates.map((d) => ({ peerId: d.participant.id, width, height }));
const layerOf = (r: Receiver, room: Room, producer: types.Producer) => r.consumers(room).find((c) => c.producerId === producer.id)?.preferredLayers?.spatialLayer;

describe('plenary video: the stage shows the active speaker', () => {
  it('default view: each receiver holds the floor holder\'s camera (and voice) only; when the floor passes, its camera switches', async () => {
    const { room, receivers, delegates } = await plenary('demo-council', 3);
    expect(room.floor.options.controlled).toBe(true);
    const first = delegates[42]!;
    giveFloor(room, first.participant);
    await waitFor(() => receivers.every((r) => r.holdsExactly(room, [first.camera.id, first.mic.id])), { what: "every receiver to hold the floor holder's camera and microphone, and only them" });
    await waitFor(() => receivers.every((r) => r.speakers.includes(first.participant.id)), { what: 'activeSpeaker for the floor holder' });
    for (const r of receivers) {
      const video = r.pushed.find((c) => c.producerId === first.camera.id)!;
      expect(video).toMatchObject({ kind: 'video', source: 'camera', peerId: first.participant.id, channel: 'floor', paused: true });
      // The stage is 1280x720: the highest layer.
      expect(layerOf(r, room, first.camera)).toBe(2);
    }

    const next = delegates[99]!;
    giveFloor(room, next.participant);
    await waitFor(() => receivers.every((r) => r.holdsExactly(room, [next.camera.id, next.mic.id])), { what: "the stage to switch to the next floor holder's camera" });
    await waitFor(() => receivers.every((r) => r.speakers.at(-1) === next.participant.id), { what: 'activeSpeaker for the next floor holder' });
    for (const r of receivers) {
      expect(r.closed.map((c) => c.producerId)).toContain(first.camera.id);
      expect(r.pushed.map((c) => c.producerId).filter((id) => id !== first.mic.id && id !== next.mic.id)).toEqual([first.camera.id, next.camera.id]);
      expect(r.speakers).toEqual([first.participant.id, next.participant.id]);
      // Cameras are never announced to an origin's clients: the server decides who gets them.
      expect(r.announced.filter((p) => p.source === 'camera')).toEqual([]);
      expect(r.maxServer).toBeLessThanOrEqual(MAX_CONSUMERS);
    }

    // A late receiver's join answer names the active speaker and lists no camera; its stage arrives pushed.
    const late = await Receiver.join('demo-council', 'Late receiver');
    expect(late.joinAnswer.activeSpeaker).toBe(next.participant.id);
    expect(late.joinAnswer.producers.filter((p) => p.source === 'camera' || p.channel === 'floor')).toEqual([]);
    await waitFor(() => late.holdsExactly(room, [next.camera.id, next.mic.id]), { what: 'the late receiver to be given the stage' });

    // Without a stage (stage: null), the active speaker's camera goes; its voice stays.
    expect((await late.setView({ stage: null, tiles: [] })).ok).toBe(true);
    await waitFor(() => late.holdsExactly(room, [next.mic.id]), { what: 'the stage camera to close when the client shows no stage' });
  });

  it('nobody holds a moderated floor: nobody is on stage (a muted microphone is never the active speaker), and nothing is held', async () => {
    const { room, receivers, delegates } = await plenary('demo-council', 2);
    // mediasoup's active speaker detection elects one of the 200 muted microphones all the same (within an
    // interval or two of 200 ms); it must not take the stage. The floor going and coming back shows the wait was long enough.
    const holder = delegates[60]!;
    giveFloor(room, holder.participant);
    await waitFor(() => receivers.every((r) => r.holdsExactly(room, [holder.camera.id, holder.mic.id])), { what: 'the floor holder on stage' });
    room.floor.take();
    await waitFor(() => receivers.every((r) => r.speakers.at(-1) === null), { what: 'activeSpeaker null once the floor is taken' });
    await waitFor(() => receivers.every((r) => r.holdsExactly(room, [])), { what: 'the stage to empty when the floor is taken' });
    expect(room.activeSpeaker).toBeNull();
    for (const r of receivers) {
      expect(r.speakers).toEqual([holder.participant.id, null]);
      expect(r.pushed.filter((c) => c.kind === 'video').map((c) => c.peerId)).toEqual([holder.participant.id]);
    }
    const late = await Receiver.join('demo-council', 'Late receiver');
    expect(late.joinAnswer.activeSpeaker).toBeNull();
  });
});

describe('plenary video: the gallery shows the tiles a client renders', () => {
  it('a page of 20 tiles is held with the stage; paging closes the 20 old cameras and pushes the 20 new ones, never more than 32', async () => {
    const { room, receivers, delegates } = await plenary('demo-council', 2);
    const [viewer, other] = receivers as [Receiver, Receiver];
    const holder = delegates[150]!;
    giveFloor(room, holder.participant);
    const stage = [holder.camera.id, holder.mic.id];
    await waitFor(() => receivers.every((r) => r.holdsExactly(room, stage)), { what: 'the stage' });

    const page1 = delegates.slice(0, 20);
    const page2 = delegates.slice(20, 40);
    expect(await viewer.setView({ stage: { width: 1280, height: 720 }, tiles: tiles(page1) })).toEqual({ ok: true, data: { tiles: 20 } });
    await waitFor(() => viewer.holdsExactly(room, [...cameras(page1), ...stage]), { what: 'the 20 cameras of page 1 and the stage' });
    expect(viewer.consumers(room).length).toBe(22);
    // Only the viewer's screen changed.
    expect(other.holdsExactly(room, stage)).toBe(true);

    const pushedBefore = viewer.pushed.length;
    const closedBefore = viewer.closed.length;
    expect((await viewer.setView({ stage: { width: 1280, height: 720 }, tiles: tiles(page2) })).ok).toBe(true);
    await waitFor(() => viewer.holdsExactly(room, [...cameras(page2), ...stage]), { what: 'the 20 cameras of page 2 and the stage' });
    expect(viewer.closed.slice(closedBefore).map((c) => c.producerId).sort()).toEqual(cameras(page1).sort());
    const newlyPushed = viewer.pushed.slice(pushedBefore);
    expect(newlyPushed.map((c) => c.producerId).sort()).toEqual(cameras(page2).sort());
    expect(newlyPushed.every((c) => c.kind === 'video' && c.paused && page2.some((d) => d.participant.id === c.peerId))).toBe(true);
    // The old page closes before the new one is made: never both at once (42 would be past the bound).
    expect(viewer.maxLive).toBeLessThanOrEqual(MAX_CONSUMERS);
    expect(viewer.maxServer).toBeLessThanOrEqual(MAX_CONSUMERS);
    expect(viewer.maxLive).toBe(22);
    expect(other.holdsExactly(room, stage)).toBe(true);

    // The stage's speaker in a tile too: one consumer, at the larger of the two sizes.
    expect((await viewer.setView({ stage: { width: 1280, height: 720 }, tiles: tiles([holder], 160, 90) })).ok).toBe(true);
    await waitFor(() => viewer.holdsExactly(room, stage), { what: 'the gallery to shrink to the stage speaker' });
    expect(layerOf(viewer, room, holder.camera)).toBe(2);
  });

  it('every receiver, each with a full page of 25 tiles, the stage, the voices: at most 32 consumers each, whatever N', async () => {
    const { room, receivers, delegates } = await plenary('demo-council', 4);
    const holder = delegates[199]!;
    giveFloor(room, holder.participant);
    // A chair is heard beside the floor holder on a moderated floor: two voices.
    const [chair] = await seatDelegates(room, 1, { prefix: 'chair', mics: true, moderate: true });
    const pages = receivers.map((_, i) => delegates.slice(i * 25, i * 25 + 25));
    for (const [i, r] of receivers.entries()) expect((await r.setView({ stage: { width: 1280, height: 720 }, tiles: tiles(pages[i]!) })).ok).toBe(true);
    await waitFor(
      () => receivers.every((r, i) => r.holdsExactly(room, [...cameras(pages[i]!), holder.camera.id, holder.mic.id, chair!.mic.id])),
      { what: 'every receiver to hold its 25 tiles, the stage and the two voices' },
    );
    for (const r of receivers) {
      expect(r.consumers(room).length).toBe(28);
      expect(r.maxServer).toBeLessThanOrEqual(MAX_CONSUMERS);
      expect(r.maxLive).toBeLessThanOrEqual(MAX_CONSUMERS);
    }
    // The room holds 200 cameras; the seated delegates (no receive transport) hold nothing.
    expect(room.participants.size).toBe(receivers.length + DELEGATES + 1);
    for (const d of delegates) expect(d.participant.endpoint.consumers.size).toBe(0);
  });

  it('the tile\'s size picks the simulcast layer: 160x90 gets layer 0, 640x360 layer 1, 1280x720 layer 2; a resize moves it', async () => {
    const { room, receivers, delegates } = await plenary('plenary-layers', 3);
    const [small, medium, large] = receivers as [Receiver, Receiver, Receiver];
    const shown = delegates.slice(10, 14);
    expect((await small.setView({ stage: null, tiles: tiles(shown, 160, 90) })).ok).toBe(true);
    expect((await medium.setView({ stage: null, tiles: tiles(shown, 640, 360) })).ok).toBe(true);
    expect((await large.setView({ stage: null, tiles: tiles(shown, 1280, 720) })).ok).toBe(true);
    await waitFor(() => receivers.every((r) => r.holdsExactly(room, cameras(shown))), { what: 'each receiver to hold the four tiles' });
    for (const d of shown) {
      expect(layerOf(small, room, d.camera)).toBe(0);
      expect(layerOf(medium, room, d.camera)).toBe(1);
      expect(layerOf(large, room, d.camera)).toBe(2);
    }
    // The small tiles grow: the same consumers move up a layer, none is closed or made anew.
    const pushed = small.pushed.length;
    expect((await small.setView({ stage: null, tiles: tiles(shown, 1280, 720) })).ok).toBe(true);
    await waitFor(() => shown.every((d) => layerOf(small, room, d.camera) === 2), { what: 'the grown tiles to get layer 2' });
    expect(small.pushed.length).toBe(pushed);
    expect(small.closed).toEqual([]);
  });
});

describe('plenary video: dynacast tells a publisher the highest layer anyone receives', () => {
  it('a publisher through signaling: -1 while nobody shows it, 0 for a small tile, 2 for a large one, and back as they go', async () => {
    const { room, receivers } = await plenary('plenary-dynacast', 2, server, DELEGATES);
    const [a, b] = receivers as [Receiver, Receiver];
    // A delegate publishes a simulcast camera through signaling, as the SDK does.
    const socket = await connectSignaling(server.url, await devToken(server.url, 'Publisher', 'plenary-dynacast'));
    cleanup.push(() => socket.close());
    const layers: number[] = [];
    let cameraId = '';
    socket.on('publisherLayers', ({ producerId, spatialLayer }: ServerEvents['publisherLayers']) => {
      if (producerId === cameraId) layers.push(spatialLayer);
    });
    const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
    const joined = await call<{ self: { id: string } }>(socket, 'join', { rtpCapabilities: caps.ok && caps.data.rtpCapabilities });
    expect(joined.ok).toBe(true);
    const publisherId = joined.ok ? joined.data.self.id : '';
    const send = await call<{ id: string }>(socket, 'createWebRtcTransport', { direction: 'send' });
    expect(send.ok).toBe(true);
    const produced = await call<{ producerId: string }>(socket, 'produce', {
      transportId: send.ok && send.data.id,
      kind: 'video',
      rtpParameters: simulcastCamera(0x300000),
      source: 'camera',
      channel: 'floor',
    });
    expect(produced.ok).toBe(true);
    cameraId = produced.ok ? produced.data.producerId : '';
    const last = () => layers.at(-1);

    await waitFor(() => last() === -1, { what: 'publisherLayers -1: nobody shows the new camera' });
    expect((await a.setView({ stage: null, tiles: [{ peerId: publisherId, width: 160, height: 90 }] })).ok).toBe(true);
    await waitFor(() => last() === 0, { what: 'publisherLayers 0: one small tile shows it' });
    expect(a.holdsExactly(room, [cameraId])).toBe(true);
    expect((await b.setView({ stage: null, tiles: [{ peerId: publisherId, width: 1280, height: 720 }] })).ok).toBe(true);
    await waitFor(() => last() === 2, { what: 'publisherLayers 2: a large tile shows it' });
    // The large tile goes: the highest that anyone receives is the small one's again.
    expect((await b.setView({ stage: null, tiles: [] })).ok).toBe(true);
    await waitFor(() => last() === 0, { what: 'publisherLayers back to 0' });
    // The last viewer leaves the room: nobody receives it.
    a.socket.close();
    await waitFor(() => last() === -1, { what: 'publisherLayers -1 once its last viewer left' });
    // Told only when the figure moved.
    expect(layers).toEqual([-1, 0, 2, 0, -1]);
  });

  it('a seated delegate is told too (the room\'s notify): its camera on stage is received whole', async () => {
    const { room, delegates } = await plenary('demo-council', 2);
    const d = delegates[7]!;
    const told = () => d.told.filter(([event, data]) => event === 'publisherLayers' && (data as { producerId: string }).producerId === d.camera.id).map(([, data]) => (data as { spatialLayer: number }).spatialLayer);
    await waitFor(() => told().at(-1) === -1, { what: 'publisherLayers -1 for an unseen camera' });
    giveFloor(room, d.participant);
    await waitFor(() => told().at(-1) === 2, { what: 'publisherLayers 2 for the stage camera' });
    // A camera nobody shows was told -1 once and nothing since.
    expect(delegates[8]!.told.filter(([event]) => event === 'publisherLayers').map(([, data]) => data)).toEqual([{ producerId: delegates[8]!.camera.id, spatialLayer: -1 }]);
  });
});

describe('plenary video: the server selects, the client only says what it shows', () => {
  it('consume of a camera is refused with SERVER_SELECTED; a bad view is refused with BAD_REQUEST and changes nothing', async () => {
    const { room, receivers, delegates } = await plenary('plenary-refusals', 1);
    const [r] = receivers as [Receiver];
    const page = delegates.slice(0, 5);
    expect((await r.setView({ tiles: tiles(page) })).ok).toBe(true);
    await waitFor(() => r.holdsExactly(room, cameras(page)), { what: 'the five tiles' });
    for (const cam of [delegates[0]!.camera, delegates[100]!.camera]) {
      const answer = await call(r.socket, 'consume', { producerId: cam.id });
      expect(answer).toMatchObject({ ok: false, error: { code: 'SERVER_SELECTED' } });
    }

    const refusals = [
      { tiles: tiles(delegates.slice(0, 26)) }, // one tile past the bound
      { tiles: [...tiles(delegates.slice(0, 3)), ...tiles(delegates.slice(1, 2))] }, // one peer twice
      { tiles: [{ peerId: delegates[0]!.participant.id, width: -1, height: 90 }] },
      { tiles: [{ peerId: delegates[0]!.participant.id, width: 160, height: 90, extra: true }] },
      { stage: { width: 1280 }, tiles: [] },
    ];
    for (const view of refusals) {
      const answer = await r.setView(view);
      expect(answer.ok).toBe(false);
      if (!answer.ok) {
        expect(answer.error.code).toBe('BAD_REQUEST');
        expect(answer.error.message).not.toMatch(/\n\s+at /); // no stack
      }
    }
    // The previous view stands.
    expect(r.holdsExactly(room, cameras(page))).toBe(true);
    expect(r.consumers(room).length).toBe(5);
  });

  it('views sent in a loop are applied at most every 150 ms, the newest winning: they cannot churn consumers', async () => {
    const { room, receivers, delegates } = await plenary('plenary-churn', 1);
    const [r] = receivers as [Receiver];
    const pages = [delegates.slice(0, 20), delegates.slice(20, 40)];
    // 60 views as fast as the socket takes them, alternating two pages of 20 (the server may handle parallel
    // requests in any order), then one more, answered after all of them: page 2.
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => r.setView({ stage: null, tiles: tiles(pages[i % 2]!) })));
    expect(answers.every((a) => a.ok)).toBe(true);
    expect((await r.setView({ stage: null, tiles: tiles(pages[1]!) })).ok).toBe(true);
    await waitFor(() => r.holdsExactly(room, cameras(pages[1]!)), { what: "the last view's cameras, and only them" });
    // Applying each view would have pushed 20 consumers 60 times; a few applications push a few pages.
    expect(r.pushed.filter((c) => c.kind === 'video').length).toBeLessThanOrEqual(20 * 6);
  });

  it('a tile of an unknown peer, or of a peer in another room, is simply not shown; the answer does not tell them apart', async () => {
    const { room, receivers, delegates } = await plenary('plenary-strangers', 1);
    const [r] = receivers as [Receiver];
    // A delegate with a camera in another room.
    const otherRoomReceiver = await Receiver.join('plenary-elsewhere', 'Elsewhere receiver');
    const [outsider] = await seatDelegates(server.rooms.get('plenary-elsewhere')!, 1, { prefix: 'outsider' });
    const known = delegates[3]!;
    const view = {
      stage: null,
      tiles: [
        { peerId: known.participant.id, width: 320, height: 180 },
        { peerId: 'nobody-at-all', width: 320, height: 180 },
        { peerId: outsider!.participant.id, width: 320, height: 180 },
        { peerId: 'latecomer-000', width: 320, height: 180 }, // not here yet
      ],
    };
    expect(await r.setView(view)).toEqual({ ok: true, data: { tiles: 4 } });
    await waitFor(() => r.holdsExactly(room, [known.camera.id]), { what: 'the known tile only' });
    expect(r.pushed.map((c) => c.producerId)).toEqual([known.camera.id]);
    const consume = await call(r.socket, 'consume', { producerId: outsider!.camera.id });
    expect(consume).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    // The other room's receiver is untouched by it.
    expect(otherRoomReceiver.pushed).toEqual([]);
    expect(outsider!.participant.endpoint.consumers.size).toBe(0);

    // The view stands: a peer named in it who arrives later is shown as soon as their camera is up.
    const [late] = await seatDelegates(room, 1, { prefix: 'latecomer' });
    expect(late!.participant.id).toBe('latecomer-000');
    await waitFor(() => r.holdsExactly(room, [known.camera.id, late!.camera.id]), { what: "the latecomer's tile" });
  });
});

describe('plenary video: PLENUM_FORWARDING=all keeps the earlier behaviour', () => {
  it('cameras are announced with newProducer, listed in the join answer and consumable by the client', async () => {
    const all = await startTestServer({ PLENUM_FORWARDING: 'all' });
    cleanup.push(() => all.close());
    const { room, receivers, delegates } = await plenary('demo-council', 2, all, 20);
    for (const r of receivers) {
      await waitFor(() => cameras(delegates).every((id) => r.announced.some((p) => p.producerId === id)), { what: 'newProducer for all 20 cameras' });
      expect(r.pushed).toEqual([]);
    }
    const [r] = receivers as [Receiver];
    for (const d of delegates) {
      const answer = await call<ConsumerInfo>(r.socket, 'consume', { producerId: d.camera.id });
      expect(answer).toMatchObject({ ok: true, data: { producerId: d.camera.id, kind: 'video', source: 'camera', peerId: d.participant.id } });
    }
    expect(r.holds(room)).toEqual(cameras(delegates).sort());
    const late = await Receiver.join('demo-council', 'Late receiver', all);
    expect(late.joinAnswer.producers.filter((p) => p.source === 'camera').map((p) => p.producerId).sort()).toEqual(cameras(delegates).sort());
  });
});

import type { types } from 'mediasoup';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProducerInfo } from '../../protocol/signaling.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import type { Participant } from '../../server/rooms/participant.js';
import type { Room } from '../../server/rooms/room.js';
import { requestJoinAs } from '../helpers/accreditation-client.js';
import { grants } from '../helpers/grants.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { clusterNodeEnv } from '../helpers/cluster-env.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { RtpInjector } from '../helpers/rtp.js';
import { call, connectFollowing, connectSignaling, devToken } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

// A plenary of 200 delegates on a real mediasoup worker: each delegate is seated in the room and publishes
// a floor microphone (server-side RTP injection, real producers announced the way the produce handler does);
// five receivers are real socket.io clients. At the room's origin the server makes their consumers itself
// (`newConsumer`); on an edge they consume what they are told about, as the SDK does. What each receiver
// holds is counted on the server, from its media endpoint.

const DELEGATES = 200;
let server: MeetingServer;
const cleanup: Array<() => unknown> = [];

beforeAll(async () => {
  // A short hold keeps the open-floor switch quick; the selection's logic is the same as with the default.
  server = await startTestServer({ PLENUM_VOICE_HOLD_MS: '600' });
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
afterAll(async () => {
  await server?.close();
});

/** A receiving client: takes the consumers the server pushes, consumes what it is told about, forgets what is hidden. */
class Receiver {
  readonly refusals: string[] = [];
  /** Producers hidden from it (an edge's listeners) or whose pushed consumer the server closed (the origin's). */
  readonly hidden: string[] = [];
  /** Producers it was told about (`newProducer`) or given a consumer of (`newConsumer`). */
  readonly announced: string[] = [];

  private constructor(
    readonly id: string,
    readonly socket: Socket,
  ) {}

  static async join(roomId: string, name: string, at: MeetingServer = server): Promise<Receiver> {
    const socket = await connectSignaling(at.url, await devToken(at.url, name, roomId));
    return Receiver.joinWith(socket);
  }

  static async joinWith(socket: Socket): Promise<Receiver> {
    cleanup.push(() => socket.close());
    const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
    if (!caps.ok) throw new Error(caps.error.code);
    const joined = await call<{ self: { id: string }; producers: ProducerInfo[] }>(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities });
    if (!joined.ok) throw new Error(joined.error.code);
    const r = new Receiver(joined.data.self.id, socket);
    // An announcement may land just as the test closes the socket: that consume's rejection is expected.
    socket.on('newProducer', (info: ProducerInfo) => void r.consume(info.producerId).catch(() => undefined));
    socket.on('producerHidden', ({ producerId }: { producerId: string }) => r.hidden.push(producerId));
    // Listening before the receive transport exists: the server's consumers may arrive right behind its answer.
    socket.on('newConsumer', ({ producerId }: { producerId: string }) => r.announced.push(producerId));
    socket.on('consumerClosed', ({ producerId }: { producerId: string }) => r.hidden.push(producerId));
    expect((await call(socket, 'createWebRtcTransport', { direction: 'recv' })).ok).toBe(true);
    for (const p of joined.data.producers) await r.consume(p.producerId);
    return r;
  }

  async consume(producerId: string): Promise<string> {
    this.announced.push(producerId);
    const answer = await call(this.socket, 'consume', { producerId });
    if (answer.ok) return 'ok';
    this.refusals.push(answer.error.code);
    return answer.error.code;
  }

  /** The floor microphones this receiver holds a consumer of, counted on the server. */
  holds(room: Room): string[] {
    return [...room.participants.get(this.id)!.endpoint.consumers.values()].map((c) => c.producerId).sort();
  }
}

interface Plenary {
  room: Room;
  receivers: Receiver[];
  delegates: Participant[];
  /** Delegate i's floor microphone. */
  mics: types.Producer[];
  talkers: RtpInjector[];
}

/**
 * Five receivers join (the first creates the room), then 200 delegates are seated, each with a floor
 * microphone: `talkers` of them send RTP with an audio level (-dBov, distinct), the others are silent.
 */
async function plenary(roomId: string, talkerLevels: number[] = [], at: MeetingServer = server, delegateCount = DELEGATES): Promise<Plenary> {
  const receivers: Receiver[] = [];
  for (let i = 0; i < 5; i++) receivers.push(await Receiver.join(roomId, `Receiver ${i}`, at));
  const room = at.rooms.get(roomId)!;
  const pl = { room, receivers, delegates: [] as Participant[], mics: [] as types.Producer[], talkers: [] as RtpInjector[] };
  await seatDelegates(pl, delegateCount, talkerLevels);
  return pl;
}

/** Seats `count` delegates in the room, each publishing a floor microphone. */
async function seatDelegates(pl: Plenary, count: number, talkerLevels: number[] = []): Promise<void> {
  const { room, delegates, mics, talkers } = pl;
  const roomId = room.id;
  const silent = await room.media.router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
  cleanup.push(() => silent.close());
  for (let i = 0; i < count; i++) {
    const id = `delegate-${String(i).padStart(3, '0')}`;
    const p = room.join(id, grants({ room: roomId, person: id, name: `Delegate ${i}` }), room.media.rtpCapabilities, () => undefined);
    cleanup.push(() => p.close('LEFT'));
    delegates.push(p);
    const appData = { channel: 'floor', source: 'mic', endpointId: id };
    let mic: types.Producer;
    if (i < talkerLevels.length) {
      const talker = await RtpInjector.create(room.media.router, 0x1000 + i, appData, { audioLevel: talkerLevels[i] });
      cleanup.push(() => talker.close());
      talkers.push(talker);
      mic = talker.producer;
    } else {
      mic = await silent.produce({ kind: 'audio', rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 0x5000 + i }] }, appData });
    }
    room.media.addProducer(mic);
    room.announceProducer(p, mic);
    mics.push(mic);
  }
}

function giveFloor(room: Room, p: Participant): void {
  room.floor.request({ id: p.id, name: p.grants.name, entity: p.grants.entity.name, kind: 'speaker' });
  room.floor.give(p.id);
}

const everyoneHolds = (pl: Plenary, expected: string[]) => () => pl.receivers.every((r) => JSON.stringify(r.holds(pl.room)) === JSON.stringify([...expected].sort()));

describe('plenary audio: receivers get only the floor microphones they may hear', () => {
  it('moderated floor: every receiver holds exactly the floor holder; when the floor passes, the consumers switch', async () => {
    const pl = await plenary('demo-council');
    const { room, receivers, delegates, mics } = pl;
    expect(room.floor.options.controlled).toBe(true);
    // Nobody holds the floor: nothing was pushed, nothing is consumed, and asking is refused.
    expect(room.audio.audibleIds()).toEqual([]);
    for (const r of receivers) expect(r.holds(room)).toEqual([]);
    expect(await receivers[0]!.consume(mics[7]!.id)).toBe('NOT_AUDIBLE');

    const holder = delegates[42]!;
    giveFloor(room, holder);
    await waitFor(everyoneHolds(pl, [mics[42]!.id]), { what: "every receiver to hold the floor holder's microphone, and only it" });

    // The floor passes to delegate 99: delegate 42's consumers close (receivers are told), 99's are pushed.
    const next = delegates[99]!;
    giveFloor(room, next);
    await waitFor(everyoneHolds(pl, [mics[99]!.id]), { what: 'the consumers to switch to the next speaker' });
    // What the server holds is checked there; what each client was told arrives over its socket, after.
    await waitFor(() => receivers.every((r) => r.announced.includes(mics[99]!.id) && r.hidden.includes(mics[42]!.id)), { what: 'every receiver to be told of the switch' });
    for (const r of receivers) {
      expect(r.hidden).toContain(mics[42]!.id);
      expect(r.announced.filter((id) => id !== mics[7]!.id)).toEqual([mics[42]!.id, mics[99]!.id]);
      // The only refusal is the test's own request above.
      expect(r.refusals).toEqual(r === receivers[0] ? ['NOT_AUDIBLE'] : []);
    }
    expect(await receivers[1]!.consume(mics[42]!.id)).toBe('NOT_AUDIBLE');
    // An audible one is not the client's to consume either: the server already gave it one.
    expect(await receivers[1]!.consume(mics[99]!.id)).toBe('SERVER_SELECTED');

    // A participant who conducts (the chair) is heard beside the floor holder; a new receiver's join answer lists both, and only them.
    const chairId = 'chair-1';
    const chair = room.join(chairId, grants({ room: 'demo-council', person: chairId, name: 'Chair', role: 'chair', moderate: true }), room.media.rtpCapabilities, () => undefined);
    cleanup.push(() => chair.close('LEFT'));
    const chairMic = await RtpInjector.create(room.media.router, 0x9999, { channel: 'floor', source: 'mic', endpointId: chairId });
    cleanup.push(() => chairMic.close());
    room.media.addProducer(chairMic.producer);
    room.announceProducer(chair, chairMic.producer);
    await waitFor(everyoneHolds(pl, [mics[99]!.id, chairMic.producer.id]), { what: 'receivers to hold the chair and the floor holder' });
    const late = await Receiver.join('demo-council', 'Late receiver');
    // Its receive transport brings it the two voices, and only them.
    await waitFor(() => late.announced.length >= 2, { what: 'the late receiver to be given the voices' });
    expect(late.announced.sort()).toEqual([mics[99]!.id, chairMic.producer.id].sort());
    expect(late.holds(room)).toEqual([mics[99]!.id, chairMic.producer.id].sort());

    // Taking the floor back leaves the chair only.
    room.floor.take();
    await waitFor(everyoneHolds(pl, [chairMic.producer.id]), { what: "the floor holder's consumers to close" });
  });

  it("moderated floor: the next speaker's microphone is consumed ahead (its producer paused), and the floor passing reuses that consumer", async () => {
    const pl = await plenary('demo-council');
    const { room, receivers, delegates, mics } = pl;
    giveFloor(room, delegates[10]!);
    const next = delegates[11]!;
    // As the produce handler leaves it on a moderated floor (this test seats delegates without it): paused.
    await mics[11]!.pause();
    room.floor.request({ id: next.id, name: next.grants.name, entity: next.grants.entity.name, kind: 'speaker' });
    // Everyone holds the floor holder and, ahead, the next speaker, whose producer stays paused: nothing of it is heard.
    await waitFor(everyoneHolds(pl, [mics[10]!.id, mics[11]!.id]), { what: "every receiver to hold the holder's and the next speaker's microphones" });
    expect(mics[11]!.paused).toBe(true);
    const ahead = receivers.map((r) => [...room.participants.get(r.id)!.endpoint.consumers.values()].find((c) => c.producerId === mics[11]!.id)!.id);
    // The floor passes: the same consumers carry the new speaker (giving the floor resumes its producer); 10's close.
    room.floor.give(next.id);
    await waitFor(everyoneHolds(pl, [mics[11]!.id]), { what: "the previous holder's consumers to close" });
    expect(receivers.map((r) => [...room.participants.get(r.id)!.endpoint.consumers.values()].find((c) => c.producerId === mics[11]!.id)!.id)).toEqual(ahead);
    // Withdrawn from the list before their turn: the consumers made ahead go.
    const third = delegates[12]!;
    await mics[12]!.pause();
    room.floor.request({ id: third.id, name: third.grants.name, entity: third.grants.entity.name, kind: 'speaker' });
    await waitFor(everyoneHolds(pl, [mics[11]!.id, mics[12]!.id]), { what: 'the next speaker to be held ahead' });
    room.floor.withdraw(third.id);
    await waitFor(everyoneHolds(pl, [mics[11]!.id]), { what: 'the withdrawn speaker to be dropped' });
  });

  it('open floor: the three loudest of 200 are heard, a quieter fourth is not; a louder newcomer replaces a voice that stopped', async () => {
    // Levels in -dBov: delegate 0 is the loudest (-10 dBov), delegate 3 the quietest of the four talkers.
    const pl = await plenary('plenary-open', [10, 20, 30, 45]);
    const { room, receivers, mics, talkers } = pl;
    expect(room.floor.options.controlled).toBe(false);
    for (const t of talkers) t.start();
    const loudest = [mics[0]!.id, mics[1]!.id, mics[2]!.id];
    await waitFor(everyoneHolds(pl, loudest), { timeoutMs: 20_000, what: 'every receiver to hold the three loudest, and only them' });
    expect([...room.audio.audibleIds()].sort()).toEqual([...loudest].sort());

    // The fourth talker and the silent delegates are not audible: pushed to nobody, and a consume is refused.
    for (const r of receivers) expect(r.announced).not.toContain(mics[3]!.id);
    expect(await receivers[2]!.consume(mics[3]!.id)).toBe('NOT_AUDIBLE');
    expect(await receivers[2]!.consume(mics[150]!.id)).toBe('NOT_AUDIBLE');
    for (const r of receivers) expect(r.holds(room).length).toBeLessThanOrEqual(3);

    // Delegate 0 stops talking and delegate 3 speaks up: after the hold, 3 is heard instead of 0.
    talkers[0]!.stop();
    talkers[3]!.level = 5;
    await waitFor(everyoneHolds(pl, [mics[1]!.id, mics[2]!.id, mics[3]!.id]), { timeoutMs: 20_000, what: 'the consumers to follow the voices' });
    for (const r of receivers) expect(r.hidden).toContain(mics[0]!.id);
    expect(await receivers[0]!.consume(mics[0]!.id)).toBe('NOT_AUDIBLE');
    // Consumers per receiver stayed bounded by the voices, whatever the number of publishers.
    for (const r of receivers) expect(r.holds(room).length).toBe(3);
    expect(room.participants.size).toBe(DELEGATES + receivers.length);
  });

  it('a floor microphone closing while audible is closed for receivers; a hidden one closing costs them nothing', async () => {
    const pl = await plenary('demo-council');
    const { room, receivers, delegates, mics } = pl;
    const holder = delegates[5]!;
    giveFloor(room, holder);
    await waitFor(everyoneHolds(pl, [mics[5]!.id]), { what: 'the floor holder to be held' });
    const events: string[] = [];
    receivers[0]!.socket.on('producerClosed', ({ producerId }: { producerId: string }) => events.push(producerId));
    mics[6]!.close(); // hidden: nobody was told about it
    mics[5]!.close();
    await waitFor(everyoneHolds(pl, []), { what: 'the consumers of the closed microphone to close' });
    await waitFor(() => events.includes(mics[5]!.id), { what: 'producerClosed for the audible microphone' });
    expect(events).not.toContain(mics[6]!.id);
  });
});

describe('plenary audio: PLENUM_FORWARDING=all keeps the earlier behaviour', () => {
  it('every receiver is told about, and may consume, every floor microphone, heard or not', async () => {
    const all = await startTestServer({ PLENUM_FORWARDING: 'all' });
    cleanup.push(() => all.close());
    const pl = await plenary('demo-council', [], all, 20);
    giveFloor(pl.room, pl.delegates[3]!);
    await waitFor(everyoneHolds(pl, pl.mics.map((m) => m.id)), { what: 'every receiver to hold all 20 microphones' });
    for (const r of pl.receivers) expect(r.refusals).toEqual([]);
  });
});

describe('plenary audio: listeners on an edge node follow the origin\'s audible set', () => {
  it('a moderated floor on the origin: the edge listener is told only of the floor holder, and switches with it', async () => {
    const redis = await RedisProcess.start();
    const postgres = await PostgresProcess.start();
    cleanup.push(() => redis.kill(), () => postgres.stop());
    const nodes: MeetingServer[] = [];
    for (const id of ['audio-a', 'audio-b']) {
      const node = await startTestServer(clusterNodeEnv(id, { redisUrl: redis.url, databaseUrl: postgres.url }, { PLENUM_CASCADE_AFTER_LISTENERS: '0' }));
      nodes.push(node);
      cleanup.push(() => node.close());
    }
    await waitFor(async () => (await nodes[0]!.membership.coordinator.liveNodes()).length === 2, { what: 'two live nodes' });
    const connect = async (email: string) => {
      const answer = await requestJoinAs(nodes[0]!.url, email, 'demo-council');
      expect(answer.status).toBe(200);
      return connectFollowing(nodes[0]!.url, answer.body.joinToken);
    };
    // A delegate opens the room on its origin; 30 more delegates are seated there with microphones.
    const amina = await connect('amina.odhiambo@demo.ke');
    const origin = nodes.find((n) => n.url === amina.url)!;
    const delegateReceiver = await Receiver.joinWith(amina.socket);
    const pl: Plenary = { room: origin.rooms.get('demo-council')!, receivers: [delegateReceiver], delegates: [], mics: [], talkers: [] };
    await seatDelegates(pl, 30);
    giveFloor(pl.room, pl.delegates[10]!);

    // A listener is sent to the other node, which serves the room as an edge.
    const omar = await connect('omar.haddad@openaccess.example');
    expect(omar.url).not.toBe(origin.url);
    const edge = nodes.find((n) => n.url === omar.url)!;
    const listener = await Receiver.joinWith(omar.socket);
    const edgeRoom = edge.rooms.get('demo-council')!;
    expect(edgeRoom.isEdge).toBe(true);
    const listenerHolds = (expected: string[]) => () => JSON.stringify(listener.holds(edgeRoom)) === JSON.stringify([...expected].sort());
    await waitFor(listenerHolds([pl.mics[10]!.id]), { what: "the edge listener to hold the floor holder's microphone only" });
    expect(listener.announced).toEqual([pl.mics[10]!.id]);

    // The floor passes on the origin: the edge listener's consumer of the old speaker closes, the new one is announced.
    giveFloor(pl.room, pl.delegates[20]!);
    await waitFor(listenerHolds([pl.mics[20]!.id]), { what: 'the edge listener to follow the floor' });
    await waitFor(() => listener.hidden.includes(pl.mics[10]!.id), { what: 'producerHidden relayed to the edge listener' });
    expect(await listener.consume(pl.mics[10]!.id)).toBe('NOT_AUDIBLE');
    expect(listener.announced.filter((id) => id !== pl.mics[10]!.id)).toEqual([pl.mics[20]!.id]);
    expect(delegateReceiver.holds(pl.room)).toEqual([pl.mics[20]!.id]);
  });
});

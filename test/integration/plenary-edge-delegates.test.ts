import type { types } from 'mediasoup';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { CascadeEdge } from '../../server/cascade/cascade-edge.js';
import { BusRequestError } from '../../server/cluster/cluster-bus.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import type { Room } from '../../server/rooms/room.js';
import { requestJoinAs, tryProduce } from '../helpers/accreditation-client.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { clusterNodeEnv } from '../helpers/cluster-env.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { AUDIO_LEVEL_EXT_ID, OPUS_PT, rtpPacketWithAudioLevel, RtpSink } from '../helpers/rtp.js';
import { call, connectFollowing } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { createSocket } from 'node:dgram';

// Active participants on edge nodes. Two real server nodes (in this process, each with its own mediasoup
// worker) on one real redis-server and postgres. The origin seats one delegate itself
// (PLENUM_CASCADE_AFTER_DELEGATES=1); the next ones are sent to the other node, which serves them as an edge:
// their media stays there, their producers are piped up to the origin, and their floor requests are
// forwarded. Node has no WebRTC: the edge delegate's send transport is a PlainTransport put in the place of
// a browser's (MediaEndpoint.adoptTransport), its producer is created through signaling as a browser's is,
// and real RTP with audio levels is sent into it.

const ROOM = 'demo-council'; // a moderated floor
const ADMIN_KEY = 'admin-api-key-for-edge-delegates-0123456789';
const CHAIR = 'kwame.mensah@demo.gh';
const AMINA = 'amina.odhiambo@demo.ke';
const BEATRIZ = 'beatriz.souza@demo.br';
const BRIAN = 'brian.kamau@demo.ke';
const CAMILLE = 'camille.durand@demo.fr';

let redis: RedisProcess;
let postgres: PostgresProcess | undefined;
const nodes: MeetingServer[] = [];
const sockets: Socket[] = [];

type Event = { event: string; data: Record<string, unknown> };
function record(socket: Socket): Event[] {
  const events: Event[] = [];
  socket.onAny((event: string, data: Record<string, unknown>) => events.push({ event, data }));
  return events;
}

const nodeAt = (url: string): MeetingServer => nodes.find((n) => n.url === url)!;
const nodeIdOf = (n: MeetingServer): string => n.membership.coordinator.nodeId;

async function connectAs(email: string, startAt: string): Promise<{ socket: Socket; url: string; redirects: string[]; events: Event[] }> {
  const answer = await requestJoinAs(startAt, email, ROOM);
  expect(answer.status).toBe(200);
  const connected = await connectFollowing(startAt, answer.body.joinToken);
  sockets.push(connected.socket);
  return { ...connected, events: record(connected.socket) };
}

async function join(socket: Socket): Promise<Record<string, unknown>> {
  const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
  if (!caps.ok) throw new Error(caps.error.code);
  const joined = await call<Record<string, unknown>>(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities });
  if (!joined.ok) throw new Error(joined.error.code);
  return joined.data;
}

/** A talker in a browser's place: a PlainTransport adopted as the delegate's send transport, fed real RTP. */
class PlainTalker {
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly udp = createSocket('udp4');
  private constructor(readonly transport: types.PlainTransport) {}

  static async seat(room: Room, participantId: string): Promise<PlainTalker> {
    const transport = await room.media.router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true, appData: { direction: 'send' } });
    room.participants.get(participantId)!.endpoint.adoptTransport(transport, room.media.router);
    return new PlainTalker(transport);
  }

  start(ssrc: number): void {
    this.timer = setInterval(() => {
      this.seq += 1;
      this.udp.send(rtpPacketWithAudioLevel(OPUS_PT, this.seq, this.seq * 960, ssrc, 10), this.transport.tuple.localPort, '127.0.0.1');
    }, 20);
  }

  close(): void {
    clearInterval(this.timer);
    this.udp.close();
    this.transport.close();
  }
}

beforeAll(async () => {
  redis = await RedisProcess.start();
  postgres = await PostgresProcess.start();
  for (const id of ['node-a', 'node-b']) {
    const env = clusterNodeEnv(id, { redisUrl: redis.url, databaseUrl: postgres.url }, { PLENUM_ROOM_LEASE_TTL_MS: '1500', PLENUM_CASCADE_AFTER_DELEGATES: '1', PLENUM_CASCADE_PIPE_IDLE_MS: '300', PLENUM_ADMIN_API_KEY: ADMIN_KEY });
    nodes.push(await startTestServer(env));
  }
  await waitFor(async () => (await nodes[0]!.membership.coordinator.liveNodes()).length === 2, { what: 'two live nodes' });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  for (const n of nodes) await n.close();
  await redis?.kill();
  await postgres?.stop();
});

let origin: MeetingServer;
let edge: MeetingServer;
let chair: Awaited<ReturnType<typeof connectAs>>;
let amina: Awaited<ReturnType<typeof connectAs>>;
let beatriz: Awaited<ReturnType<typeof connectAs>>;
let talker: PlainTalker;
let producerId: string;

describe('plenary: delegates served by edge nodes', () => {
  it('a delegate past the origin’s share is served by an edge node, and seated at the origin', async () => {
    chair = await connectAs(CHAIR, nodes[0]!.url);
    origin = nodeAt(chair.url);
    await join(chair.socket);
    amina = await connectAs(AMINA, origin.url);
    expect(amina.url).toBe(origin.url);
    await join(amina.socket);

    // The origin seats one delegate itself; the next ones are sent to the other node, which serves them as an
    // edge. Two join at once there: the second waits for the edge room the first is opening.
    const [b, camille] = await Promise.all([connectAs(BEATRIZ, origin.url), connectAs(CAMILLE, origin.url)]);
    beatriz = b;
    expect(beatriz.redirects).toHaveLength(1);
    expect(camille.url).toBe(beatriz.url);
    edge = nodeAt(beatriz.url);
    expect(edge).not.toBe(origin);
    const [joined] = (await Promise.all([join(beatriz.socket), join(camille.socket)])) as Array<{ self: { id: string } }>;
    expect(joined!.self.id).toBe('p-br-1');
    expect(edge.rooms.get(ROOM)?.isEdge).toBe(true);
    expect(origin.rooms.get(ROOM)!.participants.get('p-fr-1')?.servedBy).toBe(nodeIdOf(edge));
    camille.socket.close();
    await waitFor(() => !origin.rooms.get(ROOM)!.participants.has('p-fr-1'), { what: "Camille's copy to go when her connection drops" });

    // At the origin she is a participant like any other: roster, quorum, and her copy says which edge serves her.
    const originRoom = origin.rooms.get(ROOM)!;
    const copy = originRoom.participants.get('p-br-1');
    expect(copy?.servedBy).toBe(nodeIdOf(edge));
    expect(originRoom.quorum().byType.member_state?.entities).toContain('Brazil');
    const seen = await waitFor(() => chair.events.find((e) => e.event === 'peersChanged' && (e.data.joined as Array<{ id: string }>).some((p) => p.id === 'p-br-1')), {
      what: "the edge delegate in the chair's roster",
    });
    expect((seen.data.joined as Array<{ id: string; entity: { name: string } }>).find((p) => p.id === 'p-br-1')?.entity.name).toBe('Brazil');
    const page = await call<{ peers: Array<{ id: string }>; total: number }>(chair.socket, 'getRoster', { search: 'beatriz' });
    expect(page).toMatchObject({ ok: true, data: { total: 1 } });
  });

  it('she votes for her entity from the edge: the vote reaches her, her cast is counted at the origin, and she hears the result', async () => {
    // Designated to cast Brazil's vote (she is a delegate, not its head).
    const designated = await fetch(`${origin.url}/api/admin/events/${DEMO_EVENT_ID}/vote-designations`, {
      method: 'PUT',
      headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ entity: 'Brazil', personId: 'p-br-1' }),
    });
    expect(designated.status).toBe(200);
    const opened = await call<{ vote: { voteId: string } }>(chair.socket, 'openVote', { question: 'Adopt the report?', kind: 'recorded' });
    if (!opened.ok) throw new Error(`openVote: ${opened.error.code} ${opened.error.message}`);
    const { voteId } = opened.data.vote;
    await waitFor(() => beatriz.events.some((e) => e.event === 'voteOpened' && e.data.voteId === voteId), { what: 'the vote relayed to the edge' });
    const cast = await call(beatriz.socket, 'castVote', { voteId, ballot: { position: 'yes' } });
    expect(cast.ok, JSON.stringify(cast)).toBe(true);
    await waitFor(() => beatriz.events.some((e) => e.event === 'voteCast' && e.data.entity === 'Brazil' && e.data.position === 'yes'), { what: "her entity's vote confirmed to her" });
    const again = await call(beatriz.socket, 'castVote', { voteId, ballot: { position: 'no' } });
    expect(again.ok ? 'ok' : again.error.code).toBe('VOTE_ALREADY_CAST');
    const state = await call<{ ownEntity: { voted: boolean; position?: string } }>(beatriz.socket, 'getVoteState', {});
    expect(state.ok && state.data.ownEntity).toEqual({ voted: true, position: 'yes' });
    expect((await call(amina.socket, 'castVote', { voteId, ballot: { position: 'no' } })).ok).toBe(true);
    expect((await call(chair.socket, 'closeVote', { voteId })).ok).toBe(true);
    const closed = await waitFor(() => beatriz.events.find((e) => e.event === 'voteClosed' && e.data.voteId === voteId), { what: 'the result relayed to the edge' });
    expect((closed.data.result as { byEntity: Array<{ entity: string; position: string }> }).byEntity).toEqual(
      expect.arrayContaining([
        { entity: 'Brazil', entityType: 'member_state', position: 'yes' },
        { entity: 'Kenya', entityType: 'member_state', position: 'no' },
      ]),
    );
  });

  it('her microphone is published on the edge, piped to the origin, and heard only while she holds the floor', async () => {
    const edgeRoom = edge.rooms.get(ROOM)!;
    const originRoom = origin.rooms.get(ROOM)!;
    talker = await PlainTalker.seat(edgeRoom, 'p-br-1');
    const rtpParameters = {
      codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PT, clockRate: 48000, channels: 2 }],
      encodings: [{ ssrc: 7070 }],
      headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', id: AUDIO_LEVEL_EXT_ID }],
    };
    const produced = await call<{ producerId: string }>(beatriz.socket, 'produce', { transportId: talker.transport.id, kind: 'audio', source: 'mic', channel: 'floor', rtpParameters });
    expect(produced.ok).toBe(true);
    producerId = produced.ok ? produced.data.producerId : '';
    talker.start(7070);

    // The origin holds it under the same id, as her copy's; on a moderated floor it stays paused, at the edge too.
    const piped = originRoom.media.findProducer(producerId)!;
    expect(piped).toBeDefined();
    expect(originRoom.participants.get('p-br-1')!.endpoint.producers.has(producerId)).toBe(true);
    expect(piped.paused).toBe(true);
    const local = edgeRoom.participants.get('p-br-1')!.endpoint.producer(producerId);
    await waitFor(() => local.paused, { what: 'the edge to hold her microphone paused' });
    // She may not open it herself: the origin answers for the floor.
    expect(await call(beatriz.socket, 'resumeProducer', { producerId })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });

    // Her floor request is forwarded; the chair sees her on the speakers list, and gives her the floor.
    expect(await call(beatriz.socket, 'requestFloor', { kind: 'speaker' })).toMatchObject({ ok: true });
    expect(originRoom.floor.state().queue.map((e) => e.id)).toContain('p-br-1');
    expect(await call(chair.socket, 'giveFloor', { participantId: 'p-br-1' })).toMatchObject({ ok: true });
    await waitFor(() => !local.paused, { what: 'the edge to open her microphone when she holds the floor' });

    // Her RTP crosses from the edge node to the origin node.
    const sink = await RtpSink.create(originRoom.media.router);
    await sink.consume(piped);
    await waitFor(() => (sink.packetsBySsrc.size > 0 ? sink.total >= 25 : false), { what: 'her RTP at the origin' });
    // The floor is taken from her: paused at the origin, so at its source on the edge.
    expect(await call(chair.socket, 'takeFloor', {})).toMatchObject({ ok: true });
    await waitFor(() => local.paused, { what: 'the edge to pause her microphone when the floor is taken' });
    sink.close();
  });

  it('she hears the floor holder on the origin, and the chair’s mute reaches her', async () => {
    expect(await tryProduce(amina.socket, 'floor', 1111)).toBe('ok');
    expect(await call(amina.socket, 'requestFloor', { kind: 'speaker' })).toMatchObject({ ok: true });
    expect(await call(chair.socket, 'giveFloor', { participantId: 'p-ke-1' })).toMatchObject({ ok: true });
    const announced = await waitFor(() => beatriz.events.find((e) => e.event === 'newProducer' && e.data.peerId === 'p-ke-1'), { what: "Amina's microphone announced on the edge" });
    expect(await call(beatriz.socket, 'createWebRtcTransport', { direction: 'recv' })).toMatchObject({ ok: true });
    expect(await call(beatriz.socket, 'consume', { producerId: announced.data.producerId })).toMatchObject({ ok: true, data: { peerId: 'p-ke-1' } });
    // She is not told about her own microphone.
    expect(beatriz.events.some((e) => e.event === 'newProducer' && e.data.producerId === producerId)).toBe(false);

    expect(await call(chair.socket, 'muteParticipant', { participantId: 'p-br-1' })).toMatchObject({ ok: true });
    await waitFor(() => beatriz.events.some((e) => e.event === 'moderated' && e.data.action === 'muted'), { what: 'the mute told to the edge delegate' });
    // What an edge cannot serve is refused there.
    expect(await call(beatriz.socket, 'getRoster', {})).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  });

  it('her gallery tiles: the edge pipes in the cameras her screen shows, keeps them across stage moves, and lets them go', async () => {
    const edgeRoom = edge.rooms.get(ROOM)!;
    const camera = async (who: Awaited<ReturnType<typeof connectAs>>, ssrc: number): Promise<string> => {
      const send = await call<{ id: string }>(who.socket, 'createWebRtcTransport', { direction: 'send' });
      const rtpParameters = { codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }], encodings: [{ ssrc }] };
      const produced = await call<{ producerId: string }>(who.socket, 'produce', { transportId: send.ok ? send.data.id : '', kind: 'video', source: 'camera', channel: 'floor', rtpParameters });
      if (!produced.ok) throw new Error(produced.error.code);
      return produced.data.producerId;
    };
    const chairCamera = await camera(chair, 9090);
    // Amina holds the floor: her camera is on the stage, announced to the edge.
    const aminaCamera = await camera(amina, 9191);
    await waitFor(() => beatriz.events.some((e) => e.event === 'newProducer' && e.data.producerId === aminaCamera), { what: "Amina's camera on the stage, announced on the edge" });
    // Nobody on the edge shows the chair: his camera is not piped in.
    expect(edgeRoom.media.findProducer(chairCamera)).toBeUndefined();

    expect(await call(beatriz.socket, 'setView', { stage: null, tiles: [{ peerId: 'p-chair-1', width: 320, height: 180 }, { peerId: 'p-ke-1', width: 320, height: 180 }] })).toMatchObject({ ok: true });
    const tileOf = (producer: string) => waitFor(() => beatriz.events.find((e) => e.event === 'newConsumer' && e.data.producerId === producer), { what: `a tile consumer of ${producer}` });
    const chairTile = await tileOf(chairCamera);
    const aminaTile = await tileOf(aminaCamera);
    expect(chairTile.data).toMatchObject({ peerId: 'p-chair-1', kind: 'video', source: 'camera', paused: true });
    expect(edgeRoom.media.findProducer(chairCamera)).toBeDefined();

    // The stage moves on: Amina's camera is hidden on the edge, but her tile stays (no churn of gallery consumers).
    expect(await call(chair.socket, 'takeFloor', {})).toMatchObject({ ok: true });
    await waitFor(() => beatriz.events.some((e) => e.event === 'producerHidden' && e.data.producerId === aminaCamera), { what: "Amina's camera leaving the stage" });
    const closedTile = (consumerId: unknown) => beatriz.events.some((e) => e.event === 'consumerClosed' && e.data.consumerId === consumerId);
    expect(closedTile(aminaTile.data.consumerId)).toBe(false);
    expect(edgeRoom.media.findProducer(aminaCamera)?.closed).toBe(false);

    // She pages away (a tile of someone not in the room shows nothing): her tiles close, and once nobody on
    // the edge receives the cameras, the edge lets them go.
    expect(await call(beatriz.socket, 'setView', { stage: null, tiles: [{ peerId: 'p-nobody', width: 320, height: 180 }] })).toMatchObject({ ok: true });
    await waitFor(() => closedTile(chairTile.data.consumerId) && closedTile(aminaTile.data.consumerId), { what: 'her tile consumers closed when she pages away' });
    await waitFor(() => edgeRoom.media.findProducer(chairCamera) === undefined && edgeRoom.media.findProducer(aminaCamera) === undefined, { what: 'the edge to let go of the unwatched cameras' });
    // Paging back pipes one in again.
    expect(await call(beatriz.socket, 'setView', { stage: null, tiles: [{ peerId: 'p-chair-1', width: 320, height: 180 }] })).toMatchObject({ ok: true });
    await waitFor(() => beatriz.events.filter((e) => e.event === 'newConsumer' && e.data.producerId === chairCamera).length === 2, { what: "the chair's camera pushed again" });
  });

  it('her camera crosses the pipe only while someone past it watches (dynacast at the origin)', async () => {
    const edgeRoom = edge.rooms.get(ROOM)!;
    const upstream = edgeRoom.toOrigin() as CascadeEdge;
    const rtpParameters = { codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }], encodings: [{ ssrc: 8080 }] };
    const produced = await call<{ producerId: string }>(beatriz.socket, 'produce', { transportId: talker.transport.id, kind: 'video', source: 'camera', channel: 'floor', rtpParameters });
    expect(produced.ok).toBe(true);
    const camera = produced.ok ? produced.data.producerId : '';
    expect(origin.rooms.get(ROOM)!.media.findProducer(camera)).toBeDefined();
    await waitFor(() => upstream.sendingUp(camera) === false, { what: 'the unwatched camera held at the edge' });

    // Amina, on the origin, shows her in a gallery tile: the origin makes her consumer, and the camera comes up.
    const aminaConsumers = record(amina.socket);
    expect(await call(amina.socket, 'createWebRtcTransport', { direction: 'recv' })).toMatchObject({ ok: true });
    expect(await call(amina.socket, 'setView', { stage: null, tiles: [{ peerId: 'p-br-1', width: 320, height: 180 }] })).toMatchObject({ ok: true });
    await waitFor(() => aminaConsumers.some((e) => e.event === 'newConsumer' && e.data.producerId === camera), { what: "the origin's consumer of the edge delegate's camera" });
    await waitFor(() => upstream.sendingUp(camera) === true, { what: 'the watched camera sent up the pipe' });

    expect(await call(amina.socket, 'setView', { stage: null, tiles: [] })).toMatchObject({ ok: true });
    await waitFor(() => upstream.sendingUp(camera) === false, { what: 'the camera held at the edge again once nobody watches' });
  });

  it('the secretariat removes her: the edge closes her connection; a delegate who leaves the edge leaves the origin', async () => {
    const originRoom = origin.rooms.get(ROOM)!;
    const edgeRoom = edge.rooms.get(ROOM)!;
    expect(await call(chair.socket, 'removeParticipant', { participantId: 'p-br-1' })).toMatchObject({ ok: true });
    await waitFor(() => beatriz.events.some((e) => e.event === 'removed' && e.data.reason === 'REMOVED_BY_SECRETARIAT'), { what: 'the removal told at the edge' });
    await waitFor(() => !beatriz.socket.connected, { what: 'the edge to close her connection' });
    await waitFor(() => !edgeRoom.participants.has('p-br-1'), { what: 'the edge to let her go' });
    expect(originRoom.participants.has('p-br-1')).toBe(false);
    expect(originRoom.media.findProducer(producerId)).toBeUndefined();
    talker.close();

    const brian = await connectAs(BRIAN, origin.url);
    expect(brian.url).toBe(edge.url);
    await join(brian.socket);
    expect(originRoom.participants.get('p-ke-2')?.servedBy).toBe(nodeIdOf(edge));
    expect(await call(brian.socket, 'leave', {})).toMatchObject({ ok: true });
    await waitFor(() => !originRoom.participants.has('p-ke-2'), { what: 'his copy at the origin to go when he leaves the edge' });
  });

  it('the origin checks what an edge asks: no seat for grants an edge may not serve, no hold on another person', async () => {
    const originId = nodeIdOf(origin);
    const grants = {
      room: ROOM,
      event: DEMO_EVENT_ID,
      person: 'p-fr-1',
      name: 'Camille Durand',
      role: 'delegate',
      entity: { name: 'France', type: 'member_state' },
      publish: { floor: true, booths: [], captions: false },
      subscribe: true,
      moderate: false,
      lobby: false,
      accreditation: { status: 'approved', source: 'registry' },
    };
    const refused = async (method: string, params: unknown): Promise<string> => {
      try {
        await edge.bus.request(originId, method, params);
        return 'accepted';
      } catch (error) {
        return error instanceof BusRequestError ? error.code : 'other';
      }
    };
    expect(await refused('cascade.seat', { roomId: ROOM, peerId: 'p-fr-1', grants: { ...grants, moderate: true } })).toBe('FORBIDDEN');
    expect(await refused('cascade.seat', { roomId: ROOM, peerId: 'p-fr-1', grants: { ...grants, room: 'demo-plenary' } })).toBe('FORBIDDEN');
    // Amina is the origin's own participant: an edge cannot publish, forward or unseat for her.
    expect(await refused('cascade.forward', { roomId: ROOM, peerId: 'p-ke-1', method: 'withdrawFloorRequest', data: {} })).toBe('NOT_JOINED');
    expect(await refused('cascade.forward', { roomId: ROOM, peerId: 'p-ke-1', method: 'giveFloor', data: { participantId: 'p-ke-1' } })).toBe('BAD_REQUEST');
    await edge.bus.request(originId, 'cascade.unseat', { roomId: ROOM, peerId: 'p-ke-1' });
    expect(origin.rooms.get(ROOM)!.participants.has('p-ke-1')).toBe(true);
  });
});

import type { types } from 'mediasoup';
import { CloseReason, ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { ChannelInfo, ProducerInfo, RequestMethod } from '../../protocol/signaling.js';
import { BusRequestError, type ClusterBus } from '../cluster/cluster-bus.js';
import type { ClusterKeys } from '../cluster/cluster-keys.js';
import type { Coordinator, RoomLease } from '../cluster/coordinator.js';
import type { EdgeListenerAttendance } from '../conduct/attendance-log.js';
import type { Logger } from '../logger.js';
import type { Participant, ScreenView } from '../rooms/participant.js';
import type { Room, RoomUpstream, RoomView } from '../rooms/room.js';
import {
  cascadeRequests,
  delegateMessage,
  delegatesTopic,
  roomTopic,
  roomTopicFrame,
  StreamCursor,
  type CascadeMethod,
  type CascadeParams,
  type CascadeResult,
  type DelegateMessage,
  type RoomSnapshot,
  type RoomTopicFrame,
  type RoomTopicMessage,
} from './cascade-protocol.js';
import { EdgeGallery } from './edge-gallery.js';
import { createPipeTransport, pipeEndpoint, type PipeAddressing } from './pipe-addressing.js';
import { openEndpoint, sealEndpoint } from './srtp-seal.js';

export interface EdgeDeps {
  bus: ClusterBus;
  coordinator: Coordinator;
  addressing: PipeAddressing;
  /** Seals this side's SRTP parameters and opens the origin's. */
  keys: ClusterKeys;
  log: Logger;
  /** How often the edge checks that its origin still holds the room. */
  ownerCheckMs: number;
  /** How often the edge looks for piped producers nobody there receives (one is let go after two looks unused). */
  pipeIdleMs: number;
  /** Records the listeners this edge serves in the attendance (written by this node, not the owner). */
  listeners?: EdgeListenerAttendance;
}

/**
 * The edge side of the cascade: a room here that relays a room owned by another node to listeners. One
 * PipeTransport joins it to the origin's router; producers come through it when a listener first asks for
 * them, under their origin ids. The origin's view (peers, producers, channels, floor) is mirrored from its
 * topic. The edge closes, and its listeners reconnect, when the origin closes the room or loses its lease.
 */
export class CascadeEdge implements RoomUpstream {
  private mirror: RoomSnapshot = { peers: [], producers: [], channels: [], floor: { controlled: false, speaker: null, queue: [] } };
  private readonly producerInfos = new Map<string, ProducerInfo>();
  private readonly piped = new Map<string, Promise<types.Producer | undefined>>();
  /** Producers piped in and ready, by id. */
  private readonly pipedReady = new Map<string, types.Producer>();
  /** Every camera of the room, by producer id (snapshot and topic), for gallery tiles; and by owner. */
  private readonly cameras = new Map<string, ProducerInfo>();
  private readonly camerasByPeer = new Map<string, Set<string>>();
  /** Piped producers nobody here consumed at the last sweep: let go (unpiped) if still so at the next. */
  private readonly idlePiped = new Set<string>();
  private reaper: NodeJS.Timeout | undefined;
  private readonly gallery: EdgeGallery;
  /** Floor microphones the origin hid (not audible now): a consume of one is refused as such, not as unknown. */
  private readonly hidden = new Set<string>();
  /** The origin's epoch (its lease token) and the last sequence number applied, from a snapshot or a message. */
  private cursor = new StreamCursor({ epoch: 0, seq: 0 });
  /** Topic frames that arrive before the first snapshot or during a resync, applied after it. */
  private early: RoomTopicFrame[] | undefined = [];
  private unsubscribe: (() => Promise<void>) | undefined;
  private unsubscribeDelegates: (() => Promise<void>) | undefined;
  /** Producers of delegates served here, sent up the pipe: the origin decides when they are heard, and this edge mirrors it. */
  private readonly localProducers = new Map<string, types.Producer>();
  /** This edge's pipe consumers of those producers, sending them up to the origin. */
  private readonly upstreamConsumers = new Map<string, types.Consumer>();
  /** Delegates seated at the origin from here; those the origin closed need no word back. */
  private readonly seated = new Set<Participant>();
  /** Delegates the origin just told `removed`: their close says nothing more to the client. */
  private readonly removedNotified = new WeakSet<Participant>();
  private watch: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onResubscribed = (): void => void this.resync();

  private constructor(
    private readonly room: Room,
    private readonly owner: RoomLease,
    private readonly transport: types.PipeTransport,
    private readonly deps: EdgeDeps,
  ) {
    this.gallery = new EdgeGallery(
      {
        camerasOf: (peerId) => [...(this.camerasByPeer.get(peerId) ?? [])].flatMap((id) => this.cameras.get(id) ?? []),
        producerHere: (producerId) => this.localProducers.get(producerId) ?? this.pipedReady.get(producerId),
        producer: (producerId) => this.producer(producerId),
      },
      deps.log,
    );
  }

  static async open(room: Room, owner: RoomLease, deps: EdgeDeps): Promise<CascadeEdge> {
    const transport = await createPipeTransport(room.media.router, deps.addressing, { origin: owner.nodeId });
    const edge = new CascadeEdge(room, owner, transport, deps);
    try {
      await edge.start();
    } catch (error) {
      edge.close();
      if (error instanceof ProtocolError) throw error;
      deps.log.warn({ err: (error as Error).message, room: room.id, origin: owner.nodeId }, 'edge could not attach to the origin');
      throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the node serving this room is not answering; retry shortly');
    }
    return edge;
  }

  view(): RoomView {
    return { ...this.mirror, producers: [...this.producerInfos.values()] };
  }

  channels(): ChannelInfo[] {
    return this.mirror.channels;
  }

  audible(producerId: string): boolean {
    return !this.hidden.has(producerId);
  }

  /** The producer, piped in from the origin the first time; undefined when the room has no such producer. */
  producer(producerId: string): Promise<types.Producer | undefined> {
    if (!this.producerInfos.has(producerId) && !this.cameras.has(producerId)) return Promise.resolve(undefined);
    // A delegate served here: its producer is consumed here as it is, not piped back in.
    const local = this.localProducers.get(producerId);
    if (local) return Promise.resolve(local.closed ? undefined : local);
    let pending = this.piped.get(producerId);
    if (!pending) {
      pending = this.pipeIn(producerId);
      this.piped.set(producerId, pending);
      pending.catch(() => this.piped.delete(producerId));
    }
    return pending;
  }

  /** Seats a delegate served here at the origin; when it closes here, its copy there goes too. */
  async seat(p: Participant): Promise<void> {
    await this.call('cascade.seat', { roomId: this.room.id, peerId: p.id, grants: p.grants });
    this.seated.add(p);
    p.once('close', () => {
      if (!this.seated.delete(p) || this.closed) return;
      this.call('cascade.unseat', { roomId: this.room.id, peerId: p.id }).catch((error: Error) => this.deps.log.debug({ err: error.message, room: this.room.id }, 'delegate not unseated'));
    });
  }

  /**
   * Sends a delegate's producer up the pipe: this edge consumes it on the pipe, the origin produces it on
   * the other end under the same id, and answers whether it may be heard now (this edge pauses it if not).
   */
  async publish(p: Participant, producer: types.Producer): Promise<void> {
    if (!this.seated.has(p)) throw new ProtocolError(ErrorCode.NOT_JOINED, 'not seated at the origin');
    // The pipe leaves from this room's first router; a producer published on another router is piped there first.
    await this.room.media.ensureProducerOn(producer, this.room.media.router);
    const up = await this.transport.consume({ producerId: producer.id });
    // Known before the origin answers: its dynacast may already say that nobody past the pipe watches
    // (publisherLayers), and that notice is sent once.
    this.upstreamConsumers.set(producer.id, up);
    up.observer.once('close', () => {
      if (this.upstreamConsumers.get(producer.id) === up) this.upstreamConsumers.delete(producer.id);
    });
    try {
      const answer = await this.call('cascade.publish', {
        roomId: this.room.id,
        peerId: p.id,
        producerId: producer.id,
        kind: producer.kind,
        rtpParameters: up.rtpParameters as CascadeParams<'cascade.publish'>['rtpParameters'],
        source: producer.appData.source as 'mic' | 'camera' | 'screen',
        paused: producer.paused,
      });
      await this.setPaused(producer, answer.paused);
    } catch (error) {
      this.upstreamConsumers.delete(producer.id);
      up.close();
      throw this.asProtocolError(error);
    }
    this.localProducers.set(producer.id, producer);
    producer.observer.once('close', () => {
      this.localProducers.delete(producer.id);
      this.upstreamConsumers.delete(producer.id);
      // A delegate leaving takes its copy, and so its producers, away at the origin: nothing to say per producer.
      if (this.closed || p.closed) return;
      this.call('cascade.unpublish', { roomId: this.room.id, peerId: p.id, producerId: producer.id }).catch(() => undefined);
    });
  }

  /** A screen here changed: its gallery tiles' cameras follow. */
  setView(p: Participant, view: ScreenView): void {
    this.gallery.setView(p, view);
  }

  /** Whether a producer of a delegate served here crosses the pipe to the origin now (undefined: it is not sent up). */
  sendingUp(producerId: string): boolean | undefined {
    const up = this.upstreamConsumers.get(producerId);
    return up && !up.closed ? !up.paused : undefined;
  }

  /** A delegate's request that the origin answers, with the origin's refusal (its code) if it refuses. */
  async forward(p: Participant, method: RequestMethod, data: unknown): Promise<unknown> {
    if (!this.seated.has(p)) throw new ProtocolError(ErrorCode.FORBIDDEN, 'this node relays the room to its listeners; reconnect to speak');
    try {
      return await this.call('cascade.forward', { roomId: this.room.id, peerId: p.id, method, data });
    } catch (error) {
      throw this.asProtocolError(error);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.gallery.close();
    clearInterval(this.watch);
    clearInterval(this.reaper);
    this.deps.bus.off('resubscribed', this.onResubscribed);
    void this.unsubscribe?.();
    void this.unsubscribeDelegates?.();
    this.transport.close();
    this.call('cascade.detach', { roomId: this.room.id }).catch(() => undefined);
  }

  private async start(): Promise<void> {
    // Subscribe before the snapshot is taken, so that nothing said in between is missed.
    this.unsubscribe = await this.deps.bus.subscribe(roomTopic(this.room.id), (m) => this.onTopic(m));
    this.unsubscribeDelegates = await this.deps.bus.subscribe(delegatesTopic(this.room.id, this.deps.bus.nodeId), (m) => this.onDelegateMessage(m));
    const context = { roomId: this.room.id, originNode: this.owner.nodeId, edgeNode: this.deps.bus.nodeId };
    const edge = sealEndpoint(pipeEndpoint(this.transport, this.deps.addressing), this.deps.keys, { ...context, side: 'edge' });
    const answer = await this.call('cascade.attach', { roomId: this.room.id, edge });
    const registered = (await this.deps.coordinator.liveNodes()).find((n) => n.nodeId === this.owner.nodeId)?.pipe;
    if (!registered || answer.origin.ip !== registered.address || answer.origin.port < registered.minPort || answer.origin.port > registered.maxPort) {
      throw new Error(`the origin answered a pipe address (${answer.origin.ip}:${answer.origin.port}) that is not where it registered its pipes`);
    }
    const origin = openEndpoint(answer.origin, this.deps.keys, { ...context, side: 'origin' });
    const snapshot = answer.snapshot;
    // The origin must serve the room under the epoch this edge was sent to follow; another one means it moved.
    if (answer.at.epoch !== this.owner.token) throw new Error(`the origin serves the room under epoch ${answer.at.epoch}, not ${this.owner.token}`);
    await this.transport.connect({ ip: origin.ip, port: origin.port, srtpParameters: origin.srtpParameters });
    this.cursor = new StreamCursor(answer.at);
    this.applySnapshot(snapshot, false);
    this.drainEarly();
    this.deps.bus.on('resubscribed', this.onResubscribed);
    this.deps.listeners?.track(this.room, this.owner.token);
    this.watch = setInterval(() => void this.checkOwner(), this.deps.ownerCheckMs);
    this.watch.unref();
    this.reaper = setInterval(() => this.reapPiped(), this.deps.pipeIdleMs);
    this.reaper.unref();
  }

  private async pipeIn(producerId: string): Promise<types.Producer | undefined> {
    const answer = await this.call('cascade.pipe', { roomId: this.room.id, producerId });
    if (this.closed) throw new ProtocolError(ErrorCode.INVALID_STATE, 'the room has closed');
    if (answer.info.producerId !== producerId || answer.info.kind !== answer.kind) throw new Error(`the origin answered another producer than ${producerId}`);
    const producer = await this.transport.produce({
      id: producerId,
      kind: answer.kind,
      rtpParameters: answer.rtpParameters as types.RtpParameters,
      paused: answer.paused,
      appData: { source: answer.info.source, channel: answer.info.channel, endpointId: answer.info.peerId },
    });
    producer.observer.once('close', () => {
      this.piped.delete(producerId);
      this.pipedReady.delete(producerId);
    });
    this.room.media.addProducer(producer);
    // The topic may have said something newer while the pipe was being made (it is ordered with replies).
    await this.setPaused(producer, this.producerInfos.get(producerId)?.paused ?? this.cameras.get(producerId)?.paused ?? answer.paused);
    if (!this.producerInfos.has(producerId) && !this.cameras.has(producerId)) producer.close();
    if (producer.closed) return undefined;
    this.pipedReady.set(producerId, producer);
    return producer;
  }

  /** The origin speaks to one delegate served here: an event for that person, or the end of its copy. */
  private onDelegateMessage(raw: unknown): void {
    const parsed = delegateMessage.safeParse(raw);
    if (!parsed.success) {
      this.deps.log.warn({ room: this.room.id }, 'malformed delegate message from the origin; dropped');
      return;
    }
    const { peerId, message } = parsed.data;
    const p = this.room.participants.get(peerId);
    if (!p || !this.seated.has(p)) return;
    if (message.type === 'closed') return this.closedByOrigin(p, message.reason);
    if (message.event === 'publisherLayers') {
      // Nobody past the pipe watches this camera: it stops crossing it. The publisher keeps sending, for the
      // edge's own receivers.
      const up = this.upstreamConsumers.get(message.data.producerId);
      if (up && p.endpoint.producers.has(message.data.producerId)) void (message.data.spatialLayer < 0 ? up.pause() : up.resume()).catch(() => undefined);
      return;
    }
    this.applyPersonal(p, message);
    p.notify(message.event, message.data as never);
  }

  /** What an event for one delegate changes here, on the media the delegate publishes through this edge. */
  private applyPersonal(p: Participant, message: Extract<DelegateMessage['message'], { type: 'event' }>): void {
    switch (message.event) {
      case 'moderated':
        // The origin closed the piped video; the camera here stops too.
        if (message.data.action === 'video-stopped') for (const producer of [...p.endpoint.producers.values()]) if (producer.kind === 'video') producer.close();
        break;
      case 'grantsChanged': {
        const g = p.grants;
        Object.assign(g, { role: message.data.role, publish: { ...message.data.publish, booths: [...message.data.publish.booths] }, subscribe: message.data.subscribe, moderate: message.data.moderate });
        // Someone who may no longer speak, or now moderates, is not this edge's to serve: they reconnect and are placed again.
        if (!g.publish.floor) for (const producer of [...p.endpoint.producers.values()]) producer.close();
        if (g.moderate || g.publish.booths.length > 0 || g.publish.captions) queueMicrotask(() => p.close(CloseReason.SERVER_SHUTDOWN));
        break;
      }
      case 'removed':
        this.removedNotified.add(p);
        break;
      default:
        break;
    }
  }

  private closedByOrigin(p: Participant, reason: CloseReason): void {
    this.seated.delete(p);
    if (!this.removedNotified.has(p)) p.notify('roomClosed', { reason });
    p.close(reason);
  }

  private onTopic(raw: unknown): void {
    const parsed = roomTopicFrame.safeParse(raw);
    if (!parsed.success) {
      this.deps.log.warn({ room: this.room.id }, 'malformed room event from the origin; dropped');
      return;
    }
    if (this.early) this.early.push(parsed.data);
    else this.follow(parsed.data);
  }

  /**
   * Keeps the origin's stream in order. A lower epoch is a late word from an earlier owner of the room:
   * ignored (its `closed` must not close the new owner's edge). A higher one is a newer owner: this edge's
   * pipe leads to a node that lost the room, so the edge closes and its listeners follow the room. Within
   * the epoch, what the snapshot already holds is skipped, and a gap (a message lost on the way) makes the
   * edge resynchronise from the origin.
   */
  private follow(frame: RoomTopicFrame): void {
    if (this.closed) return;
    const at = this.cursor.position;
    switch (this.cursor.judge(frame)) {
      case 'apply':
        this.apply(frame.message);
        return;
      case 'seen':
        return;
      case 'stale':
        this.deps.log.debug({ room: this.room.id, epoch: frame.epoch, current: at.epoch }, 'room event from an earlier owner; ignored');
        return;
      case 'moved':
        this.deps.log.info({ room: this.room.id, epoch: frame.epoch, current: at.epoch }, 'a newer owner speaks for the room; closing the edge');
        this.room.close(CloseReason.SERVER_SHUTDOWN);
        return;
      case 'gap':
        this.deps.log.info({ room: this.room.id, expected: at.seq + 1, got: frame.seq }, 'gap in the room events; resynchronising');
        void this.resync(frame);
    }
  }

  /** Applies the frames held while a snapshot was awaited; a gap among them starts another resync. */
  private drainEarly(): void {
    const frames = this.early ?? [];
    this.early = undefined;
    for (let i = 0; i < frames.length; i++) {
      this.follow(frames[i]!);
      if (this.early) {
        (this.early as RoomTopicFrame[]).push(...frames.slice(i + 1));
        return;
      }
    }
  }

  /** A checked message from the origin: `roomTopicMessage` has validated each event's data against its schema. */
  private apply(m: RoomTopicMessage): void {
    if (this.closed) return;
    if (m.type === 'closed') {
      this.room.close(m.reason);
      return;
    }
    if (m.type === 'camera') {
      this.addCamera(m.info);
      this.gallery.cameraChanged(m.info.peerId, this.room.participants.values());
      return;
    }
    if (m.type === 'paused') {
      // A delegate's producer served here: the origin's pause (a moderated floor, a mute) applies at its source.
      const local = this.localProducers.get(m.producerId);
      if (local) void this.setPaused(local, m.paused).catch(() => undefined);
      const camera = this.cameras.get(m.producerId);
      if (camera) camera.paused = m.paused;
      const info = this.producerInfos.get(m.producerId);
      if (!info) {
        if (camera) void this.piped.get(m.producerId)?.then((p) => p && this.setPaused(p, m.paused)).catch(() => undefined);
        return;
      }
      info.paused = m.paused;
      void this.piped.get(m.producerId)?.then((p) => p && this.setPaused(p, m.paused)).catch(() => undefined);
      return;
    }
    switch (m.event) {
      case 'peersChanged': {
        // One batch: who left first, then who joined (a resume may be in both).
        const gone = new Set([...m.data.left, ...m.data.joined.map((p) => p.id)]);
        this.mirror.peers = [...this.mirror.peers.filter((p) => !gone.has(p.id)), ...m.data.joined];
        this.room.rosterChanged();
        break;
      }
      case 'newProducer':
        this.hidden.delete(m.data.producerId);
        this.producerInfos.set(m.data.producerId, { ...m.data });
        break;
      case 'producerClosed':
        this.hidden.delete(m.data.producerId);
        this.removeCamera(m.data.producerId);
        this.dropProducer(m.data.producerId);
        break;
      case 'producerHidden':
        // The listeners' consumers close with the piped producer; they hear what the origin's receivers hear.
        if (this.producerInfos.has(m.data.producerId)) this.hidden.add(m.data.producerId);
        // A microphone that closes while hidden is not announced again: the oldest are forgotten past a bound.
        if (this.hidden.size > 10_000) this.hidden.delete(this.hidden.values().next().value!);
        // A camera leaving the stage may stay on gallery tiles here: only the clients' own consumers of it close.
        if (this.cameras.has(m.data.producerId)) this.unannounceCamera(m.data.producerId);
        else this.dropProducer(m.data.producerId);
        break;
      case 'channelsChanged':
        this.mirror.channels = m.data.channels;
        break;
      case 'floorState':
        this.mirror.floor = m.data;
        this.room.rosterChanged(); // the floor holder is listed first
        break;
      case 'activeSpeaker':
        this.mirror.activeSpeaker = m.data.peer;
        break;
      case 'recordingState':
        this.room.recording = m.data; // told to those who join here later
        break;
      case 'caption':
      case 'documentFocus':
        break;
    }
    // A delegate served here is not told about its own producer.
    const owner = m.event === 'newProducer' ? this.room.participants.get(m.data.peerId) : undefined;
    this.room.broadcast(m.event, m.data as never, owner);
  }

  /** Replaces the mirror; after a resync, tells listeners what changed while the topic was silent. */
  private applySnapshot(snapshot: RoomSnapshot, announce: boolean): void {
    const before = new Map(this.producerInfos);
    const peersBefore = new Map(this.mirror.peers.map((p) => [p.id, p]));
    const { cameras = [], recording, ...mirror } = snapshot;
    this.mirror = mirror;
    this.room.recording = recording ?? null;
    this.room.rosterChanged();
    this.producerInfos.clear();
    this.hidden.clear();
    for (const p of snapshot.producers) this.producerInfos.set(p.producerId, { ...p });
    const camerasBefore = new Set(this.cameras.keys());
    this.cameras.clear();
    this.camerasByPeer.clear();
    for (const c of cameras) this.addCamera(c);
    for (const id of camerasBefore) {
      if (!this.cameras.has(id) && !this.producerInfos.has(id)) void this.piped.get(id)?.then((p) => p?.close()).catch(() => undefined);
    }
    for (const [id] of before) {
      if (this.producerInfos.has(id)) continue;
      if (this.cameras.has(id)) this.unannounceCamera(id);
      else void this.piped.get(id)?.then((p) => p?.close()).catch(() => undefined);
      if (announce) this.room.broadcast('producerClosed', { producerId: id });
    }
    for (const p of this.room.participants.values()) this.gallery.setView(p, p.view);
    for (const [id, info] of this.producerInfos) {
      if (!before.has(id) && announce) this.room.broadcast('newProducer', info, this.room.participants.get(info.peerId));
      void this.piped.get(id)?.then((p) => p && this.setPaused(p, info.paused)).catch(() => undefined);
      const local = this.localProducers.get(id);
      if (local) void this.setPaused(local, info.paused).catch(() => undefined);
    }
    if (announce) {
      // The roster as one batch: whoever came or went while the topic was silent.
      const now = new Set(snapshot.peers.map((p) => p.id));
      const joined = snapshot.peers.filter((p) => !peersBefore.has(p.id));
      const left = [...peersBefore.keys()].filter((id) => !now.has(id));
      if (joined.length > 0 || left.length > 0) this.room.broadcast('peersChanged', { joined, left, total: snapshot.peers.length });
      this.room.broadcast('channelsChanged', { channels: snapshot.channels });
      this.room.broadcast('floorState', snapshot.floor);
    }
  }

  private addCamera(info: ProducerInfo): void {
    this.cameras.set(info.producerId, { ...info });
    let own = this.camerasByPeer.get(info.peerId);
    if (!own) this.camerasByPeer.set(info.peerId, (own = new Set()));
    own.add(info.producerId);
  }

  private removeCamera(producerId: string): void {
    const info = this.cameras.get(producerId);
    if (!info) return;
    this.cameras.delete(producerId);
    const own = this.camerasByPeer.get(info.peerId);
    own?.delete(producerId);
    if (own?.size === 0) this.camerasByPeer.delete(info.peerId);
  }

  /**
   * A camera left the stage: no longer announced, and the consumers clients made of it close (they dropped
   * it already). The gallery's consumers of it stay; the piped copy goes once nobody here receives it.
   */
  private unannounceCamera(producerId: string): void {
    this.producerInfos.delete(producerId);
    for (const p of this.room.participants.values()) {
      for (const c of [...p.endpoint.consumers.values()]) {
        if (c.producerId !== producerId || this.gallery.holds(p, producerId)) continue;
        c.close();
        p.notify('consumerClosed', { consumerId: c.id, producerId });
      }
    }
  }

  /**
   * Lets go of piped producers nobody here receives any more (gallery pages moved on, the stage moved on):
   * one unused at two sweeps in a row is closed here, and the origin stops sending it (`cascade.unpipe`).
   * What the origin announces now (audible voices, the stage) stays piped: clients may consume it any time.
   */
  private reapPiped(): void {
    if (this.closed || this.pipedReady.size === 0) return;
    const used = new Set<string>();
    for (const p of this.room.participants.values()) for (const c of p.endpoint.consumers.values()) used.add(c.producerId);
    for (const [id, producer] of this.pipedReady) {
      if (used.has(id) || this.producerInfos.has(id)) {
        this.idlePiped.delete(id);
        continue;
      }
      if (!this.idlePiped.has(id)) {
        this.idlePiped.add(id);
        continue;
      }
      this.idlePiped.delete(id);
      producer.close();
      this.call('cascade.unpipe', { roomId: this.room.id, producerId: id }).catch(() => undefined);
    }
    for (const id of this.idlePiped) if (!this.pipedReady.has(id)) this.idlePiped.delete(id);
  }

  /** Forgets an announced producer and closes its piped copy (its consumers close with it). */
  private dropProducer(producerId: string): void {
    this.producerInfos.delete(producerId);
    void this.piped.get(producerId)?.then((p) => p?.close()).catch(() => undefined);
  }

  private async setPaused(producer: types.Producer, paused: boolean): Promise<void> {
    if (producer.closed || producer.paused === paused) return;
    await (paused ? producer.pause() : producer.resume());
  }

  /**
   * After Redis came back (what was said meanwhile is lost) or on a gap: takes a fresh snapshot, holding the
   * frames that arrive meanwhile (and the one that showed the gap) to apply those it does not cover.
   */
  private async resync(trigger?: RoomTopicFrame): Promise<void> {
    if (this.early) {
      if (trigger) this.early.push(trigger); // a snapshot is already on its way
      return;
    }
    this.early = trigger ? [trigger] : [];
    try {
      const answer = await this.call('cascade.snapshot', { roomId: this.room.id });
      if (this.closed) return;
      const epoch = this.cursor.position.epoch;
      // The frame that showed the gap was sent before this snapshot was taken: one that does not cover it
      // comes from an origin that contradicts itself (or another epoch): listeners reconnect instead.
      if (answer.at.epoch !== epoch || (trigger && trigger.epoch === epoch && trigger.seq > answer.at.seq)) {
        this.deps.log.warn({ room: this.room.id, at: answer.at, epoch }, 'the origin answered a snapshot that does not follow its stream; closing the edge');
        this.room.close(CloseReason.SERVER_SHUTDOWN);
        return;
      }
      this.applySnapshot(answer.snapshot, true);
      this.cursor.resetTo(answer.at);
      this.drainEarly();
    } catch (error) {
      this.deps.log.warn({ err: (error as Error).message, room: this.room.id }, 'edge resync failed; closing the edge so listeners reconnect');
      this.room.close(CloseReason.SERVER_SHUTDOWN);
    }
  }

  /** The origin lost the room (it died and the lease expired, or it moved): listeners reconnect and follow it. */
  private async checkOwner(): Promise<void> {
    let lease: RoomLease | null;
    try {
      lease = await this.deps.coordinator.roomOwner(this.room.id);
    } catch {
      return; // the store is away; the pipe still carries media
    }
    if (lease?.nodeId === this.owner.nodeId && lease.token === this.owner.token) return;
    this.deps.log.info({ room: this.room.id, origin: this.owner.nodeId, now: lease?.nodeId ?? null }, 'origin no longer holds the room; closing the edge');
    this.room.close(CloseReason.SERVER_SHUTDOWN);
  }

  /** The origin's refusal keeps its code for the client; a silent origin is UNAVAILABLE (retryable). */
  private asProtocolError(error: unknown): Error {
    if (error instanceof ProtocolError) return error;
    if (error instanceof BusRequestError) {
      const code = (Object.values(ErrorCode) as string[]).includes(error.code) ? (error.code as ErrorCode) : ErrorCode.INTERNAL;
      return new ProtocolError(code, code === ErrorCode.INTERNAL ? 'the node serving the room failed' : error.message);
    }
    this.deps.log.warn({ err: (error as Error).message, room: this.room.id }, 'the origin did not answer a delegate request');
    return new ProtocolError(ErrorCode.UNAVAILABLE, 'the node serving the room did not answer; try again shortly');
  }

  private async call<M extends CascadeMethod>(method: M, params: CascadeParams<M>): Promise<CascadeResult<M>> {
    const answer = await this.deps.bus.request(this.owner.nodeId, method, params);
    const parsed = cascadeRequests[method].result.safeParse(answer);
    if (!parsed.success) throw new Error(`malformed answer to ${method} from ${this.owner.nodeId}`);
    return parsed.data as CascadeResult<M>;
  }
}

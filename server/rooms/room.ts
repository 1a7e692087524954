import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { AudioLevels, RoomMedia } from '../../media/index.js';
import { CloseReason, ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { ChannelInfo, FloorState, ListenerCensus, PeerInfo, PeersPage, ProducerInfo, QuorumView, RequestMethod, RosterEntry, ServerEvents } from '../../protocol/signaling.js';
import { phoneGrants } from '../auth/grants-from-decision.js';
import type { JoinGrants } from '../auth/join-token.js';
import type { Logger } from '../logger.js';
import { FloorControl, type FloorOptions, type FloorSnapshot } from '../conduct/floor-control.js';
import { Interpretation } from '../interpretation/interpretation.js';
import { AudioSelection, defaultAudioSelection, type AudioSelectionOptions } from './audio-selection.js';
import { Participant, producerInfo, type Notify, type ScreenView } from './participant.js';
import { RosterBatcher, type RosterBatch } from './roster-batcher.js';
import { RosterIndex, type RosterQuery } from './roster-index.js';
import { isCamera, isSignVideo, SelectiveForwarding } from './selective-forwarding.js';
import type { VideoFallbackOptions } from './video-fallback.js';

export interface RoomOptions {
  idleCloseMs: number;
  /** Interpreted languages: one channel and one booth each. */
  languages: string[];
  /** Sign-language channels: one booth each, whose signers publish their camera (docs/SIGN-LANGUAGE.md). */
  signLanguages?: string[];
  /** How long a live interpreter has to answer a handover request before the partner may take the microphone. */
  handoverTakeAfterMs: number;
  floor: FloorOptions;
  /** The speakers list and floor saved before a restart. */
  floorSnapshot?: FloorSnapshot;
  /** Which floor microphones receivers get (default: selective, 3 voices on an open floor). */
  audio?: AudioSelectionOptions;
  /** When a receiver's video steps down for its downlink (docs/LOW-BANDWIDTH.md); the module's defaults when left out. */
  videoFallback?: VideoFallbackOptions;
  /** Joins and leaves are told to the room at most once per this many ms, as one `peersChanged` (default 250). */
  rosterBatchMs?: number;
}

/** A connection waiting for the secretariat's decision; it has no media until admitted. */
export interface LobbyWaiter {
  id: string;
  grants: JoinGrants;
  entry: RosterEntry;
  admit(): void;
  /** Tells the waiter why and closes its connection. */
  remove(reason: CloseReason, message: string): void;
}

/** What a room looks like to someone joining it. */
export interface RoomView {
  peers: PeerInfo[];
  producers: ProducerInfo[];
  channels: ChannelInfo[];
  floor: FloorState;
  /** The active speaker (selective forwarding); absent from an origin that does not say. */
  activeSpeaker?: PeerInfo | null;
}

/**
 * Where a room's media and shared state come from when this node is an edge of a room owned by another
 * node: the producers arrive through a pipe from the origin, and the view is the origin's, mirrored.
 */
export interface RoomUpstream {
  producer(producerId: string): Promise<types.Producer | undefined>;
  view(): RoomView;
  channels(): ChannelInfo[];
  /** Whether the origin lets this producer be consumed now (false: a floor microphone it hid). */
  audible?(producerId: string): boolean;
  /** Seats a delegate served here at the origin, where the roster, the floor and the attendance live. */
  seat(p: Participant): Promise<void>;
  /** Sends a delegate's new producer up to the origin, and pauses it here if the origin says it may not be heard. */
  publish(p: Participant, producer: types.Producer): Promise<void>;
  /** One of a delegate's requests that only the origin answers (the floor, pausing or resuming its producers). */
  forward(p: Participant, method: RequestMethod, data: unknown): Promise<unknown>;
  /** A screen here changed: the cameras of its gallery tiles are piped in and pushed to it. */
  setView(p: Participant, view: ScreenView): void;
  close(): void;
}

type RoomEvents = {
  close: [CloseReason];
  participantjoined: [Participant];
  participantleft: [Participant];
  /** Something said to the whole room, for the room's edges on other nodes. */
  relay: [keyof ServerEvents, unknown];
  producerstate: [string, boolean];
  /** The dominant speaker of the floor changed (mediasoup's active speaker detection). */
  activespeaker: [{ producerId: string; peerId: string }];
  /** A camera was published here (selective forwarding): edges learn of it for their gallery tiles. */
  camerapublished: [ProducerInfo];
};

/**
 * A meeting room on this node: its media and its participants. It closes once it has stayed empty for
 * `idleCloseMs`, when its media worker dies, or on shutdown; closing it closes every participant, then the media.
 */
export class Room extends EventEmitter<RoomEvents> {
  readonly participants = new Map<string, Participant>();
  readonly lobby = new Map<string, LobbyWaiter>();
  readonly interpretation: Interpretation;
  readonly floor: FloorControl;
  /** Which floor microphones are audible now: only those are announced to receivers and may be consumed. */
  readonly audio: AudioSelection;
  private isClosed = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private upstream: RoomUpstream | undefined;
  /**
   * What moderators switched off, by person: kept by the room, so a reconnect (resume) does not lift it.
   * `mic`: their floor microphone stays paused until a moderator asks them to unmute; `video`: no video
   * until a moderator allows it again.
   */
  private readonly blocks = new Map<string, { mic: boolean; video: boolean }>();
  /** On the owner: the latest count of this room's listeners on edge nodes (EdgeListenerCensus keeps it). */
  listenersElsewhere: ListenerCensus | undefined;
  /** Whether the session is being recorded (set by server/recording at the origin, mirrored on an edge): told to each newcomer. */
  recording: ServerEvents['recordingState'] | null = null;
  /** The roster in its paging order: the participants here, or the origin's mirrored on an edge. */
  private readonly roster = new RosterIndex(() => ({ peers: this.rosterPeers(), speakerId: this.upstream ? (this.upstream.view().floor.speaker?.id ?? null) : this.floor.speakerId }));
  private readonly batcher: RosterBatcher;
  /** A quorum notice is due to moderators with the next batch. */
  private quorumDue = false;
  /** Selective forwarding: the consumers the server makes for each receiver (voices, stage, gallery tiles). */
  readonly forwarding: SelectiveForwarding;

  constructor(
    readonly id: string,
    readonly media: RoomMedia,
    private readonly options: RoomOptions,
    private readonly log: Logger,
  ) {
    super();
    this.interpretation = new Interpretation(options.languages, options.handoverTakeAfterMs, this, undefined, options.signLanguages);
    this.floor = new FloorControl(options.floor, options.floorSnapshot);
    this.batcher = new RosterBatcher(options.rosterBatchMs ?? 250, (batch) => this.flushRoster(batch));
    this.floor.on('changed', (state) => {
      this.roster.invalidate(); // the floor holder is listed first
      this.broadcast('floorState', state);
    });
    this.floor.on('given', (entry) => {
      // Giving the floor is the moderator's own decision to have them heard: it lifts their mute.
      this.setBlock(entry.id, 'mic', false);
      void this.setFloorAudio(entry.id, true);
    });
    this.floor.on('taken', (entry) => void this.setFloorAudio(entry.id, false));
    this.audio = this.createAudioSelection(options.audio ?? defaultAudioSelection);
    this.forwarding = new SelectiveForwarding(
      {
        participants: this.participants,
        audio: this.audio,
        pushes: () => this.pushes,
        floorHolder: () => this.floor.speakerId,
        standbyVoice: () => {
          const next = this.floor.options.controlled ? this.participants.get(this.floor.nextId ?? '') : undefined;
          return next && !this.mayBeHeardOnFloor(next) ? next.id : null;
        },
        relay: (event, data) => this.emit('relay', event, data),
        broadcast: (event, data) => this.broadcast(event, data),
        signVideo: (language) => this.interpretation.signVideo(language),
        channelLive: (channel) => this.channelLive(channel),
      },
      log,
      options.videoFallback,
    );
    this.floor.on('changed', () => this.forwarding.floorChanged());
    // The selection follows the floor: the outgoing speaker's consumers close before the incoming one is announced.
    this.floor.on('taken', () => this.audio.refresh());
    this.floor.on('given', () => this.audio.refresh());
    media.once('close', (reason) => this.close(reason === 'worker-died' ? CloseReason.MEDIA_WORKER_DIED : CloseReason.SERVER_SHUTDOWN));
    this.scheduleIdleClose();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** An edge room relays a room owned by another node to listeners here. */
  get isEdge(): boolean {
    return this.upstream !== undefined;
  }

  attachUpstream(upstream: RoomUpstream): void {
    this.upstream = upstream;
  }

  /** The origin this edge relays; refused on the origin itself. */
  toOrigin(): RoomUpstream {
    if (!this.upstream) throw new ProtocolError(ErrorCode.INVALID_STATE, 'this node serves the room itself');
    return this.upstream;
  }

  /** The room as a newcomer sees it (without themselves): the origin's view on an edge. */
  view(except?: Participant): RoomView {
    if (this.upstream) {
      const view = this.upstream.view();
      return { ...view, peers: view.peers.filter((p) => p.id !== except?.id), producers: view.producers.filter((p) => p.peerId !== except?.id) };
    }
    const others = [...this.participants.values()].filter((p) => p !== except);
    return {
      peers: others.map((p) => p.info),
      producers: this.producersFor(except),
      channels: this.interpretation.channels(),
      floor: this.floor.state(),
      activeSpeaker: this.activeSpeakerPeer,
    };
  }

  /** A producer of this room; on an edge, piped in from the origin the first time it is asked for. */
  async findProducer(producerId: string): Promise<types.Producer | undefined> {
    return this.upstream ? this.upstream.producer(producerId) : this.media.findProducer(producerId);
  }

  channelLive(channel: string): boolean {
    if (channel === 'floor') return true;
    if (!this.upstream) return this.interpretation.isLive(channel);
    return this.upstream.channels().some((c) => c.language === channel && c.live);
  }

  join(id: string, grants: JoinGrants, rtpCapabilities: types.RtpCapabilities, notify: Notify, servedBy?: string): Participant {
    if (this.isClosed) throw new ProtocolError(ErrorCode.INVALID_STATE, 'the room has closed');
    clearTimeout(this.idleTimer);
    const previous = this.participants.get(id);
    if (previous) {
      previous.notify('roomClosed', { reason: CloseReason.REPLACED });
      previous.close(CloseReason.REPLACED);
    }
    const endpoint = this.media.createEndpoint(id);
    const participant = new Participant(id, grants, endpoint, rtpCapabilities, notify, servedBy);
    this.participants.set(id, participant);
    participant.once('close', () => this.onParticipantClosed(participant));
    this.interpretation.onJoin(participant);
    // An edge seats listeners only: they are not peers to each other (thousands of them), nor to the origin.
    if (!this.isEdge) {
      this.roster.invalidate();
      this.batcher.peerJoined(this.peerOf(participant));
    }
    this.emit('participantjoined', participant);
    this.log.info({ participant: id, name: grants.name, role: grants.role, entity: grants.entity.name }, 'participant joined');
    if (this.recording?.recording) participant.notify('recordingState', this.recording);
    // Before the join answer, as the recording state: which sign channels there are, and who signs now.
    if (!this.isEdge && this.interpretation.signLanguages.length > 0) participant.notify('signChannelsChanged', { channels: this.interpretation.signChannels() });
    // A moderator joining late sees who already waits.
    if (grants.moderate && this.lobby.size > 0) participant.notify('lobbyChanged', { waiting: [...this.lobby.values()].map((w) => w.entry) });
    return participant;
  }

  /**
   * Announces a new producer to everyone who may receive it, and its end when it closes. A floor microphone
   * goes to the audio selection instead: it is announced when (and only while) it is audible.
   */
  announceProducer(owner: Participant, producer: types.Producer): void {
    // On an edge, a delegate's producer is announced by the origin, which decides who hears it.
    if (this.isEdge) return;
    producer.observer.on('pause', () => this.emit('producerstate', producer.id, true));
    producer.observer.on('resume', () => this.emit('producerstate', producer.id, false));
    if (this.audio.selective && AudioSelection.isFloorMic(producer)) {
      producer.observer.once('close', () => {
        const announced = this.audio.forget(producer.id);
        if (this.isClosed) return;
        if (announced) this.broadcast('producerClosed', { producerId: producer.id }, owner);
        this.audio.refresh(); // a voice may take the place it left
      });
      return this.audio.track(producer, owner.id);
    }
    if (this.pushes && isCamera(producer)) {
      this.emit('camerapublished', producerInfo(producer, owner.id));
      return this.forwarding.cameraPublished(producer, owner.id);
    }
    // A signer's camera goes to the viewers of its channel while its signer is live (Interpretation tells the forwarding).
    if (this.pushes && isSignVideo(producer)) return;
    producer.observer.once('close', () => {
      if (!this.isClosed) this.broadcast('producerClosed', { producerId: producer.id }, owner);
    });
    this.tellNewProducer(producer, owner.id);
  }

  /**
   * Selective forwarding at the room's origin: floor microphones and cameras are consumed by the server for
   * each receiver (what it may hear, what its screen shows); clients consume the rest themselves.
   */
  get pushes(): boolean {
    return this.audio.selective && !this.isEdge;
  }

  /** Whether the server decides who receives this producer (a client asking to consume it is refused). */
  serverSelects(producer: types.Producer): boolean {
    return this.pushes && (AudioSelection.isFloorMic(producer) || isCamera(producer) || isSignVideo(producer));
  }

  /** The active speaker now: the floor holder, else the dominant voice. */
  get activeSpeaker(): string | null {
    return this.activeSpeakerPeer?.id ?? null;
  }

  /** Who the active speaker is (on an edge: as the origin last said). */
  get activeSpeakerPeer(): PeerInfo | null {
    return this.upstream ? (this.upstream.view().activeSpeaker ?? null) : this.forwarding.stagePeer;
  }

  /**
   * What an edge (or, forwarding everything, a newcomer) is told about: every producer but the floor
   * microphones and the cameras, then the audible microphones and the stage's camera.
   */
  private producersFor(except?: Participant): ProducerInfo[] {
    const others = [...this.participants.values()].filter((p) => p !== except);
    if (!this.audio.selective) return others.flatMap((p) => p.producerInfos());
    // Signers' cameras are not sent to edges: a sign channel is watched at the origin (docs/SIGN-LANGUAGE.md).
    const infos = others.flatMap((p) => [...p.endpoint.producers.values()].filter((pr) => !this.audio.decides(pr.id) && !isCamera(pr) && !isSignVideo(pr)).map((pr) => producerInfo(pr, p.id)));
    for (const { producer, ownerId } of this.audio.audibleMics()) if (ownerId !== except?.id) infos.push(producerInfo(producer, ownerId));
    const stage = this.forwarding.stage;
    if (stage && stage !== except?.id) for (const cam of this.forwarding.stageCameras()) infos.push(producerInfo(cam, stage));
    return infos;
  }

  /** Every camera of the room (what an edge needs to serve gallery tiles); none on an edge. */
  cameraInfos(): ProducerInfo[] {
    if (this.upstream) return [];
    return [...this.participants.values()].flatMap((p) => [...p.endpoint.producers.values()].filter((pr) => isCamera(pr) && !pr.closed).map((pr) => producerInfo(pr, p.id)));
  }

  /** What a joining client consumes itself: the server pushes the voices and cameras when it selects them. */
  producersToConsume(p: Participant): ProducerInfo[] {
    if (!this.pushes) return this.view(p).producers;
    return [...this.participants.values()]
      .filter((o) => o !== p)
      .flatMap((o) => [...o.endpoint.producers.values()].filter((pr) => !this.serverSelects(pr)).map((pr) => producerInfo(pr, o.id)));
  }

  /** Whether this producer may be consumed now: a floor microphone only while it is audible (on an edge: the origin's word). */
  mayConsume(producerId: string): boolean {
    return this.upstream ? (this.upstream.audible?.(producerId) ?? true) : this.audio.isAudible(producerId);
  }

  private tellNewProducer(producer: types.Producer, ownerId: string): void {
    const info = producerInfo(producer, ownerId);
    if (this.serverSelects(producer)) {
      this.emit('relay', 'newProducer', info);
      return this.forwarding.voicesChanged();
    }
    for (const p of this.participants.values()) if (p.id !== ownerId && p.grants.subscribe) p.notify('newProducer', info);
    this.emit('relay', 'newProducer', info);
  }

  private createAudioSelection(options: AudioSelectionOptions): AudioSelection {
    const rules = {
      controlled: this.floor.options.controlled,
      mayBeHeard: (ownerId: string) => {
        const p = this.participants.get(ownerId);
        return p !== undefined && this.mayBeHeardOnFloor(p);
      },
    };
    const observe = (): Promise<AudioLevels> =>
      this.media.createAudioLevels({ intervalMs: options.intervalMs, maxEntries: Math.max(options.voices * 2, 4), thresholdDb: -70 });
    const audio = new AudioSelection(options, rules, observe, this.log);
    audio.on('audible', (producer, ownerId) => {
      this.tellNewProducer(producer, ownerId);
      this.forwarding.voiceAudible(ownerId);
    });
    audio.on('inaudible', (producer, ownerId) => {
      this.hideProducer(producer.id, ownerId);
      this.forwarding.voiceInaudible(ownerId);
    });
    audio.on('dominant', (producer, peerId) => {
      this.forwarding.dominant(peerId);
      this.emit('activespeaker', { producerId: producer.id, peerId });
    });
    return audio;
  }

  /** A floor microphone left the audible set: every receiver's consumer of it closes, and clients forget it. */
  private hideProducer(producerId: string, ownerId: string): void {
    if (this.pushes) {
      this.emit('relay', 'producerHidden', { producerId });
      return this.forwarding.voicesChanged();
    }
    for (const p of this.participants.values()) {
      for (const c of [...p.endpoint.consumers.values()]) {
        if (c.producerId !== producerId) continue;
        c.close();
        p.notify('consumerClosed', { consumerId: c.id, producerId });
      }
    }
    for (const p of this.participants.values()) if (p.id !== ownerId && p.grants.subscribe) p.notify('producerHidden', { producerId });
    this.emit('relay', 'producerHidden', { producerId });
  }

  /** A page of the roster (the joiner's first page, `getPeers`), in the roster's one order. */
  peersPage(query: RosterQuery): PeersPage {
    return this.roster.page(query);
  }

  /** On an edge: the mirrored roster or floor changed (the index sorts again on the next request). */
  rosterChanged(): void {
    this.roster.invalidate();
  }

  private rosterPeers(): Iterable<PeerInfo> {
    if (this.upstream) return this.upstream.view().peers;
    return [...this.participants.values()].map((p) => this.peerOf(p));
  }

  private peerOf(p: Participant): PeerInfo {
    return p.grants.moderate ? { ...p.info, conducting: true } : p.info;
  }

  /** One batch of joins and leaves to everyone (edges relay it), and the moderators' counts with it. */
  private flushRoster(batch: RosterBatch | undefined): void {
    if (this.isClosed) return;
    if (batch) this.broadcast('peersChanged', { ...batch, total: this.participants.size });
    if (this.quorumDue) {
      this.quorumDue = false;
      const view = this.quorum();
      for (const p of this.participants.values()) if (p.grants.moderate) p.notify('quorum', view);
    }
  }

  broadcast<E extends keyof ServerEvents>(event: E, data: ServerEvents[E], except?: Participant): void {
    for (const p of this.participants.values()) if (p !== except) p.notify(event, data);
    this.emit('relay', event, data);
  }

  /**
   * Entities present now, by entity type (each entity counted once, however many of its people are here),
   * and, once counted, how many listen on edge nodes.
   */
  quorum(): QuorumView {
    const byType: QuorumView['byType'] = {};
    for (const p of this.participants.values()) {
      const { type, name } = p.grants.entity;
      const bucket = (byType[type] ??= { entities: [], count: 0 });
      if (!bucket.entities.includes(name)) {
        bucket.entities.push(name);
        bucket.count += 1;
      }
    }
    const total = Object.values(byType).reduce((n, b) => n + b.count, 0);
    return { byType, total, ...(this.listenersElsewhere ? { edgeListeners: this.listenersElsewhere.total } : {}) };
  }

  /** Interpretation: a sign channel's live signer (or their camera) changed; its viewers follow. */
  signChanged(language: string): void {
    if (this.pushes) this.forwarding.signChanged(language);
  }

  channelsLiveChanged(): void {
    if (this.pushes) this.forwarding.channelsLiveChanged();
  }

  notifyModerators<E extends keyof ServerEvents>(event: E, data: ServerEvents[E]): void {
    for (const p of this.participants.values()) if (p.grants.moderate) p.notify(event, data);
  }

  /** Who is present changed: moderators get the quorum with the roster's next batch, freshly counted (one per batch, not one per join). */
  quorumChanged(): void {
    this.quorumDue = true;
    this.batcher.touch();
  }

  /** Whether this participant's floor microphone may reach the room now. */
  mayBeHeardOnFloor(p: Participant): boolean {
    if (this.isBlocked(p.id, 'mic')) return false;
    return !this.floor.options.controlled || p.grants.moderate || this.floor.speakerId === p.id;
  }

  isBlocked(participantId: string, what: 'mic' | 'video'): boolean {
    return this.blocks.get(participantId)?.[what] ?? false;
  }

  /** A moderator switches someone's microphone or video off (true) or lets them switch it on again (false). */
  setBlock(participantId: string, what: 'mic' | 'video', on: boolean): void {
    const block = this.blocks.get(participantId) ?? { mic: false, video: false };
    block[what] = on;
    if (block.mic || block.video) this.blocks.set(participantId, block);
    else this.blocks.delete(participantId);
    if (what === 'mic') this.audio.refresh();
  }

  /**
   * A participant's grants changed while present (a registry change): applied to the grants their
   * connection reads on every message, and whatever they may no longer publish is closed.
   */
  changeGrants(p: Participant, next: Pick<JoinGrants, 'role' | 'publish' | 'subscribe' | 'moderate'>): boolean {
    const g = p.grants;
    const before = JSON.stringify([g.role, g.publish, g.subscribe, g.moderate]);
    // A phone caller keeps what a phone can do, whatever the registry grants now.
    if (g.via === 'phone') next = phoneGrants(next);
    g.role = next.role;
    g.publish = { ...next.publish, booths: [...next.publish.booths] };
    g.subscribe = next.subscribe;
    g.moderate = next.moderate;
    if (JSON.stringify([g.role, g.publish, g.subscribe, g.moderate]) === before) return false;
    this.roster.invalidate(); // those conducting are listed first
    for (const producer of [...p.endpoint.producers.values()]) {
      const channel = producer.appData.channel as string;
      if (channel === 'floor' ? !g.publish.floor : !g.publish.booths.includes(channel)) producer.close();
    }
    // A moderator heard on a moderated floor without holding it is not, once demoted.
    if (!this.mayBeHeardOnFloor(p)) void this.setFloorAudio(p.id, false);
    this.audio.refresh();
    p.notify('grantsChanged', { role: g.role, publish: { ...g.publish, booths: [...g.publish.booths] }, subscribe: g.subscribe, moderate: g.moderate });
    this.log.info({ participant: p.id, moderate: g.moderate, role: g.role }, 'grants changed');
    return true;
  }

  /** Opens or closes a participant's floor microphone on the server: their client cannot override it. */
  async setFloorAudio(participantId: string, on: boolean): Promise<void> {
    const p = this.participants.get(participantId);
    if (!p) return;
    for (const producer of p.endpoint.producers.values()) {
      if (producer.kind !== 'audio' || producer.appData.channel !== 'floor' || producer.closed) continue;
      await (on ? producer.resume() : producer.pause()).catch(() => undefined);
    }
  }

  /** Tells a participant why, then closes them; their connection closes with them. */
  remove(participant: Participant, reason: CloseReason, message: string): void {
    participant.notify('removed', { reason, message });
    participant.close(reason);
  }

  enterLobby(waiter: LobbyWaiter): void {
    this.lobby.set(waiter.id, waiter);
    clearTimeout(this.idleTimer);
    this.lobbyChanged();
  }

  /** Only `waiter` itself leaves: a newer connection of the same person (a resume) keeps its place. */
  leaveLobby(waiter: LobbyWaiter): void {
    if (this.lobby.get(waiter.id) !== waiter) return;
    this.lobby.delete(waiter.id);
    this.lobbyChanged();
    if (this.participants.size === 0 && this.lobby.size === 0) this.scheduleIdleClose();
  }

  private lobbyChanged(): void {
    const waiting = [...this.lobby.values()].map((w) => w.entry);
    for (const p of this.participants.values()) if (p.grants.moderate) p.notify('lobbyChanged', { waiting });
  }

  close(reason: CloseReason): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearTimeout(this.idleTimer);
    this.batcher.close();
    this.floor.close();
    this.audio.close();
    this.forwarding.close();
    for (const p of [...this.participants.values()]) {
      p.notify('roomClosed', { reason });
      p.close(reason);
    }
    for (const w of [...this.lobby.values()]) w.remove(reason, 'the session has ended');
    this.upstream?.close();
    this.media.close();
    this.log.info({ reason }, 'room closed');
    this.emit('close', reason);
  }

  private onParticipantClosed(participant: Participant): void {
    this.participants.delete(participant.id);
    this.emit('participantleft', participant);
    if (this.isClosed) return;
    this.interpretation.onLeave(participant);
    this.floor.forget(participant.id);
    if (this.forwarding.stage === participant.id) this.forwarding.refreshStage();
    if (!this.isEdge) {
      this.roster.invalidate();
      this.batcher.peerLeft(participant.id);
    }
    this.log.info({ participant: participant.id }, 'participant left');
    if (this.participants.size === 0 && this.lobby.size === 0) this.scheduleIdleClose();
  }

  private scheduleIdleClose(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.participants.size === 0 && this.lobby.size === 0) this.close(CloseReason.LEFT);
    }, this.options.idleCloseMs);
    this.idleTimer.unref();
  }
}

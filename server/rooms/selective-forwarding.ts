import type { types } from 'mediasoup';
import type { PeerInfo, ServerEvents } from '../../protocol/signaling.js';
import type { Logger } from '../logger.js';
import type { AudioSelection } from './audio-selection.js';
import { Dynacast } from './dynacast.js';
import { producerInfo, type Participant, type ScreenView } from './participant.js';
import { PushedConsumers, type Want } from './pushed-consumers.js';
import { layerForTile } from './video-layers.js';
import { DownlinkWatch, defaultVideoFallback, type VideoFallbackOptions } from './video-fallback.js';
import { ViewThrottle } from './view-throttle.js';

/** What selective forwarding needs of its room. */
export interface ForwardingHost {
  readonly participants: ReadonlyMap<string, Participant>;
  readonly audio: AudioSelection;
  /** Whether the server makes its receivers' consumers (selective mode, at the room's origin). */
  pushes(): boolean;
  /** Who holds the floor (null: nobody). */
  floorHolder(): string | null;
  /**
   * A moderated floor's next speaker, while their microphone may not be heard yet (its producer stays
   * paused until they are given the floor): receivers get its consumer ahead, so the floor passing costs
   * one resume, not a consumer per receiver.
   */
  standbyVoice(): string | null;
  /** To the room's edge nodes only (their listeners consume by announcement). */
  relay(event: 'newProducer' | 'producerHidden' | 'producerClosed', data: ServerEvents['newProducer'] | { producerId: string }): void;
  /** To everyone here, and the edges. */
  broadcast<E extends keyof ServerEvents>(event: E, data: ServerEvents[E]): void;
  /** A sign-language channel's live signer's video (undefined: nobody live, or no camera). */
  signVideo?(language: string): types.Producer | undefined;
  /** Whether a language channel has a live interpreter now. */
  channelLive?(channel: string): boolean;
}

/** A floor camera (a sign-language booth's camera is not one: see `isSignVideo`). */
export function isCamera(producer: types.Producer): boolean {
  return producer.kind === 'video' && producer.appData.source === 'camera' && (producer.appData.channel ?? 'floor') === 'floor';
}

/** A signer's camera in a sign-language channel: sent only to the viewers who pinned that channel, while live. */
export function isSignVideo(producer: types.Producer): boolean {
  return producer.kind === 'video' && (producer.appData.channel ?? 'floor') !== 'floor';
}

/**
 * Selective forwarding at a room's origin: what each receiver gets is decided here, and the server makes
 * those consumers itself. A receiver gets the audible floor microphones, the active speaker's camera on its
 * stage, and the cameras of the gallery tiles its screen shows (`setView`), each at the layer its size
 * needs. The active speaker is the floor holder, else the dominant audible voice. Dynacast tells each
 * camera's publisher the highest layer anyone receives.
 */
export class SelectiveForwarding {
  private readonly pushed: PushedConsumers;
  private readonly dynacast: Dynacast;
  private stageId: string | null = null;
  private dominantId: string | null = null;
  private standbyId: string | null = null;
  /** Producers piped to edge nodes, by id: how many edges hold each. */
  private readonly edgeHeld = new Map<string, number>();
  private readonly views = new ViewThrottle((p) => this.receiverReady(p));
  private closed = false;
  /** Each receiver's video follows its downlink's estimate (docs/LOW-BANDWIDTH.md). */
  private readonly downlinks: DownlinkWatch<Participant>;

  constructor(
    private readonly host: ForwardingHost,
    log: Logger,
    videoFallback: VideoFallbackOptions = defaultVideoFallback,
  ) {
    this.pushed = new PushedConsumers((p) => this.fitDownlink(p, this.wants(p)), log);
    this.downlinks = new DownlinkWatch<Participant>(videoFallback, (p, state, estimateBps) => {
      if (p.closed) return;
      p.notify('videoFallback', { state, estimateBps });
      this.pushed.update(p);
    });
    this.dynacast = new Dynacast(
      (producer) => this.highestLayer(producer),
      (producer, spatialLayer) => host.participants.get(producer.appData.endpointId as string)?.notify('publisherLayers', { producerId: producer.id, spatialLayer }),
    );
    this.pushed.on('touched', (producers) => this.dynacast.touch(producers));
  }

  /** The active speaker now (null: nobody). */
  get stage(): string | null {
    return this.stageId;
  }

  get stagePeer(): PeerInfo | null {
    const p = this.stageId ? this.host.participants.get(this.stageId) : undefined;
    return p ? p.info : null;
  }

  /** The active speaker's cameras (what edges are told about). */
  stageCameras(): types.Producer[] {
    return this.stageId ? this.camerasOf(this.stageId) : [];
  }

  /** A receiver's transport is ready, or its screen changed: its consumers follow. */
  receiverReady(p: Participant): void {
    if (!this.host.pushes()) return;
    for (const t of p.endpoint.transports.values()) if (t.appData.direction === 'recv') this.downlinks.watch(p, t);
    this.pushed.update(p);
  }

  /** A client's screen changed: its consumers follow (at most once per `VIEW_INTERVAL_MS`, on its newest view). */
  setView(p: Participant, view: ScreenView): void {
    this.views.set(p, view);
  }

  /** The audible voices changed: every receiver follows. */
  voicesChanged(): void {
    this.pushed.updateAll(this.receivers());
  }

  /** A voice became audible; if it is the dominant one, it may take the stage (once the floor's change is complete). */
  voiceAudible(ownerId: string): void {
    if (ownerId === this.dominantId) queueMicrotask(() => this.refreshStage());
  }

  /** A voice left the audible set: a floor passing (taken, then given) moves the stage once, after both. */
  voiceInaudible(ownerId: string): void {
    if (ownerId === this.stageId) queueMicrotask(() => this.refreshStage());
  }

  /** The level observer's dominant voice changed. */
  dominant(peerId: string): void {
    this.dominantId = peerId;
    this.refreshStage();
  }

  /** A camera goes to the receivers whose screen shows its owner; edges get the stage's only. */
  cameraPublished(producer: types.Producer, ownerId: string): void {
    // Edges know every camera (their gallery tiles pipe them in): its end goes to them whether on stage or not.
    producer.observer.once('close', () => {
      if (!this.closed) this.host.relay('producerClosed', { producerId: producer.id });
    });
    if (this.stageId === ownerId) this.host.relay('newProducer', producerInfo(producer, ownerId));
    for (const p of this.receivers()) if (this.shows(p, ownerId)) this.pushed.update(p);
    this.dynacast.touch([producer]);
  }

  /**
   * An edge node pipes this producer for its listeners, who receive it whole: dynacast keeps every layer
   * on while any edge holds it.
   */
  heldByEdge(producer: types.Producer, pipeConsumer: types.Consumer): void {
    this.edgeHeld.set(producer.id, (this.edgeHeld.get(producer.id) ?? 0) + 1);
    pipeConsumer.observer.once('close', () => {
      const left = (this.edgeHeld.get(producer.id) ?? 1) - 1;
      if (left > 0) this.edgeHeld.set(producer.id, left);
      else this.edgeHeld.delete(producer.id);
      this.dynacast.touch([producer]);
    });
    this.dynacast.touch([producer]);
  }

  /** A sign channel's live signer changed (go live, off, handover, their camera came or went): its viewers follow. */
  signChanged(language: string): void {
    if (this.closed) return;
    this.pushed.updateAll([...this.receivers()].filter((p) => p.view.sign?.language === language));
  }

  /** A listener chose a channel, or whether they hear the floor under it: their voices follow. */
  listeningChanged(p: Participant): void {
    if (!this.closed && this.host.pushes()) this.pushed.update(p);
  }

  /** Booths went live or off: the listeners who leave the floor out under a live interpretation follow. */
  channelsLiveChanged(): void {
    if (this.closed) return;
    this.pushed.updateAll([...this.receivers()].filter((p) => !p.floorUnder));
  }

  /** The speakers list or the floor changed: the stage and the standby voice follow. */
  floorChanged(): void {
    const standby = this.host.standbyVoice();
    const moved = standby !== this.standbyId;
    this.standbyId = standby;
    if (!this.refreshStage() && moved) this.voicesChanged();
  }

  /** The active speaker follows the floor, else the loudest audible voice; receivers' stages follow it. Answers whether it moved. */
  refreshStage(): boolean {
    if (this.closed || !this.host.pushes()) return false;
    const present = (id: string | null): string | null => (id && this.host.participants.has(id) ? id : null);
    // The observer elects someone even among silent or muted microphones: the stage takes an audible one only.
    const heard = (id: string | null): string | null => (id && this.host.audio.audibleMics().some((m) => m.ownerId === id) ? id : null);
    const next = present(this.host.floorHolder()) ?? present(heard(this.dominantId));
    if (next === this.stageId) return false;
    const previous = this.stageId;
    this.stageId = next;
    // Edges relay the stage's camera only: their listeners see the speaker, not the gallery.
    if (previous) for (const cam of this.camerasOf(previous)) this.host.relay('producerHidden', { producerId: cam.id });
    if (next) for (const cam of this.camerasOf(next)) this.host.relay('newProducer', producerInfo(cam, next));
    this.host.broadcast('activeSpeaker', { peerId: next, peer: this.stagePeer });
    this.pushed.updateAll(this.receivers());
    return true;
  }

  close(): void {
    this.closed = true;
    this.views.close();
    this.pushed.close();
    this.dynacast.close();
    this.downlinks.close();
  }

  /**
   * A receiver's downlink decides how much of the video it wants it gets: `lowest`, every camera at its
   * lowest layer; `off`, none (a pinned sign-language interpreter stays, at the lowest layer: for a deaf
   * delegate that is the floor itself). Voices are never touched.
   */
  private fitDownlink(p: Participant, wants: Map<string, Want>): Map<string, Want> {
    const state = this.downlinks.state(p);
    if (state === 'full') return wants;
    for (const [id, want] of wants) {
      if (want.producer.kind !== 'video') continue;
      if (state === 'off' && isCamera(want.producer)) wants.delete(id);
      else wants.set(id, { producer: want.producer, layer: 0 });
    }
    return wants;
  }

  /** The receivers whose consumers are made here: a delegate an edge node serves receives there. */
  private *receivers(): Iterable<Participant> {
    for (const p of this.host.participants.values()) if (p.servedBy === undefined) yield p;
  }

  private shows(p: Participant, ownerId: string): boolean {
    if (p.id === ownerId) return false;
    return (p.view.stage !== null && this.stageId === ownerId) || p.view.tiles.some((t) => t.peerId === ownerId);
  }

  /** What one receiver should hold now: the audible voices, the stage's camera and its gallery's cameras. */
  private wants(p: Participant): Map<string, Want> {
    const out = new Map<string, Want>();
    if (!p.grants.subscribe || p.closed || p.servedBy !== undefined || !this.host.pushes()) return out;
    // A low-bandwidth listener hears their language alone while it is interpreted: one audio stream, not two.
    const floorHeard = p.floorUnder || p.selectedChannel === 'floor' || !(this.host.channelLive?.(p.selectedChannel) ?? false);
    if (floorHeard) for (const { producer, ownerId } of this.host.audio.audibleMics()) if (ownerId !== p.id) out.set(producer.id, { producer });
    // The next speaker's microphone, ahead: its producer is paused until they hold the floor, so nothing is heard before.
    if (floorHeard && this.standbyId && this.standbyId !== p.id) {
      for (const mic of this.host.audio.micsOf(this.standbyId)) if (mic.paused && !out.has(mic.id)) out.set(mic.id, { producer: mic });
    }
    const { stage, tiles } = p.view;
    if (stage && this.stageId && this.stageId !== p.id) {
      for (const cam of this.camerasOf(this.stageId)) out.set(cam.id, { producer: cam, layer: layerForTile(cam, stage) });
    }
    for (const tile of tiles) {
      if (tile.peerId === p.id) continue;
      for (const cam of this.camerasOf(tile.peerId)) {
        const onStage = out.get(cam.id);
        const layer = Math.max(onStage?.layer ?? 0, layerForTile(cam, tile));
        out.set(cam.id, { producer: cam, layer });
      }
    }
    // The pinned sign channel: its live signer only (a partner's camera stays paused and is not sent), whatever the gallery shows.
    const sign = p.view.sign;
    const signer = sign ? this.host.signVideo?.(sign.language) : undefined;
    if (sign && signer && signer.appData.endpointId !== p.id) out.set(signer.id, { producer: signer, layer: layerForTile(signer, sign) });
    return out;
  }

  private camerasOf(peerId: string): types.Producer[] {
    const owner = this.host.participants.get(peerId);
    if (!owner) return [];
    return [...owner.endpoint.producers.values()].filter((producer) => isCamera(producer) && !producer.closed);
  }

  /** Dynacast: the highest layer anyone here receives; everything while an edge node pipes it. */
  private highestLayer(producer: types.Producer): number {
    if (this.edgeHeld.has(producer.id)) return (producer.rtpParameters.encodings?.length ?? 1) - 1;
    return this.pushed.highestLayer(producer.id);
  }
}

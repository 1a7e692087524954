import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { MediaEndpoint } from '../../media/index.js';
import type { CloseReason } from '../../protocol/errors.js';
import type { ConsumerInfo, MediaSource, PeerInfo, ProducerInfo, RosterEntry, ServerEvents } from '../../protocol/signaling.js';
import type { JoinGrants } from '../auth/join-token.js';

/** How the room talks to one participant's client; the signaling layer provides it. */
export type Notify = <E extends keyof ServerEvents>(event: E, data: ServerEvents[E]) => void;

type ParticipantEvents = { close: [CloseReason] };

/** What a participant's screen shows (setView): the stage's size (null: no stage) and the gallery tiles rendered now. */
export interface ScreenView {
  stage: { width: number; height: number } | null;
  tiles: Array<{ peerId: string; width: number; height: number }>;
  /** The sign-language channel pinned beside the stage, at its size (absent or null: none). */
  sign?: { language: string; width: number; height: number } | null;
}

export function peerInfo(id: string, grants: JoinGrants): PeerInfo {
  return { id, name: grants.name, role: grants.role, entity: grants.entity, ...(grants.via ? { via: grants.via } : {}) };
}

export function rosterEntry(id: string, grants: JoinGrants): RosterEntry {
  return { ...peerInfo(id, grants), accreditation: grants.accreditation };
}

/**
 * A person present in a room: identity, grants, and the media endpoint they own. Closing the participant
 * closes the endpoint (and so all their transports, producers and consumers).
 */
export class Participant extends EventEmitter<ParticipantEvents> {
  private isClosed = false;
  /** What this participant listens to: the floor, or a language with the floor underneath. */
  selectedChannel = 'floor';
  /**
   * Whether the floor's voices come under a live interpretation (the SDK plays them ducked). A low-bandwidth
   * listener turns it off: while their language is interpreted, they receive that channel alone.
   */
  floorUnder = true;
  /** Until the client says otherwise: the active speaker at 720p, no gallery. */
  view: ScreenView = { stage: { width: 1280, height: 720 }, tiles: [] };

  constructor(
    readonly id: string,
    /** Shared with the connection: a live change of grants applies to the next message. */
    readonly grants: JoinGrants,
    readonly endpoint: MediaEndpoint,
    readonly rtpCapabilities: types.RtpCapabilities,
    readonly notify: Notify,
    /**
     * The edge node that serves this delegate (its media and connection live there; this is the origin's
     * copy, with the producers piped in). Undefined: this node serves them.
     */
    readonly servedBy?: string,
  ) {
    super();
    endpoint.on('consumerclose', (c) => notify('consumerClosed', { consumerId: c.id, producerId: c.producerId }));
    // Video only: a client shows a paused camera as a black tile. A paused microphone sends nothing, so telling
    // every receiver of a floor voice each time the floor passes would cost a message each and change nothing.
    endpoint.on('consumerproducerpause', (c) => c.kind === 'video' && notify('producerPaused', { producerId: c.producerId }));
    endpoint.on('consumerproducerresume', (c) => c.kind === 'video' && notify('producerResumed', { producerId: c.producerId }));
    endpoint.on('consumerlayerschange', (c, layers) =>
      notify('consumerLayersChanged', {
        consumerId: c.id,
        spatialLayer: layers?.spatialLayer ?? null,
        temporalLayer: layers?.temporalLayer ?? null,
      }),
    );
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get info(): PeerInfo {
    return peerInfo(this.id, this.grants);
  }

  get rosterEntry(): RosterEntry {
    const scores = [...this.endpoint.producers.values()].flatMap((p) => p.score.map((s) => s.score));
    const quality = scores.length ? Math.round((scores.reduce((a, b) => a + b, 0) / scores.length) * 10) / 10 : undefined;
    return { ...rosterEntry(this.id, this.grants), quality };
  }

  producerInfos(): ProducerInfo[] {
    return [...this.endpoint.producers.values()].map((p) => producerInfo(p, this.id));
  }

  close(reason: CloseReason): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.endpoint.close();
    this.emit('close', reason);
  }
}

/** What a client needs to wire up a consumer of `producer`. */
export function consumerInfo(consumer: types.Consumer, producer: types.Producer): ConsumerInfo {
  return {
    consumerId: consumer.id,
    producerId: producer.id,
    peerId: producer.appData.endpointId as string,
    kind: consumer.kind,
    source: producer.appData.source as MediaSource,
    channel: producer.appData.channel as string,
    rtpParameters: consumer.rtpParameters,
    producerPaused: consumer.producerPaused,
  };
}

export function producerInfo(producer: types.Producer, peerId: string): ProducerInfo {
  return {
    producerId: producer.id,
    peerId,
    kind: producer.kind,
    source: producer.appData.source as MediaSource,
    channel: producer.appData.channel as string,
    paused: producer.paused,
  };
}

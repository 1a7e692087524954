import type { types } from 'mediasoup';
import { CloseReason, ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { ServerEvents } from '../../protocol/signaling.js';
import type { ClusterBus } from '../cluster/cluster-bus.js';
import type { Logger } from '../logger.js';
import type { Participant } from '../rooms/participant.js';
import type { Room } from '../rooms/room.js';
import { delegatesTopic, PERSONAL_EVENTS, type CascadeParams, type CascadeResult, type DelegateMessage } from './cascade-protocol.js';
import { delegateOnly } from './edge-policy.js';

/** Answers a delegate's forwarded request as if its socket were here (the signaling layer provides it). */
export type ForwardedAnswer = (room: Room, participant: Participant, method: string, data: unknown) => Promise<unknown>;

const SOURCE_KIND = { mic: 'audio', camera: 'video', screen: 'video' } as const;

/**
 * On a room's origin: the delegates that edge nodes serve. Each has a copy here, a participant like any
 * other in the roster, the quorum, the floor and the attendance, whose producers are the ones its edge sends
 * up the pipe (same ids). The copy receives nothing here (its edge makes its consumers). What is said to the
 * copy alone goes back to its edge on a per-edge topic; what is said to the room travels on the room's topic.
 */
export class OriginDelegates {
  /** Copies closed because their edge said so (nothing to tell it back). */
  private readonly unseating = new WeakSet<Participant>();
  answerForwarded: ForwardedAnswer | undefined;

  constructor(
    private readonly bus: ClusterBus,
    /** The pipe from this room to that edge node, if it attached. */
    private readonly pipeTo: (roomId: string, edgeNode: string) => types.PipeTransport | undefined,
    private readonly log: Logger,
  ) {}

  seat(room: Room, from: string, { peerId, grants }: CascadeParams<'cascade.seat'>): CascadeResult<'cascade.seat'> {
    // The edge checked the person; what an edge may serve, and in which room, is checked again here.
    if (grants.room !== room.id) throw new ProtocolError(ErrorCode.FORBIDDEN, 'these grants are for another room');
    if (!delegateOnly(grants) || !grants.subscribe) throw new ProtocolError(ErrorCode.FORBIDDEN, 'an edge node serves delegates who speak on the floor only');
    if (!this.pipeTo(room.id, from)) throw new ProtocolError(ErrorCode.INVALID_STATE, 'attach before seating delegates');
    const topic = delegatesTopic(room.id, from);
    const send = (message: DelegateMessage['message']): void => {
      this.bus.publish(topic, { peerId, message } satisfies DelegateMessage).catch((error: Error) => this.log.debug({ err: error.message, room: room.id, peerId }, 'delegate message not sent'));
    };
    const notify = <E extends keyof ServerEvents>(event: E, data: ServerEvents[E]): void => {
      // What is said to the room reaches the edge on the room's topic; only this person's own events go here.
      if (PERSONAL_EVENTS.has(event)) send({ type: 'event', event, data } as DelegateMessage['message']);
    };
    const participant = room.join(peerId, grants, room.media.rtpCapabilities, notify, from);
    participant.once('close', (reason) => {
      if (!this.unseating.has(participant)) send({ type: 'closed', reason });
    });
    this.log.info({ room: room.id, peerId, edge: from }, 'delegate seated from an edge');
    return null;
  }

  unseat(room: Room, from: string, { peerId }: CascadeParams<'cascade.unseat'>): CascadeResult<'cascade.unseat'> {
    const copy = room.participants.get(peerId);
    // Only the edge that seated it: a delegate who has moved on to another edge stays.
    if (!copy || copy.servedBy !== from) return null;
    this.unseating.add(copy);
    copy.close(CloseReason.LEFT);
    return null;
  }

  async publish(room: Room, from: string, params: CascadeParams<'cascade.publish'>): Promise<CascadeResult<'cascade.publish'>> {
    const copy = this.copyOf(room, from, params.peerId);
    const pipe = this.pipeTo(room.id, from);
    if (!pipe) throw new ProtocolError(ErrorCode.INVALID_STATE, 'attach before publishing');
    if (SOURCE_KIND[params.source] !== params.kind) throw new ProtocolError(ErrorCode.BAD_REQUEST, `a ${params.source} source carries ${SOURCE_KIND[params.source]}`);
    if (params.kind === 'video' && room.isBlocked(copy.id, 'video')) {
      throw new ProtocolError(ErrorCode.MUTED_BY_MODERATOR, 'the secretariat switched your video off; it stays off until they allow it again');
    }
    const producer = await pipe.produce({
      id: params.producerId,
      kind: params.kind,
      rtpParameters: params.rtpParameters as types.RtpParameters,
      paused: params.paused,
      appData: { source: params.source, channel: 'floor', endpointId: copy.id },
    });
    if (copy.closed) {
      producer.close();
      throw new ProtocolError(ErrorCode.NOT_JOINED, 'the delegate has left');
    }
    copy.endpoint.adoptProducer(producer, room.media.router);
    // As for a microphone published here: not heard unless it may be (a moderated floor, a moderator's mute).
    if (params.kind === 'audio' && !room.mayBeHeardOnFloor(copy)) await producer.pause();
    room.announceProducer(copy, producer);
    return { paused: producer.paused };
  }

  unpublish(room: Room, from: string, { peerId, producerId }: CascadeParams<'cascade.unpublish'>): CascadeResult<'cascade.unpublish'> {
    const copy = room.participants.get(peerId);
    if (copy?.servedBy === from) copy.endpoint.producers.get(producerId)?.close();
    return null;
  }

  async forward(room: Room, from: string, { peerId, method, data }: CascadeParams<'cascade.forward'>): Promise<unknown> {
    const copy = this.copyOf(room, from, peerId);
    if (!this.answerForwarded) throw new ProtocolError(ErrorCode.UNAVAILABLE, 'this node is not ready for forwarded requests');
    return this.answerForwarded(room, copy, method, data);
  }

  /** An edge's pipe closed (it detached, died or attached again): the delegates it served go with it. */
  edgeGone(room: Room | undefined, edgeNode: string): void {
    if (!room || room.closed) return;
    for (const p of [...room.participants.values()]) {
      if (p.servedBy !== edgeNode) continue;
      this.unseating.add(p);
      p.close(CloseReason.DISCONNECTED);
    }
  }

  /** The copy of a delegate that this edge seated in this room; ids of other rooms or edges are not found. */
  private copyOf(room: Room, from: string, peerId: string): Participant {
    const copy = room.participants.get(peerId);
    if (!copy || copy.servedBy !== from || copy.closed) throw new ProtocolError(ErrorCode.NOT_JOINED, `no delegate ${peerId} seated from this edge`);
    return copy;
  }
}

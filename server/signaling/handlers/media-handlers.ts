import type { types } from 'mediasoup';
import { publishRefusal } from '../../../accreditation/policy.js';
import { ErrorCode, ProtocolError } from '../../../protocol/errors.js';
import type { JoinGrants } from '../../auth/join-token.js';
import { consumerInfo } from '../../rooms/participant.js';
import { forbidden, type HandlerSet } from './context.js';

export type MediaMethod =
  | 'createWebRtcTransport'
  | 'connectWebRtcTransport'
  | 'restartIce'
  | 'produce'
  | 'closeProducer'
  | 'pauseProducer'
  | 'resumeProducer'
  | 'consume'
  | 'pauseConsumer'
  | 'closeConsumer'
  | 'resumeConsumer'
  | 'setConsumerPreferredLayers'
  | 'setView';

const SOURCE_KIND = { mic: 'audio', camera: 'video', screen: 'video' } as const;

/**
 * The floor needs the floor grant; a language channel needs that booth among the grants, and audio; a
 * sign-language channel (`signLanguages`) that booth, and video (accreditation/policy.ts `publishRefusal`).
 */
export function requireChannel(grants: JoinGrants, channel: string, kind: 'audio' | 'video', signLanguages: readonly string[] = []): void {
  switch (publishRefusal(grants.publish, channel, kind, signLanguages)) {
    case null:
      return;
    case 'NO_FLOOR_GRANT':
      return forbidden('publish into the floor');
    case 'NOT_YOUR_BOOTH': {
      const own = grants.publish.booths;
      return forbidden(`publish into the ${channel} channel${own.length ? ` (your booth: ${own.join(', ')})` : ''}`);
    }
    case 'WRONG_MEDIA':
      throw new ProtocolError(ErrorCode.BAD_REQUEST, signLanguages.includes(channel) ? 'sign-language channels carry the signer\'s camera only' : 'language channels carry audio only');
  }
}

function requireSignChannel(interpretation: { requireChannel(c: string): void; isSign(c: string): boolean }, language: string): void {
  interpretation.requireChannel(language);
  if (!interpretation.isSign(language)) throw new ProtocolError(ErrorCode.BAD_REQUEST, `${language} is not a sign-language channel`);
}

/**
 * A request on a consumer that the worker closed meanwhile (its producer went, e.g. a piped one on an edge):
 * the worker answers "not found", and the client hears so, not an internal error.
 */
async function onConsumer(consumer: types.Consumer, request: () => Promise<void>): Promise<Record<string, never>> {
  try {
    await request();
  } catch (error) {
    if (consumer.closed) throw new ProtocolError(ErrorCode.NOT_FOUND, 'that consumer has closed');
    throw error;
  }
  return {};
}

const notAudible = (): ProtocolError => new ProtocolError(ErrorCode.NOT_AUDIBLE, 'that microphone is not audible now; it is announced when it is');

const mutedByModerator = (what: string): ProtocolError =>
  new ProtocolError(ErrorCode.MUTED_BY_MODERATOR, `the secretariat switched your ${what} off; it stays off until they allow it again`);

/** Transports, producers and consumers of the caller's own media endpoint. */
export const mediaHandlers: HandlerSet<MediaMethod> = {
  createWebRtcTransport: async ({ participant, room, grants }, { direction }) => {
    if (direction === 'send' && !grants.publish.floor && grants.publish.booths.length === 0) forbidden('publish');
    if (direction === 'recv' && !grants.subscribe) forbidden('receive media');
    const t = await participant.endpoint.createWebRtcTransport(direction);
    // The server's consumers for this receiver follow the answer (the client wires them to this transport).
    if (direction === 'recv') setImmediate(() => room.forwarding.receiverReady(participant));
    return { id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters };
  },

  connectWebRtcTransport: async ({ participant }, { transportId, dtlsParameters }) => {
    await participant.endpoint.connectTransport(transportId, dtlsParameters as types.DtlsParameters);
    return {};
  },

  restartIce: async ({ participant }, { transportId }) => ({ iceParameters: await participant.endpoint.transport(transportId).restartIce() }),

  produce: async ({ participant, room, grants }, { transportId, kind, rtpParameters, source, channel }) => {
    if (SOURCE_KIND[source] !== kind) throw new ProtocolError(ErrorCode.BAD_REQUEST, `a ${source} source carries ${SOURCE_KIND[source]}`);
    requireChannel(grants, channel, kind, room.interpretation.signLanguages);
    // A signer publishes their camera, not a screen, into a sign channel.
    if (channel !== 'floor' && kind === 'video' && source !== 'camera') throw new ProtocolError(ErrorCode.BAD_REQUEST, 'a sign-language channel carries the signer\'s camera');
    if (kind === 'video' && room.isBlocked(participant.id, 'video')) throw mutedByModerator('video');
    room.interpretation.requireChannel(channel);
    const producer = await participant.endpoint.produce(transportId, kind, rtpParameters as types.RtpParameters, { source, channel });
    try {
      if (room.isEdge) {
        // A delegate served by an edge: the origin takes the producer through the pipe and says whether it may be heard.
        await room.toOrigin().publish(participant, producer);
      } else {
        // Booth producers start paused unless their interpreter is live; a floor microphone starts paused unless
        // it may be heard (moderated floor, a moderator's mute): before anyone can consume them.
        await room.interpretation.onProducer(participant, producer);
        if (channel === 'floor' && kind === 'audio' && !room.mayBeHeardOnFloor(participant)) await producer.pause();
      }
    } catch (error) {
      producer.close();
      throw error;
    }
    room.announceProducer(participant, producer);
    return { producerId: producer.id };
  },

  closeProducer: async ({ participant }, { producerId }) => {
    participant.endpoint.producer(producerId).close();
    return {};
  },

  pauseProducer: async ({ participant }, { producerId }) => {
    await participant.endpoint.producer(producerId).pause();
    return {};
  },

  resumeProducer: async ({ participant, room, grants }, { producerId }) => {
    const producer = participant.endpoint.producer(producerId);
    const channel = producer.appData.channel as string;
    // Grants may have changed since the producer was created.
    requireChannel(grants, channel, producer.kind, room.interpretation.signLanguages);
    // A booth microphone is resumed by going live, never directly: one live microphone per booth.
    if (channel !== 'floor') throw new ProtocolError(ErrorCode.INVALID_STATE, 'booth microphones open by going live (boothGoLive)');
    if (producer.kind === 'audio' && room.isBlocked(participant.id, 'mic')) throw mutedByModerator('microphone');
    if (producer.kind === 'video' && room.isBlocked(participant.id, 'video')) throw mutedByModerator('video');
    if (producer.kind === 'audio' && !room.mayBeHeardOnFloor(participant)) throw new ProtocolError(ErrorCode.FORBIDDEN, 'you do not hold the floor; request it');
    await producer.resume();
    return {};
  },

  consume: async ({ participant, room }, { producerId }) => {
    // Only the audible floor microphones are received: this bounds what one receiver holds, whatever the room's size.
    if (!room.mayConsume(producerId)) throw notAudible();
    const producer = await room.findProducer(producerId);
    if (!producer) throw new ProtocolError(ErrorCode.NOT_FOUND, `no producer ${producerId} in this room`);
    if (room.serverSelects(producer)) {
      throw new ProtocolError(ErrorCode.SERVER_SELECTED, 'the server sends this one itself (newConsumer) while it is audible or on your screen (setView)');
    }
    const consumer = await participant.endpoint.consume(producer, participant.rtpCapabilities);
    // It may have left the audible set while its consumer was being made: that consumer is not kept.
    if (!room.mayConsume(producerId)) {
      consumer.close();
      throw notAudible();
    }
    return consumerInfo(consumer, producer);
  },

  pauseConsumer: async ({ participant }, { consumerId }) => {
    const consumer = participant.endpoint.consumer(consumerId);
    return onConsumer(consumer, () => consumer.pause());
  },

  closeConsumer: async ({ participant }, { consumerId }) => {
    participant.endpoint.consumer(consumerId).close();
    return {};
  },

  resumeConsumer: async ({ participant }, { consumerId }) => {
    const consumer = participant.endpoint.consumer(consumerId);
    return onConsumer(consumer, () => consumer.resume());
  },

  setView: async ({ participant, room }, { stage, tiles, sign }) => {
    // On an edge the stage comes by announcement; the gallery's cameras are piped in and pushed there.
    if (room.isEdge) room.toOrigin().setView(participant, { stage, tiles });
    else {
      // A pinned sign channel must be one of the session's (an unknown one is NOT_FOUND, a spoken one BAD_REQUEST).
      if (sign) requireSignChannel(room.interpretation, sign.language);
      room.forwarding.setView(participant, { stage, tiles, sign: sign ?? null });
    }
    return { tiles: tiles.length };
  },

  setConsumerPreferredLayers: async ({ participant }, { consumerId, spatialLayer, temporalLayer }) => {
    const consumer = participant.endpoint.consumer(consumerId);
    return onConsumer(consumer, () => consumer.setPreferredLayers({ spatialLayer, temporalLayer }));
  },
};

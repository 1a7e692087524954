import type { types } from 'mediasoup';
import type { Socket } from 'socket.io';
import { CloseReason, ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { RequestData, ResponseData, ServerEvents } from '../../protocol/signaling.js';
import type { JoinClaims } from '../auth/join-token.js';
import type { Logger } from '../logger.js';
import type { Participant } from '../rooms/participant.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { RateLimiter } from './rate-limiter.js';
import { admitRequest, failure, toErrorBody, type ValidRequest } from './request-guard.js';

export interface ConnectionLimits {
  maxMessageBytes: number;
  ratePerSecond: number;
  rateBurst: number;
}

export interface RequestObserver {
  (method: string, outcome: string): void;
}

type Handlers = { [M in keyof ResponseData]: (data: RequestData<M>) => Promise<ResponseData[M]> };

const SOURCE_KIND = { mic: 'audio', camera: 'video', screen: 'video' } as const;

/**
 * One authenticated socket: validates every message, enforces the join token's grants on each one, and
 * drives the participant it joins as. The participant closes with the socket.
 */
export class ClientConnection {
  private participant: Participant | undefined;
  private readonly limiter: RateLimiter;
  private readonly log: Logger;
  private readonly handlers: Handlers;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly claims: JoinClaims,
    private readonly rooms: RoomRegistry,
    private readonly limits: ConnectionLimits,
    log: Logger,
    private readonly observe: RequestObserver,
  ) {
    this.limiter = new RateLimiter(limits.ratePerSecond, limits.rateBurst);
    this.log = log.child({ socket: socket.id, subject: claims.subject, room: claims.grants.room });
    this.handlers = this.createHandlers();
    socket.onAny((event: string, ...args: unknown[]) => void this.onMessage(event, args));
    socket.on('disconnect', (reason) => this.close(reason));
  }

  close(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.log.debug({ why }, 'connection closed');
    this.participant?.close(CloseReason.DISCONNECTED);
    this.participant = undefined;
  }

  private async onMessage(method: string, args: unknown[]): Promise<void> {
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? (last as (answer: unknown) => void) : undefined;
    let request: ValidRequest;
    try {
      if (!ack) throw new ProtocolError(ErrorCode.BAD_REQUEST, 'every request needs an acknowledgement callback');
      if (args.length > 2) throw new ProtocolError(ErrorCode.BAD_REQUEST, 'a request carries one payload');
      request = admitRequest(method, args[0], this.limits.maxMessageBytes, this.limiter);
    } catch (error) {
      const body = toErrorBody(error, this.log, method);
      this.observe(method, body.code);
      if (ack) ack(failure(body));
      else this.emit('protocolError', { method: String(method).slice(0, 64), ...body });
      return;
    }
    try {
      const handler = this.handlers[request.method] as (data: unknown) => Promise<unknown>;
      const data = await handler(request.data);
      this.observe(request.method, 'ok');
      ack({ ok: true, data });
    } catch (error) {
      const body = toErrorBody(error, this.log, request.method);
      this.observe(request.method, body.code);
      ack(failure(body));
    }
  }

  private emit<E extends keyof ServerEvents>(event: E, data: ServerEvents[E]): void {
    this.socket.emit(event, data);
  }

  private joined(): Participant {
    if (!this.participant || this.participant.closed) throw new ProtocolError(ErrorCode.NOT_JOINED, 'join the room first');
    return this.participant;
  }

  private require(grant: 'canPublish' | 'canSubscribe', action: string): void {
    if (!this.claims.grants[grant]) throw new ProtocolError(ErrorCode.FORBIDDEN, `your grants do not allow you to ${action}`);
  }

  private async room(): Promise<Room> {
    return this.rooms.getOrCreate(this.claims.grants.room);
  }

  private createHandlers(): Handlers {
    return {
      getRouterRtpCapabilities: async () => ({ rtpCapabilities: (await this.room()).media.rtpCapabilities }),

      join: async ({ rtpCapabilities }) => {
        if (this.participant) throw new ProtocolError(ErrorCode.ALREADY_JOINED, 'already joined');
        let room = await this.room();
        // The room may close between lookup and join (its worker died); one fresh lookup settles it.
        if (room.closed) room = await this.room();
        if (this.closed) throw new ProtocolError(ErrorCode.INVALID_STATE, 'the connection has closed');
        const participant = room.join(
          this.claims.subject,
          this.claims.grants,
          rtpCapabilities as types.RtpCapabilities,
          (event, data) => this.emit(event, data),
        );
        this.participant = participant;
        participant.once('close', (reason) => {
          if (reason !== CloseReason.DISCONNECTED && reason !== CloseReason.LEFT) this.socket.disconnect(true);
        });
        const others = [...room.participants.values()].filter((p) => p !== participant);
        return {
          self: participant.info,
          peers: others.map((p) => p.info),
          producers: this.claims.grants.canSubscribe ? others.flatMap((p) => p.producerInfos()) : [],
        };
      },

      createWebRtcTransport: async ({ direction }) => {
        const participant = this.joined();
        this.require(direction === 'send' ? 'canPublish' : 'canSubscribe', direction === 'send' ? 'publish' : 'receive');
        const t = await participant.endpoint.createWebRtcTransport(direction);
        return { id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters };
      },

      connectWebRtcTransport: async ({ transportId, dtlsParameters }) => {
        await this.joined().endpoint.connectTransport(transportId, dtlsParameters as types.DtlsParameters);
        return {};
      },

      restartIce: async ({ transportId }) => ({ iceParameters: await this.joined().endpoint.transport(transportId).restartIce() }),

      produce: async ({ transportId, kind, rtpParameters, source }) => {
        const participant = this.joined();
        this.require('canPublish', 'publish');
        if (SOURCE_KIND[source] !== kind) throw new ProtocolError(ErrorCode.BAD_REQUEST, `a ${source} source carries ${SOURCE_KIND[source]}`);
        const producer = await participant.endpoint.produce(transportId, kind, rtpParameters as types.RtpParameters, { source });
        (await this.room()).announceProducer(participant, producer);
        return { producerId: producer.id };
      },

      closeProducer: async ({ producerId }) => {
        this.joined().endpoint.producer(producerId).close();
        return {};
      },
      pauseProducer: async ({ producerId }) => {
        await this.joined().endpoint.producer(producerId).pause();
        return {};
      },
      resumeProducer: async ({ producerId }) => {
        this.require('canPublish', 'publish');
        await this.joined().endpoint.producer(producerId).resume();
        return {};
      },

      consume: async ({ producerId }) => {
        const participant = this.joined();
        this.require('canSubscribe', 'receive');
        const producer = (await this.room()).media.findProducer(producerId);
        if (!producer) throw new ProtocolError(ErrorCode.NOT_FOUND, `no producer ${producerId} in this room`);
        const consumer = await participant.endpoint.consume(producer, participant.rtpCapabilities);
        return {
          consumerId: consumer.id,
          producerId,
          peerId: producer.appData.endpointId as string,
          kind: consumer.kind,
          source: producer.appData.source as 'mic' | 'camera' | 'screen',
          rtpParameters: consumer.rtpParameters,
          producerPaused: consumer.producerPaused,
        };
      },
      pauseConsumer: async ({ consumerId }) => {
        await this.joined().endpoint.consumer(consumerId).pause();
        return {};
      },
      resumeConsumer: async ({ consumerId }) => {
        this.require('canSubscribe', 'receive');
        await this.joined().endpoint.consumer(consumerId).resume();
        return {};
      },
      setConsumerPreferredLayers: async ({ consumerId, spatialLayer, temporalLayer }) => {
        await this.joined().endpoint.consumer(consumerId).setPreferredLayers({ spatialLayer, temporalLayer });
        return {};
      },

      leave: async () => {
        this.joined().close(CloseReason.LEFT);
        this.participant = undefined;
        return {};
      },
    };
  }
}

import type { types } from 'mediasoup';
import type { Socket } from 'socket.io';
import type { AuditDecision, AuditLog } from '../../accreditation/audit-log.js';
import { CloseReason, ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { MediaSource, RequestData, ResponseData, ServerEvents } from '../../protocol/signaling.js';
import type { JoinClaims, JoinGrants, JoinTokenService } from '../auth/join-token.js';
import type { TranscriptStore } from '../interpretation/transcript-store.js';
import type { Booth } from '../interpretation/booth.js';
import { applyChannelSelection } from '../interpretation/channel-selection.js';
import type { Logger } from '../logger.js';
import { rosterEntry, type Participant } from '../rooms/participant.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { RateLimiter } from './rate-limiter.js';
import type { RoomLease } from '../cluster/coordinator.js';
import { EDGE_METHODS } from '../cascade/edge-policy.js';
import { admitRequest, failure, toErrorBody, type ValidRequest } from './request-guard.js';

export interface ConnectionLimits {
  maxMessageBytes: number;
  ratePerSecond: number;
  rateBurst: number;
}

export interface RequestObserver {
  (method: string, outcome: string): void;
}

export interface ConnectionDeps {
  rooms: RoomRegistry;
  limits: ConnectionLimits;
  log: Logger;
  observe: RequestObserver;
  audit: AuditLog;
  transcripts: TranscriptStore;
  tokens: JoinTokenService;
  /** URLs of the cluster's live nodes (this one included). */
  clusterNodes: () => Promise<string[]>;
  /** Whether listeners of a room receive every language channel or only the one they chose. */
  listenerChannels: (roomId: string) => 'all' | 'selected';
}

type Handlers = { [M in keyof ResponseData]: (data: RequestData<M>) => Promise<ResponseData[M]> };

const SOURCE_KIND = { mic: 'audio', camera: 'video', screen: 'video' } as const;

/**
 * One authenticated socket: validates every message, enforces the join token's grants on each one, and
 * drives the participant it joins as (or the lobby place it waits in). The participant closes with the socket.
 */
export class ClientConnection {
  private participant: Participant | undefined;
  private readonly grants: JoinGrants;
  private readonly limiter: RateLimiter;
  private readonly log: Logger;
  private readonly handlers: Handlers;
  private lobbyRoom: Room | undefined;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly claims: JoinClaims,
    private readonly deps: ConnectionDeps,
    /** Set when this node serves the connection as an edge of a room owned by another node. */
    private readonly edgeOf?: RoomLease,
  ) {
    // A copy: grants change live for this connection only (lobby admission), never in the token.
    this.grants = structuredClone(claims.grants);
    this.limiter = new RateLimiter(deps.limits.ratePerSecond, deps.limits.rateBurst);
    this.log = deps.log.child({ socket: socket.id, person: claims.subject, room: claims.grants.room });
    this.handlers = this.createHandlers();
    socket.onAny((event: string, ...args: unknown[]) => void this.onMessage(event, args));
    socket.on('disconnect', (reason) => this.close(reason));
    if (this.grants.lobby) void this.waitInLobby();
  }

  close(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.log.debug({ why }, 'connection closed');
    this.lobbyRoom?.leaveLobby(this.claims.subject);
    this.participant?.close(CloseReason.DISCONNECTED);
    this.participant = undefined;
  }

  private async waitInLobby(): Promise<void> {
    let room: Room;
    try {
      room = await this.room();
    } catch (error) {
      this.emit('removed', { reason: CloseReason.SERVER_SHUTDOWN, message: toErrorBody(error, this.log, 'lobby').message });
      this.socket.disconnect(true);
      return;
    }
    if (this.closed) return;
    this.lobbyRoom = room;
    room.enterLobby({
      id: this.claims.subject,
      grants: this.grants,
      entry: rosterEntry(this.claims.subject, this.grants),
      admit: () => {
        this.grants.lobby = false;
        this.lobbyRoom = undefined;
        room.leaveLobby(this.claims.subject);
        this.emit('lobbyAdmitted', {});
      },
      remove: (reason, message) => {
        this.lobbyRoom = undefined;
        room.leaveLobby(this.claims.subject);
        this.emit('removed', { reason, message });
        this.socket.disconnect(true);
      },
    });
    this.emit('lobbyWaiting', {});
  }

  private async onMessage(method: string, args: unknown[]): Promise<void> {
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? (last as (answer: unknown) => void) : undefined;
    let request: ValidRequest;
    try {
      if (!ack) throw new ProtocolError(ErrorCode.BAD_REQUEST, 'every request needs an acknowledgement callback');
      if (args.length > 2) throw new ProtocolError(ErrorCode.BAD_REQUEST, 'a request carries one payload');
      request = admitRequest(method, args[0], this.deps.limits.maxMessageBytes, this.limiter);
      if (this.grants.lobby) throw new ProtocolError(ErrorCode.IN_LOBBY, 'you are in the lobby; the secretariat has not admitted you yet');
      if (this.edgeOf && !EDGE_METHODS.has(request.method)) {
        throw new ProtocolError(ErrorCode.FORBIDDEN, 'this node relays the room to listeners only; reconnect to speak or moderate');
      }
    } catch (error) {
      const body = toErrorBody(error, this.log, method);
      this.deps.observe(method, body.code);
      if (ack) ack(failure(body));
      else this.emit('protocolError', { method: String(method).slice(0, 64), ...body });
      return;
    }
    try {
      const handler = this.handlers[request.method] as (data: unknown) => Promise<unknown>;
      const data = await handler(request.data);
      this.deps.observe(request.method, 'ok');
      ack({ ok: true, data });
    } catch (error) {
      const body = toErrorBody(error, this.log, request.method);
      this.deps.observe(request.method, body.code);
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

  private forbidden(action: string): never {
    throw new ProtocolError(ErrorCode.FORBIDDEN, `your grants do not allow you to ${action}`);
  }

  private requireSubscribe(): void {
    if (!this.grants.subscribe) this.forbidden('receive media');
  }

  private requireModerate(action: string): void {
    if (!this.grants.moderate) this.forbidden(action);
  }

  private get mayPublishAnything(): boolean {
    return this.grants.publish.floor || this.grants.publish.booths.length > 0;
  }

  /** The floor needs the floor grant; a language channel needs that booth among the grants, and audio. */
  private requireChannel(channel: string, kind: 'audio' | 'video'): void {
    if (channel === 'floor') {
      if (!this.grants.publish.floor) this.forbidden('publish into the floor');
      return;
    }
    if (!this.grants.publish.booths.includes(channel)) {
      const own = this.grants.publish.booths;
      this.forbidden(`publish into the ${channel} channel${own.length ? ` (your booth: ${own.join(', ')})` : ''}`);
    }
    if (kind !== 'audio') throw new ProtocolError(ErrorCode.BAD_REQUEST, 'language channels carry audio only');
  }

  private async boothAction(language: string, action: (booth: Booth, participantId: string) => Promise<void>): Promise<Record<string, never>> {
    const participant = this.joined();
    if (!this.grants.publish.booths.includes(language)) this.forbidden(`work in the ${language} booth`);
    await (await this.room()).interpretation.act(language, (booth) => action(booth, participant.id));
    return {};
  }

  private speakerEntry(p: Participant, kind: 'speaker' | 'point_of_order') {
    return { id: p.id, name: p.grants.name, entity: p.grants.entity.name, kind };
  }

  private target(room: Room, participantId: string): Participant {
    const target = room.participants.get(participantId);
    if (!target) throw new ProtocolError(ErrorCode.NOT_FOUND, `no participant ${participantId}`);
    return target;
  }

  private async room(): Promise<Room> {
    return this.edgeOf ? this.deps.rooms.getOrCreateEdge(this.grants.room, this.edgeOf) : this.deps.rooms.getOrCreate(this.grants.room);
  }

  private audit(decision: AuditDecision, target: JoinGrants, reasons: string[]): void {
    this.deps.audit
      .append({
        eventId: this.grants.event,
        sessionId: this.grants.room,
        personId: target.person,
        name: target.name,
        role: target.role,
        entity: target.entity.name,
        decision,
        reasons,
        source: 'secretariat',
        actor: this.grants.person,
      })
      .catch((error: unknown) => this.log.error({ err: error }, 'audit append failed'));
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
        const participant = room.join(this.claims.subject, this.grants, rtpCapabilities as types.RtpCapabilities, (event, data) =>
          this.emit(event, data),
        );
        this.participant = participant;
        participant.once('close', (reason) => {
          if (reason !== CloseReason.DISCONNECTED && reason !== CloseReason.LEFT) this.socket.disconnect(true);
        });
        const view = room.view(participant);
        return {
          self: participant.info,
          peers: view.peers,
          producers: this.grants.subscribe ? view.producers : [],
          channels: view.channels,
          booths: room.interpretation.boothStatesOf(participant.id),
          floor: view.floor,
          resumeToken: this.deps.tokens.issue(this.claims.subject, { ...this.grants, lobby: false }, 'resume'),
          nodes: await this.deps.clusterNodes().catch(() => []),
          listenerChannels: this.deps.listenerChannels(room.id),
        };
      },

      createWebRtcTransport: async ({ direction }) => {
        const participant = this.joined();
        if (direction === 'send' && !this.mayPublishAnything) this.forbidden('publish');
        if (direction === 'recv') this.requireSubscribe();
        const t = await participant.endpoint.createWebRtcTransport(direction);
        return { id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters };
      },

      connectWebRtcTransport: async ({ transportId, dtlsParameters }) => {
        await this.joined().endpoint.connectTransport(transportId, dtlsParameters as types.DtlsParameters);
        return {};
      },

      restartIce: async ({ transportId }) => ({ iceParameters: await this.joined().endpoint.transport(transportId).restartIce() }),

      produce: async ({ transportId, kind, rtpParameters, source, channel }) => {
        const participant = this.joined();
        if (SOURCE_KIND[source] !== kind) throw new ProtocolError(ErrorCode.BAD_REQUEST, `a ${source} source carries ${SOURCE_KIND[source]}`);
        this.requireChannel(channel, kind);
        const room = await this.room();
        room.interpretation.requireChannel(channel);
        const producer = await participant.endpoint.produce(transportId, kind, rtpParameters as types.RtpParameters, { source, channel });
        try {
          // Booth producers start paused unless their interpreter is live, and under a moderated floor a
          // delegate's microphone starts paused unless they hold the floor: before anyone can consume them.
          await room.interpretation.onProducer(participant, producer);
          if (channel === 'floor' && kind === 'audio' && !room.mayBeHeardOnFloor(participant)) await producer.pause();
        } catch (error) {
          producer.close();
          throw error;
        }
        room.announceProducer(participant, producer);
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
        const producer = this.joined().endpoint.producer(producerId);
        const channel = producer.appData.channel as string;
        // Grants may have changed since the producer was created.
        this.requireChannel(channel, producer.kind);
        // A booth microphone is resumed by going live, never directly: one live microphone per booth.
        if (channel !== 'floor') throw new ProtocolError(ErrorCode.INVALID_STATE, 'booth microphones open by going live (boothGoLive)');
        if (producer.kind === 'audio' && !(await this.room()).mayBeHeardOnFloor(this.joined())) {
          throw new ProtocolError(ErrorCode.FORBIDDEN, 'you do not hold the floor; request it');
        }
        await producer.resume();
        return {};
      },

      consume: async ({ producerId }) => {
        const participant = this.joined();
        this.requireSubscribe();
        const producer = await (await this.room()).findProducer(producerId);
        if (!producer) throw new ProtocolError(ErrorCode.NOT_FOUND, `no producer ${producerId} in this room`);
        const consumer = await participant.endpoint.consume(producer, participant.rtpCapabilities);
        return {
          consumerId: consumer.id,
          producerId,
          peerId: producer.appData.endpointId as string,
          kind: consumer.kind,
          source: producer.appData.source as MediaSource,
          channel: producer.appData.channel as string,
          rtpParameters: consumer.rtpParameters,
          producerPaused: consumer.producerPaused,
        };
      },
      pauseConsumer: async ({ consumerId }) => {
        await this.joined().endpoint.consumer(consumerId).pause();
        return {};
      },
      closeConsumer: async ({ consumerId }) => {
        this.joined().endpoint.consumer(consumerId).close();
        return {};
      },
      resumeConsumer: async ({ consumerId }) => {
        this.requireSubscribe();
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

      selectChannel: async ({ channel }) => {
        const participant = this.joined();
        this.requireSubscribe();
        const room = await this.room();
        room.interpretation.requireChannel(channel);
        participant.selectedChannel = channel;
        await applyChannelSelection(participant.endpoint.consumers.values(), channel);
        return { channel, live: room.channelLive(channel) };
      },

      boothGoLive: async ({ language }) => this.boothAction(language, (booth, id) => booth.goLive(id)),
      boothGoOff: async ({ language }) => this.boothAction(language, (booth, id) => booth.goOff(id)),
      boothCough: async ({ language, active }) => this.boothAction(language, (booth, id) => booth.cough(id, active)),
      boothHandover: async ({ language, action }) => this.boothAction(language, (booth, id) => booth.handoverAction(id, action)),
      boothChat: async ({ language, text }) => {
        (await this.room()).interpretation.chat(this.joined(), language, text);
        return {};
      },

      publishCaption: async ({ language, text, final }) => {
        const participant = this.joined();
        if (!this.grants.publish.captions) this.forbidden('publish captions');
        const room = await this.room();
        room.interpretation.requireChannel(language);
        const at = Date.now();
        room.broadcast('caption', { language, text, final, at });
        if (final && text.trim()) await this.deps.transcripts.append(room.id, language, { at, by: participant.grants.name, text });
        return {};
      },

      assignInterpreter: async ({ participantId, language }) => {
        this.requireModerate('assign interpreters');
        const room = await this.room();
        const target = this.target(room, participantId);
        room.interpretation.assign(target, language);
        return {};
      },

      requestFloor: async ({ kind }) => {
        const participant = this.joined();
        if (!this.grants.publish.floor) this.forbidden('take the floor');
        (await this.room()).floor.request(this.speakerEntry(participant, kind));
        return {};
      },
      withdrawFloorRequest: async () => {
        (await this.room()).floor.withdraw(this.joined().id);
        return {};
      },
      giveFloor: async ({ participantId }) => {
        this.requireModerate('give the floor');
        (await this.room()).floor.give(participantId);
        return {};
      },
      takeFloor: async () => {
        this.requireModerate('take the floor back');
        (await this.room()).floor.take();
        return {};
      },
      addSpeaker: async ({ participantId, kind }) => {
        this.requireModerate('add to the speakers list');
        const room = await this.room();
        const target = this.target(room, participantId);
        room.floor.request(this.speakerEntry(target, kind));
        return {};
      },
      removeSpeaker: async ({ participantId }) => {
        this.requireModerate('remove from the speakers list');
        if (!(await this.room()).floor.withdraw(participantId)) throw new ProtocolError(ErrorCode.NOT_FOUND, `${participantId} is not on the speakers list`);
        return {};
      },
      moveSpeaker: async ({ participantId, position }) => {
        this.requireModerate('reorder the speakers list');
        (await this.room()).floor.move(participantId, position);
        return {};
      },
      muteParticipant: async ({ participantId }) => {
        this.requireModerate('mute a participant');
        const room = await this.room();
        const target = this.target(room, participantId);
        if (room.floor.speakerId === participantId) room.floor.take();
        await room.setFloorAudio(participantId, false);
        target.notify('moderated', { action: 'muted' });
        return {};
      },
      askToUnmute: async ({ participantId }) => {
        this.requireModerate('ask a participant to unmute');
        this.target(await this.room(), participantId).notify('unmuteRequested', {});
        return {};
      },
      stopVideo: async ({ participantId }) => {
        this.requireModerate("stop a participant's video");
        const target = this.target(await this.room(), participantId);
        for (const producer of target.endpoint.producers.values()) if (producer.kind === 'video') producer.close();
        target.notify('moderated', { action: 'video-stopped' });
        return {};
      },

      getRoster: async () => {
        this.requireModerate('see the detailed roster');
        const room = await this.room();
        return {
          participants: [...room.participants.values()].map((p) => p.rosterEntry),
          lobby: [...room.lobby.values()].map((w) => w.entry),
          quorum: room.quorum(),
        };
      },

      admitFromLobby: async ({ participantId }) => {
        this.requireModerate('admit from the lobby');
        const waiter = (await this.room()).lobby.get(participantId);
        if (!waiter) throw new ProtocolError(ErrorCode.NOT_FOUND, `nobody with id ${participantId} waits in the lobby`);
        waiter.admit();
        this.audit('lobby-admit', waiter.grants, ['ADMITTED_BY_SECRETARIAT']);
        return {};
      },

      denyFromLobby: async ({ participantId, reason }) => {
        this.requireModerate('deny from the lobby');
        const waiter = (await this.room()).lobby.get(participantId);
        if (!waiter) throw new ProtocolError(ErrorCode.NOT_FOUND, `nobody with id ${participantId} waits in the lobby`);
        waiter.remove(CloseReason.LOBBY_DENIED, reason ?? 'The secretariat did not admit you to this session.');
        this.audit('lobby-deny', waiter.grants, ['DENIED_BY_SECRETARIAT']);
        return {};
      },

      removeParticipant: async ({ participantId, reason }) => {
        this.requireModerate('remove a participant');
        const room = await this.room();
        const target = this.target(room, participantId);
        room.remove(target, CloseReason.REMOVED_BY_SECRETARIAT, reason ?? 'The secretariat removed you from this session.');
        this.audit('remove', target.grants, ['REMOVED_BY_SECRETARIAT']);
        return {};
      },
    };
  }
}

import type { types } from 'mediasoup';
import type { Socket } from 'socket.io';
import { CloseReason, ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { RequestData, RequestMethod, ResponseData, ServerEvents } from '../../protocol/signaling.js';
import type { JoinClaims, JoinGrants } from '../auth/join-token.js';
import type { RoomLease } from '../cluster/coordinator.js';
import type { Logger } from '../logger.js';
import { rosterEntry, type Participant } from '../rooms/participant.js';
import type { LobbyWaiter, Room } from '../rooms/room.js';
import { FIRST_PAGE_SIZE } from '../rooms/roster-index.js';
import { delegateOnly, EDGE_FORWARDED } from '../cascade/edge-policy.js';
import { checkGate, type ConnectionState } from './connection-gate.js';
import type { ConnectionDeps, Handler, JoinedContext } from './handlers/context.js';
import { floorHandlers } from './handlers/floor-handlers.js';
import { interpretationHandlers } from './handlers/interpretation-handlers.js';
import { mediaHandlers } from './handlers/media-handlers.js';
import { moderationHandlers } from './handlers/moderation-handlers.js';
import { rosterHandlers } from './handlers/roster-handlers.js';
import { voteHandlers } from './handlers/vote-handlers.js';
import { RateLimiter } from './rate-limiter.js';
import { admitRequest, failure, toErrorBody, type ValidRequest } from './request-guard.js';

export type { ConnectionDeps, ConnectionLimits, RequestObserver } from './handlers/context.js';

/** Who a connection is, as admitted by the handshake (the grants may differ from the token's: a resume re-decides them). */
export interface AdmittedConnection {
  claims: JoinClaims;
  grants: JoinGrants;
  /** When the registry last confirmed this person (ms); carried into the next resume token. */
  confirmedAt?: number;
  /** This node serves the connection as an edge of a room owned by another node. */
  edgeOf?: RoomLease;
  /** Lets go of the room's lease this connection held (once; a no-op on an edge). */
  release: () => void;
}

type SessionMethod = 'getRouterRtpCapabilities' | 'join' | 'leave';
type JoinedMethod = Exclude<RequestMethod, SessionMethod>;

/** Every method of a joined connection, by domain; the gate has checked state and grants before any runs. */
const JOINED_HANDLERS: { [M in JoinedMethod]: Handler<M> } = {
  ...mediaHandlers,
  ...interpretationHandlers,
  ...floorHandlers,
  ...moderationHandlers,
  ...rosterHandlers,
  ...voteHandlers,
};

/**
 * One admitted socket. Every message passes the request guard (rate, size, schema), then the gate
 * (`connection-gate.ts`: state and grants), then its handler. The connection owns its participant (or its
 * place in the lobby) and the room lease it holds; both go when it leaves or closes.
 */
export class ClientConnection {
  private state: ConnectionState;
  private participant: Participant | undefined;
  private room: Room | undefined;
  private lobbyRoom: Room | undefined;
  private lobbyWaiter: LobbyWaiter | undefined;
  /** A join is under way: a second one in parallel is refused, not run twice. */
  private joining = false;
  private readonly grants: JoinGrants;
  private readonly claims: JoinClaims;
  private readonly limiter: RateLimiter;
  private readonly log: Logger;

  constructor(
    private readonly socket: Socket,
    private readonly admitted: AdmittedConnection,
    private readonly deps: ConnectionDeps,
  ) {
    this.claims = admitted.claims;
    // The connection's own copy: grants change live for this connection only (lobby, revalidation), never in the token.
    this.grants = structuredClone(admitted.grants);
    this.state = this.grants.lobby ? 'lobby' : 'connected';
    this.limiter = new RateLimiter(deps.limits.ratePerSecond, deps.limits.rateBurst);
    this.log = deps.log.child({ socket: socket.id, person: this.claims.subject, room: this.grants.room });
    socket.onAny((event: string, ...args: unknown[]) => void this.onMessage(event, args));
    socket.on('disconnect', (reason) => this.close(reason));
    if (this.state === 'lobby') void this.waitInLobby();
    else this.emit('resumeToken', { resumeToken: this.nextResumeToken(false) });
  }

  get currentState(): ConnectionState {
    return this.state;
  }

  close(why: string): void {
    if (this.state === 'left' && !this.participant && !this.lobbyRoom) return;
    this.log.debug({ why }, 'connection closed');
    this.leaveLobby();
    const participant = this.participant;
    this.toLeft();
    participant?.close(CloseReason.DISCONNECTED);
  }

  private leaveLobby(): void {
    if (this.lobbyRoom && this.lobbyWaiter) this.lobbyRoom.leaveLobby(this.lobbyWaiter);
    this.lobbyRoom = undefined;
    this.lobbyWaiter = undefined;
  }

  /** The end of this connection's presence: nothing more is accepted, and its hold on the room goes. */
  private toLeft(): void {
    this.state = 'left';
    this.participant = undefined;
    this.room = undefined;
    this.admitted.release();
  }

  private async onMessage(method: string, args: unknown[]): Promise<void> {
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? (last as (answer: unknown) => void) : undefined;
    let request: ValidRequest;
    try {
      if (!ack) throw new ProtocolError(ErrorCode.BAD_REQUEST, 'every request needs an acknowledgement callback');
      if (args.length > 2) throw new ProtocolError(ErrorCode.BAD_REQUEST, 'a request carries one payload');
      request = admitRequest(method, args[0], this.deps.limits.maxMessageBytes, this.limiter);
      checkGate(request.method, this.state, this.grants, this.admitted.edgeOf !== undefined);
    } catch (error) {
      const body = toErrorBody(error, this.log, method);
      this.deps.observe(method, body.code);
      if (ack) ack(failure(body));
      else this.emit('protocolError', { method: String(method).slice(0, 64), ...body });
      return;
    }
    try {
      const data = await this.dispatch(request);
      this.deps.observe(request.method, 'ok');
      ack({ ok: true, data });
    } catch (error) {
      const body = toErrorBody(error, this.log, request.method);
      this.deps.observe(request.method, body.code);
      ack(failure(body));
    }
  }

  private dispatch({ method, data }: ValidRequest): Promise<unknown> {
    switch (method) {
      case 'getRouterRtpCapabilities':
        return this.routerRtpCapabilities();
      case 'join':
        return this.join(data);
      case 'leave':
        return this.leave();
      default: {
        const ctx = this.joinedContext();
        // A delegate served by this edge: the floor and its producers' pause are the origin's to decide.
        if (ctx.room.isEdge && EDGE_FORWARDED.has(method)) return ctx.room.toOrigin().forward(ctx.participant, method, data);
        const handler = JOINED_HANDLERS[method] as (ctx: JoinedContext, data: unknown) => Promise<unknown>;
        return handler(ctx, data);
      }
    }
  }

  private joinedContext(): JoinedContext {
    const { participant, room } = this;
    // The gate let only a joined connection through; a participant that closed since is no longer joined.
    if (!participant || !room || participant.closed) throw new ProtocolError(ErrorCode.NOT_JOINED, 'join the room first');
    return { participant, room, grants: this.grants, deps: this.deps, log: this.log };
  }

  private emit<E extends keyof ServerEvents>(event: E, data: ServerEvents[E]): void {
    this.socket.emit(event, data);
  }

  /** The room this admitted connection joins (or waits in): created here if need be, only for a join or the lobby. */
  private roomToEnter(): Promise<Room> {
    const { edgeOf } = this.admitted;
    return edgeOf ? this.deps.rooms.getOrCreateEdge(this.grants.room, edgeOf) : this.deps.rooms.getOrCreate(this.grants.room);
  }

  /** The next resume token: a resume token opens one connection, so each admission hands out the next. */
  private nextResumeToken(lobby: boolean): string {
    return this.deps.tokens.issue(this.claims.subject, { ...this.grants, lobby }, 'resume', { confirmedAt: this.admitted.confirmedAt });
  }

  private async routerRtpCapabilities(): Promise<ResponseData['getRouterRtpCapabilities']> {
    // Before a join no room is created for this: every router has the same capabilities.
    const rtpCapabilities = this.room ? this.room.media.rtpCapabilities : await this.deps.rooms.rtpCapabilities();
    return { rtpCapabilities };
  }

  private async waitInLobby(): Promise<void> {
    let room: Room;
    try {
      room = await this.roomToEnter();
    } catch (error) {
      this.emit('removed', { reason: CloseReason.SERVER_SHUTDOWN, message: toErrorBody(error, this.log, 'lobby').message });
      this.socket.disconnect(true);
      return;
    }
    if (this.state !== 'lobby') return;
    this.lobbyRoom = room;
    const waiter: LobbyWaiter = {
      id: this.claims.subject,
      grants: this.grants,
      entry: rosterEntry(this.claims.subject, this.grants),
      admit: () => {
        this.grants.lobby = false;
        this.leaveLobby();
        if (this.state === 'lobby') this.state = 'connected';
        this.emit('lobbyAdmitted', {});
      },
      remove: (reason, message) => {
        this.leaveLobby();
        this.emit('removed', { reason, message });
        this.socket.disconnect(true);
      },
    };
    this.lobbyWaiter = waiter;
    room.enterLobby(waiter);
    this.emit('lobbyWaiting', { resumeToken: this.nextResumeToken(true) });
  }

  private async join({ rtpCapabilities }: RequestData<'join'>): Promise<ResponseData['join']> {
    if (this.joining) throw new ProtocolError(ErrorCode.ALREADY_JOINED, 'already joining');
    this.joining = true;
    try {
      let room = await this.roomToEnter();
      // The room may close between lookup and join (its worker died); one fresh lookup settles it.
      if (room.closed) room = await this.roomToEnter();
      if (this.state !== 'connected') throw new ProtocolError(ErrorCode.INVALID_STATE, 'the connection has closed');
      const participant = room.join(this.claims.subject, this.grants, rtpCapabilities as types.RtpCapabilities, (event, data) => this.emit(event, data));
      if (room.isEdge && delegateOnly(this.grants)) {
        // The origin seats its copy (roster, floor, attendance) before the delegate may do anything here.
        try {
          await room.toOrigin().seat(participant);
        } catch (error) {
          participant.close(CloseReason.LEFT);
          throw error;
        }
        if (participant.closed || this.state !== 'connected') {
          participant.close(CloseReason.DISCONNECTED); // the connection went while the origin seated them
          throw new ProtocolError(ErrorCode.INVALID_STATE, 'the connection has closed');
        }
      }
      this.participant = participant;
      this.room = room;
      this.state = 'joined';
      participant.once('close', (reason) => {
        if (this.participant === participant) this.toLeft();
        if (reason !== CloseReason.DISCONNECTED && reason !== CloseReason.LEFT) this.socket.disconnect(true);
      });
      const view = room.view(participant);
      // The roster's first page, not all N peers: the rest is paged with getPeers.
      const firstPage = room.peersPage({ limit: FIRST_PAGE_SIZE, except: participant.id });
      return {
        self: participant.info,
        peers: firstPage.peers,
        peersTotal: firstPage.total,
        peersNextCursor: firstPage.nextCursor,
        producers: this.grants.subscribe ? room.producersToConsume(participant) : [],
        activeSpeaker: room.activeSpeaker,
        activeSpeakerPeer: room.activeSpeakerPeer,
        channels: view.channels,
        booths: room.interpretation.boothStatesOf(participant.id),
        floor: view.floor,
        resumeToken: this.nextResumeToken(false),
        nodes: await this.deps.clusterNodes().catch(() => []),
        listenerChannels: this.deps.listenerChannels(room.id),
      };
    } finally {
      this.joining = false;
    }
  }

  private async leave(): Promise<ResponseData['leave']> {
    const participant = this.participant;
    this.toLeft();
    participant?.close(CloseReason.LEFT);
    return {};
  }
}

import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { Server as IoServer } from 'socket.io';
import { ProtocolError } from '../../protocol/errors.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { JoinClaims, JoinTokenService } from '../auth/join-token.js';
import type { JtiStore } from '../auth/jti-store.js';
import type { RoomOwnership } from '../cluster/room-ownership.js';
import { edgeSeat } from '../cascade/edge-policy.js';
import { addressKey } from '../http/sign-in-limiter.js';
import { ClientConnection, type AdmittedConnection, type ConnectionDeps } from './client-connection.js';
import { PendingConnections } from './pending-connections.js';
import { TokenUseGuard } from './token-use-guard.js';

/** How long a connection may stay open without presenting a token that is admitted. */
const HANDSHAKE_WINDOW_MS = 10_000;
/** Admission refusals a retry with the same token cannot mend (unlike UNAVAILABLE, or a redirect). */
const FINAL_REFUSALS: ReadonlySet<string> = new Set([ErrorCode.NOT_ACCREDITED, ErrorCode.REMOVED]);

/** Handshakes have HANDSHAKE_WINDOW_MS; admission must answer within it, with time to spare. */
const ADMISSION_DEADLINE_MS = 8_000;

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProtocolError(ErrorCode.UNAVAILABLE, 'the accreditation check is taking too long; retry shortly')), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

function alreadyUsed(claims: JoinClaims): string {
  return claims.kind === 'resume' ? 'this resume token has already been used' : 'this join token has already been used; request a new one';
}

/** Decides who a verified token lets in, with which grants (a resume re-runs the accreditation decision). */
export interface ConnectionAdmission {
  admit(claims: JoinClaims): Promise<{ grants: JoinClaims['grants']; confirmedAt?: number }>;
}

/**
 * socket.io on the HTTP server. A connection is accepted only with a valid join or resume token used for
 * the first time (socket.io auth middleware); a refused one receives a connect_error whose `data` carries
 * the code. The handshake runs in this order, so that a refusal leaves nothing behind: verify the token →
 * locate the room (redirect before the token is spent; no lease taken) → admission (a resume re-decides
 * the grants) → take the room's lease for this connection → spend the token. A failure after the lease
 * was taken gives it back; an admitted connection holds it until it leaves or closes.
 */
export class SignalingServer {
  readonly io: IoServer;
  private readonly connections = new Set<ClientConnection>();

  constructor(
    httpServer: HttpServer,
    tokens: JoinTokenService,
    jtis: JtiStore,
    ownership: RoomOwnership,
    /** Decides the grants of a connection; throws ProtocolError to refuse (a removed person, a revoked one). */
    admission: ConnectionAdmission,
    deps: ConnectionDeps,
  ) {
    const limits = deps.limits;
    const pending = new PendingConnections(limits.maxPendingPerAddress);
    /** How each engine connection stops counting as pending (once admitted, or closed). */
    const pendingOf = new WeakMap<object, () => void>();
    const addressOf = (req: IncomingMessage): string => addressKey(deps.clientAddress(req));
    this.io = new IoServer(httpServer, {
      path: '/signaling',
      serveClient: false,
      // Hard cap per frame; the per-message limit (with an error code) is enforced below it.
      maxHttpBufferSize: limits.maxMessageBytes * 4,
      pingInterval: 10_000,
      pingTimeout: 10_000,
      // A connection that has not presented a token by then is closed (socket.io's default is 45 s).
      connectTimeout: HANDSHAKE_WINDOW_MS,
      // Refused before socket.io allocates anything: an address already holding its share of pending connections.
      allowRequest: (req, answer) => {
        const allowed = pending.allows(addressOf(req));
        answer(allowed ? null : 'too many connections from this address are waiting to authenticate', allowed);
      },
    });
    this.io.engine.on('connection', (conn: { request: IncomingMessage; close(): void; once(event: 'close', fn: () => void): void }) => {
      // Parallel handshakes may all pass allowRequest: the count taken here is the exact one.
      const stop = pending.enter(addressOf(conn.request));
      if (!stop) return conn.close();
      pendingOf.set(conn, stop);
      conn.once('close', stop);
    });
    const used = new TokenUseGuard();
    this.io.use((socket, next) => {
      const refuse = (error: unknown): void => {
        if (!(error instanceof ProtocolError)) deps.log.warn({ err: error }, 'handshake failed');
        const err = new Error(error instanceof ProtocolError ? error.message : 'unauthenticated') as Error & { data?: unknown };
        err.data = error instanceof ProtocolError ? error.toBody() : { code: ErrorCode.UNAUTHENTICATED, message: 'unauthenticated' };
        next(err);
        // One attempt per connection: once the refusal is written, the connection goes (a retry costs a new one).
        setImmediate(() => socket.conn.close());
      };
      const redirect = (url: string): void => {
        const err = new Error('this room is served by another node') as Error & { data?: unknown };
        err.data = { code: ErrorCode.ROOM_ELSEWHERE, message: err.message, url };
        next(err);
        setImmediate(() => socket.conn.close());
      };
      try {
        const claims = tokens.verify(socket.handshake.auth?.token);
        const roomId = claims.grants.room;
        // Before anything costly: a token spent or refused here, or in use by another handshake here, stops now.
        if (!used.begin(claims.jti)) {
          // In a handshake here right now (a retry racing its first attempt): try again; spent or refused: final.
          if (used.inHandshake(claims.jti)) throw new ProtocolError(ErrorCode.UNAVAILABLE, 'this token is being checked on another connection; retry shortly');
          throw new ProtocolError(ErrorCode.UNAUTHENTICATED, alreadyUsed(claims));
        }
        const admit = async (): Promise<void> => {
          // The room's node serves it; any other node sends the client there, before the token is spent.
          // A listener or a delegate of a large room may be served here as an edge of the room's origin.
          const location = await ownership.locate(roomId, edgeSeat(claims.grants));
          if (location.kind === 'redirect') return redirect(location.url);
          let decided: Awaited<ReturnType<ConnectionAdmission['admit']>>;
          try {
            // Within the handshake window: a registry slower than that answers UNAVAILABLE (retry), never a
            // connection closed under a client still waiting for its answer.
            decided = await withDeadline(admission.admit(claims), ADMISSION_DEADLINE_MS);
          } catch (error) {
            // A refusal that a retry cannot mend spends the token here: replaying it costs no registry call.
            if (error instanceof ProtocolError && FINAL_REFUSALS.has(error.code)) used.markSpent(claims.jti, claims.expiresAt);
            throw error;
          }
          const { grants, confirmedAt } = decided;
          if (grants.lobby && location.kind === 'edge') {
            // The lobby is the secretariat's, on the room's origin: an edge has no moderator to admit anyone.
            const origin = await ownership.locate(roomId, null);
            if (origin.kind === 'redirect') return redirect(origin.url);
            throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the room is moving between nodes; retry shortly');
          }
          let release = (): void => undefined;
          if (location.kind === 'local') {
            // Only now, for a connection that passed every check, is the room's lease taken (or kept) here.
            const taken = await ownership.take(roomId);
            if (taken.kind === 'redirect') return redirect(taken.url);
            if (taken.kind !== 'local') throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the room is moving between nodes; retry shortly');
            let held = true;
            release = () => {
              if (!held) return;
              held = false;
              ownership.unhold(roomId);
            };
          }
          try {
            // A client that hung up meanwhile does not spend its token.
            if (socket.conn.readyState !== 'open') return release();
            // Single use, join and resume tokens alike: a token that opened a connection opens no other.
            const first = await jtis.claim(claims.jti, claims.expiresAt);
            used.markSpent(claims.jti, claims.expiresAt);
            if (!first) throw new ProtocolError(ErrorCode.UNAUTHENTICATED, alreadyUsed(claims));
          } catch (error) {
            release();
            throw error;
          }
          // socket.io drops a socket whose transport closed during the handshake without a `connection` event.
          if (socket.conn.readyState !== 'open') return release();
          socket.conn.once('close', release);
          const admitted: AdmittedConnection = { claims, grants, confirmedAt, edgeOf: location.kind === 'edge' ? location.owner : undefined, release };
          socket.data.admitted = admitted;
          pendingOf.get(socket.conn)?.();
          next();
        };
        admit()
          .catch(refuse)
          .finally(() => used.end(claims.jti));
      } catch (error) {
        refuse(error);
      }
    });
    this.io.on('connection', (socket) => {
      const connection = new ClientConnection(socket, socket.data.admitted as AdmittedConnection, deps);
      this.connections.add(connection);
      socket.once('disconnect', () => this.connections.delete(connection));
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async close(): Promise<void> {
    this.io.disconnectSockets(true);
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
  }
}

import type { Server as HttpServer } from 'node:http';
import { Server as IoServer } from 'socket.io';
import { ProtocolError } from '../../protocol/errors.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { JoinClaims, JoinTokenService } from '../auth/join-token.js';
import type { JtiStore } from '../auth/jti-store.js';
import type { RoomOwnership } from '../cluster/room-ownership.js';
import { listensOnly } from '../cascade/edge-policy.js';
import { ClientConnection, type ConnectionDeps } from './client-connection.js';

/**
 * socket.io on the HTTP server. A connection is accepted only with a valid join token used for the first
 * time (socket.io auth middleware); a refused one receives a connect_error whose `data` carries the code.
 */
export class SignalingServer {
  readonly io: IoServer;
  private readonly connections = new Set<ClientConnection>();

  constructor(
    httpServer: HttpServer,
    tokens: JoinTokenService,
    jtis: JtiStore,
    ownership: RoomOwnership,
    /** Re-checks a person's accreditation before a resume token lets them back in; throws ProtocolError to refuse. */
    checkResume: (claims: JoinClaims) => Promise<void>,
    deps: ConnectionDeps,
  ) {
    const limits = deps.limits;
    this.io = new IoServer(httpServer, {
      path: '/signaling',
      serveClient: false,
      // Hard cap per frame; the per-message limit (with an error code) is enforced below it.
      maxHttpBufferSize: limits.maxMessageBytes * 4,
      pingInterval: 10_000,
      pingTimeout: 10_000,
    });
    this.io.use((socket, next) => {
      const refuse = (error: unknown): void => {
        const err = new Error(error instanceof ProtocolError ? error.message : 'unauthenticated') as Error & { data?: unknown };
        err.data = error instanceof ProtocolError ? error.toBody() : { code: ErrorCode.UNAUTHENTICATED, message: 'unauthenticated' };
        next(err);
      };
      try {
        const claims = tokens.verify(socket.handshake.auth?.token);
        const admit = async (): Promise<void> => {
          // The room's node serves it; any other node sends the client there, before the token is spent.
          // A listener of a large room may be served here as an edge of the room's origin.
          const location = await ownership.locate(claims.grants.room, listensOnly(claims.grants));
          if (location.kind === 'redirect') {
            const err = new Error('this room is served by another node') as Error & { data?: unknown };
            err.data = { code: ErrorCode.ROOM_ELSEWHERE, message: err.message, url: location.url };
            return next(err);
          }
          socket.data.edgeOf = location.kind === 'edge' ? location.owner : undefined;
          if (claims.kind === 'resume') {
            // A reconnect: no new accreditation round, but nobody whose accreditation ended gets back in.
            await checkResume(claims);
          } else if (!(await jtis.claim(claims.jti, claims.expiresAt))) {
            // Single use: a join token that already opened a connection opens no other (replay, sharing).
            throw new ProtocolError(ErrorCode.UNAUTHENTICATED, 'this join token has already been used; request a new one');
          }
          socket.data.claims = claims;
          next();
        };
        admit().catch(refuse);
      } catch (error) {
        refuse(error);
      }
    });
    this.io.on('connection', (socket) => {
      const connection = new ClientConnection(socket, socket.data.claims, deps, socket.data.edgeOf);
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

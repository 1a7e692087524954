import type { Server as HttpServer } from 'node:http';
import { Server as IoServer } from 'socket.io';
import { ProtocolError } from '../../protocol/errors.js';
import type { JoinTokenService } from '../auth/join-token.js';
import type { Logger } from '../logger.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { ClientConnection, type ConnectionLimits, type RequestObserver } from './client-connection.js';

/**
 * socket.io on the HTTP server. A connection is accepted only with a valid join token (socket.io auth
 * middleware); a refused one receives a connect_error whose `data` carries the error code.
 */
export class SignalingServer {
  readonly io: IoServer;
  private readonly connections = new Set<ClientConnection>();

  constructor(
    httpServer: HttpServer,
    tokens: JoinTokenService,
    rooms: RoomRegistry,
    limits: ConnectionLimits,
    log: Logger,
    observe: RequestObserver,
  ) {
    this.io = new IoServer(httpServer, {
      path: '/signaling',
      serveClient: false,
      // Hard cap per frame; the per-message limit (with an error code) is enforced below it.
      maxHttpBufferSize: limits.maxMessageBytes * 4,
      pingInterval: 10_000,
      pingTimeout: 10_000,
    });
    this.io.use((socket, next) => {
      try {
        socket.data.claims = tokens.verify(socket.handshake.auth?.token);
        next();
      } catch (error) {
        const err = new Error(error instanceof ProtocolError ? error.message : 'unauthenticated') as Error & { data?: unknown };
        if (error instanceof ProtocolError) err.data = error.toBody();
        next(err);
      }
    });
    this.io.on('connection', (socket) => {
      const connection = new ClientConnection(socket, socket.data.claims, rooms, limits, log, observe);
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

import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkerPool } from '../media/index.js';
import { CloseReason } from '../protocol/errors.js';
import { isRequestMethod } from '../protocol/signaling.js';
import { JoinTokenService } from './auth/join-token.js';
import type { Config } from './config.js';
import { createHttpApp } from './http/http-app.js';
import type { Logger } from './logger.js';
import { Metrics } from './metrics.js';
import { RoomRegistry } from './rooms/room-registry.js';
import { SignalingServer } from './signaling/signaling-server.js';

/**
 * The composition root: media workers, rooms, HTTP and signaling on one port. `close()` tears the tree down
 * from the top: rooms (telling clients why), sockets, the HTTP server, then the workers.
 */
export class MeetingServer {
  private draining = false;

  private constructor(
    readonly config: Config,
    readonly pool: WorkerPool,
    readonly rooms: RoomRegistry,
    readonly tokens: JoinTokenService,
    readonly httpServer: HttpServer,
    readonly signaling: SignalingServer,
    private readonly log: Logger,
  ) {}

  static async start(config: Config, log: Logger): Promise<MeetingServer> {
    const m = config.media;
    const pool = new WorkerPool(
      {
        numWorkers: m.numWorkers,
        rtcPortBase: m.portBase,
        listenIp: m.listenIp,
        announcedAddress: m.announcedAddress,
        rtcMinPort: m.rtcMinPort,
        rtcMaxPort: m.rtcMaxPort,
        logLevel: m.logLevel,
        respawnDelayMs: m.respawnDelayMs,
      },
      log.child({ component: 'media' }),
    );
    await pool.start();
    try {
      const rooms = new RoomRegistry(
        pool,
        {
          maxTransportsPerDirection: m.maxTransportsPerDirection,
          maxProducers: m.maxProducers,
          maxConsumers: m.maxConsumers,
          initialAvailableOutgoingBitrate: 1_000_000,
        },
        config.roomIdleCloseMs,
        log.child({ component: 'rooms' }),
      );
      const metrics = new Metrics(pool, rooms);
      pool.on('workerdied', () => metrics.workerDeaths.inc());
      const tokens = new JoinTokenService(config.joinToken.secret, config.joinToken.ttlSeconds);
      // The readiness probe needs the server object, which exists only once everything below has started.
      const ref: { server?: MeetingServer } = {};
      const app = createHttpApp({
        devMode: config.devMode,
        tokens,
        metrics,
        isReady: () => ref.server !== undefined && !ref.server.draining && pool.workers.length > 0,
        log: log.child({ component: 'http' }),
      });
      const httpServer = createServer(app);
      const signaling = new SignalingServer(
        httpServer,
        tokens,
        rooms,
        config.signaling,
        log.child({ component: 'signaling' }),
        (method, outcome) => metrics.countRequest(method, outcome, isRequestMethod(method)),
      );
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => {
          httpServer.off('error', reject);
          resolve();
        });
      });
      const server = new MeetingServer(config, pool, rooms, tokens, httpServer, signaling, log);
      ref.server = server;
      log.info({ url: server.url, workers: pool.workers.length, devMode: config.devMode }, 'meeting server listening');
      if (config.joinToken.secretIsEphemeral) {
        log.warn('PLENUM_JOIN_TOKEN_SECRET is not set: using a random secret; join tokens will not survive a restart');
      }
      return server;
    } catch (error) {
      pool.close();
      throw error;
    }
  }

  get port(): number {
    return (this.httpServer.address() as AddressInfo).port;
  }

  get url(): string {
    const host = this.config.host === '0.0.0.0' || this.config.host === '::' ? '127.0.0.1' : this.config.host;
    return `http://${host}:${this.port}`;
  }

  async close(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.log.info('shutting down');
    this.rooms.closeAll(CloseReason.SERVER_SHUTDOWN);
    // Let the roomClosed notices flush before the sockets go.
    await new Promise((resolve) => setImmediate(resolve));
    const closing = this.signaling.close();
    this.httpServer.closeIdleConnections();
    await closing;
    this.pool.close();
    this.log.info('shut down');
  }
}

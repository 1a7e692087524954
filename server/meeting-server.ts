import { createServer, type Server as HttpServer } from 'node:http';
import { resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WorkerPool } from '../media/index.js';
import { CloseReason } from '../protocol/errors.js';
import { isRequestMethod } from '../protocol/signaling.js';
import { createAccreditation, type Accreditation } from './accreditation/accreditation-setup.js';
import { RevocationMonitor } from './accreditation/revocation-monitor.js';
import { ConnectionAdmission } from './auth/connection-admission.js';
import { JoinTokenService } from './auth/join-token.js';
import { ClusterMembership } from './cluster/cluster-membership.js';
import type { Coordinator } from './cluster/coordinator.js';
import { LocalCoordinator } from './cluster/local-coordinator.js';
import { RedisCoordinator } from './cluster/redis-coordinator.js';
import { RoomOwnership } from './cluster/room-ownership.js';
import { Counter } from 'prom-client';
import { BusEnvelopes } from './cluster/bus-envelope.js';
import { LocalBus, type ClusterBus } from './cluster/cluster-bus.js';
import { ClusterKeys } from './cluster/cluster-keys.js';
import { RedisBus } from './cluster/redis-bus.js';
import { FloorForwarding } from './cluster/floor-forwarding.js';
import { StoreChanges } from './cluster/store-changes.js';
import { CascadeEdge } from './cascade/cascade-edge.js';
import { CascadeOrigin } from './cascade/cascade-origin.js';
import { delegateOnly, listensOnly } from './cascade/edge-policy.js';
import { accreditationRoutes } from './http/accreditation-routes.js';
import { TranscriptStore } from './interpretation/transcript-store.js';
import { AttendanceLog, EdgeListenerAttendance } from './conduct/attendance-log.js';
import { ConductService } from './conduct/conduct-service.js';
import { DatabaseFloorStore } from './conduct/floor-store.js';
import { EdgeListenerCensus } from './conduct/listener-census.js';
import { importLegacyRoomRecords, reportLegacyRoomRecords } from './conduct/legacy-room-records.js';
import { OwnerWrites } from './cluster/owner-writes.js';
import { WebhookOutbox } from './conduct/webhook-outbox.js';
import { conductRoutes } from './http/conduct-routes.js';
import { voteRoutes } from './http/vote-routes.js';
import { DialInService } from './dial-in/dial-in-service.js';
import { defaultVideoFallback } from './rooms/video-fallback.js';
import { dialInRoutes } from './http/dial-in-routes.js';
import { BallotSeal } from './votes/ballot-seal.js';
import { localBallotSecret } from './votes/ballot-secret-file.js';
import { VoteService } from './votes/vote-service.js';
import { VoteStore } from './votes/vote-store.js';
import { documentRoutes } from './http/document-routes.js';
import { recordingRoutes } from './http/recording-routes.js';
import { RecordingService } from './recording/recording-service.js';
import { RecordingRetention } from './recording/recording-retention.js';
import { RecordingStore } from './recording/recording-store.js';
import { DocumentFocusAnnouncer } from './documents/document-focus-announcer.js';
import { openDocuments } from './documents/document-service.js';
import { webhookRoutes } from './http/webhook-routes.js';
import { WebhookDeliveries } from './conduct/webhook-deliveries.js';
import { clusterRoutes } from './http/cluster-routes.js';
import type { Config } from './config.js';
import { createHttpApp } from './http/http-app.js';
import { clientAddressOf } from './http/client-address.js';
import { isLoopbackHost, MetricsListener } from './http/metrics-endpoint.js';
import type { Logger } from './logger.js';
import { Metrics } from './metrics.js';
import { RemovalRecord } from './rooms/removal-record.js';
import { RoomRegistry } from './rooms/room-registry.js';
import { SignalingServer } from './signaling/signaling-server.js';
import { answerForwarded } from './signaling/forwarded-request.js';
import type { ConnectionDeps } from './signaling/client-connection.js';
import { openStore, type Store } from '../store/open-store.js';

/**
 * The composition root: media workers, rooms, HTTP and signaling on one port. `close()` tears the tree down
 * from the top: rooms (telling clients why), sockets, the HTTP server, then the workers.
 */
export class MeetingServer {
  private draining = false;
  /** /metrics on its own listener, when PLENUM_METRICS_PORT is set. */
  metricsListener?: MetricsListener;
  /** Change notices between nodes and the resynchronisation from the database. */
  changes?: StoreChanges;
  /** Deletes the files of recordings past their retention (PLENUM_RECORDING_SWEEP_MS). */
  recordingRetention?: RecordingRetention;
  /** The recorders of the rooms served here (server/recording). */
  recorder?: RecordingService;
  /** Phone dial-in (server/dial-in), when PLENUM_SIP_PORT is set. */
  dialIn?: DialInService;

  private constructor(
    readonly config: Config,
    readonly pool: WorkerPool,
    readonly rooms: RoomRegistry,
    readonly tokens: JoinTokenService,
    readonly httpServer: HttpServer,
    readonly signaling: SignalingServer,
    readonly accreditation: Accreditation,
    readonly revocation: RevocationMonitor,
    readonly conduct: ConductService,
    readonly membership: ClusterMembership,
    readonly ownership: RoomOwnership,
    readonly cascade: CascadeOrigin,
    readonly bus: ClusterBus,
    /** The system of record (embedded or PostgreSQL). */
    readonly store: Store,
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
    const dataDir = resolve(config.dataDir);
    const store = await openStore({ databaseUrl: config.database.url, dataDir, poolSize: config.database.poolSize });
    log.info({ engine: store.kind, location: store.location, migrations: store.migration }, 'system of record open');
    let accreditation: Accreditation | undefined;
    try {
      accreditation = await createAccreditation(config, store.db, log.child({ component: 'accreditation' }));
      // After the accreditation import and seeds: the room records need each session's event.
      reportLegacyRoomRecords(await importLegacyRoomRecords(store.db, dataDir), log.child({ component: 'conduct' }));
      await pool.start();
    } catch (error) {
      await accreditation?.close();
      await store.close();
      throw error;
    }
    let dialIn: DialInService | undefined;
    try {
      const c = config.cluster;
      // Some parts need objects made after them (the server exists only once everything has started).
      const ref: { server?: MeetingServer; rooms?: RoomRegistry; membership?: ClusterMembership } = {};
      const coordinator: Coordinator = c.redis
        ? new RedisCoordinator(c.nodeId, c.redis, log.child({ component: 'coordinator' }), c.staleAfterMs)
        : new LocalCoordinator(c.nodeId, c.staleAfterMs);
      // The room's records are written under this node's epoch for the room (its lease token). A write for a
      // room this node holds no lease on, or one a newer owner's fence refuses, gives the room up.
      const ownerWrites = new OwnerWrites(
        store.db,
        (roomId) => {
          const lease = ownership.leaseOf(roomId);
          return lease && { roomId, nodeId: c.nodeId, epoch: lease.token };
        },
        (error) => {
          log.warn({ roomId: error.roomId }, 'a write for a room this node no longer owns was refused; giving the room up');
          ownership.forfeit(error.roomId);
        },
        {
          deadlineMs: config.database.writeRetryMs,
          onRetry: (error, attempt) => log.warn({ err: (error as Error).message, attempt }, 'the database is unreachable; retrying a room record'),
        },
      );
      const floorStore = new DatabaseFloorStore(ownerWrites);
      const attendance = new AttendanceLog(ownerWrites);
      const clusterKeys = new ClusterKeys(c.secret);
      const envelopes = new BusEnvelopes(c.nodeId, clusterKeys, c.messageWindowMs);
      const busLog = log.child({ component: 'bus' });
      const bus: ClusterBus = coordinator instanceof RedisCoordinator ? new RedisBus(c.nodeId, envelopes, coordinator.redis, busLog) : new LocalBus(c.nodeId, envelopes, busLog);
      const ownership = new RoomOwnership(coordinator, { ttlMs: c.roomLeaseTtlMs, safetyMarginMs: c.roomLeaseSafetyMarginMs }, log.child({ component: 'ownership' }), {
        afterListeners: c.cascadeAfterListeners,
        localListeners: (roomId) => [...(ref.rooms?.get(roomId)?.participants.values() ?? [])].filter((p) => listensOnly(p.grants)).length,
        afterDelegates: c.cascadeAfterDelegates,
        // Those served by edge nodes are in the room too, but cost this node no media.
        localDelegates: (roomId) => [...(ref.rooms?.get(roomId)?.participants.values() ?? [])].filter((p) => p.servedBy === undefined && delegateOnly(p.grants)).length,
        draining: () => ref.membership?.draining ?? false,
      });
      // Serve once the cluster store answers; if it does not within 5 s, start anyway, not ready, and keep trying.
      await coordinator.ready(5000).catch((error: Error) => log.warn({ err: error.message }, 'cluster store not reachable yet'));
      const rooms = new RoomRegistry(
        pool,
        {
          maxTransportsPerDirection: m.maxTransportsPerDirection,
          maxProducers: m.maxProducers,
          maxConsumers: m.maxConsumers,
          maxConsumersPerRouter: m.maxConsumersPerRouter,
          maxProducersPerRouter: m.maxProducersPerRouter,
          initialAvailableOutgoingBitrate: 1_000_000,
        },
        async (roomId) => {
          const session = accreditation.service.sessions.get(roomId);
          return {
            idleCloseMs: config.roomIdleCloseMs,
            languages: session?.languages ?? [],
            signLanguages: session?.signLanguages ?? [],
            videoFallback: { ...defaultVideoFallback, ...config.videoFallback },
            handoverTakeAfterMs: config.handoverTakeAfterMs,
            rosterBatchMs: config.rosterBatchMs,
            audio: config.audio,
            floor: {
              controlled: session?.floorControl ?? false,
              speakingTimeLimitMs: (session?.speakingTimeLimitSec ?? 180) * 1000,
              speakingTimeWarningMs: (session?.speakingTimeWarningSec ?? 30) * 1000,
            },
            floorSnapshot: session ? await floorStore.load(roomId) : undefined,
          };
        },
        log.child({ component: 'rooms' }),
        ownership,
      );
      ref.rooms = rooms;
      const edgeListeners = new EdgeListenerAttendance(attendance, c.nodeId, (roomId) => accreditation.service.sessions.get(roomId) !== undefined, log.child({ component: 'attendance' }));
      const addressing = { listenIp: m.listenIp, announcedAddress: m.announcedAddress, srtp: c.cascadeSrtp };
      const cascade = new CascadeOrigin(rooms, bus, coordinator, addressing, clusterKeys, log.child({ component: 'cascade' }), c.staleAfterMs, (roomId) => ownership.leaseOf(roomId)?.token);
      rooms.upstreams = (room, owner) =>
        CascadeEdge.open(room, owner, { bus, coordinator, addressing, keys: clusterKeys, log: log.child({ component: 'cascade' }), ownerCheckMs: Math.max(100, Math.floor(c.roomLeaseTtlMs / 3)), pipeIdleMs: c.cascadePipeIdleMs, listeners: edgeListeners });
      // Every node delivers the shared outbox, whoever queued the event.
      const webhooks = config.webhook ? new WebhookOutbox(store.db, c.nodeId, config.webhook, log.child({ component: 'webhooks' })) : undefined;
      const conduct = new ConductService(
        rooms,
        accreditation.service.sessions,
        attendance,
        floorStore,
        webhooks,
        log.child({ component: 'conduct' }),
        new EdgeListenerCensus(store.db, config.listenerCensusMs, log.child({ component: 'census' })),
      );
      const metrics = new Metrics(pool, rooms);
      webhooks?.watch(metrics.registry);
      pool.on('workerdied', () => metrics.workerDeaths.inc());
      metrics.watchAccreditation({ hashes: () => accreditation.hasher.load, registryCacheEntries: () => accreditation.service.registry.size });
      const tokens = new JoinTokenService(config.joinToken.secret, config.joinToken.ttlSeconds, config.joinToken.resumeTtlSeconds);
      // The public URL defaults to where the server listens, known once it does.
      const busDrops = new Counter({ name: 'plenum_cluster_bus_dropped_total', help: 'Messages between nodes dropped: unsigned, bad MAC, stale, replayed or malformed', labelNames: ['reason'], registers: [metrics.registry] });
      bus.on('dropped', (reason) => busDrops.inc({ reason }));
      // Other nodes' pipes may reach this one only at its announced media address, in its port range.
      const pipe = { address: m.announcedAddress, minPort: m.rtcMinPort, maxPort: m.rtcMaxPort };
      const membership = new ClusterMembership(coordinator, pool, () => c.publicUrl ?? ref.server?.url ?? '', c.heartbeatIntervalMs, log.child({ component: 'cluster' }), pipe);
      ref.membership = membership;
      const transcripts = new TranscriptStore(ownerWrites, config.transcriptMaxBytes);
      const revocation = new RevocationMonitor(accreditation.service, rooms, log.child({ component: 'revocation' }));
      accreditation.embedded?.on('changed', (r) => void revocation.personChanged(r.eventId, r.personId, 'registry-change'));
      revocation.start(config.registry.revalidateIntervalMs);
      const changes = new StoreChanges(bus, accreditation.service.sessions, revocation, config.resyncIntervalMs, log.child({ component: 'changes' }));
      changes.start();
      const floor = new FloorForwarding(rooms, coordinator, bus, log.child({ component: 'floor' }));
      const ballots = new BallotSeal(config.votes.ballotSecret ?? (await localBallotSecret(config.dataDir)));
      const votes = new VoteService(rooms, accreditation.service.sessions, new VoteStore(store.db, ballots, ownerWrites), webhooks, log.child({ component: 'votes' }));
      const documents = await openDocuments(resolve(config.storageDir), store.db, accreditation.service.audit);
      const documentFocus = new DocumentFocusAnnouncer(rooms, coordinator, bus, log.child({ component: 'documents' }));
      const recordings = new RecordingStore(store.db);
      const recordingRetention = new RecordingRetention(recordings, resolve(config.storageDir), log.child({ component: 'recording' }));
      const recorder = new RecordingService({
        store: recordings,
        rooms,
        sessions: accreditation.service.sessions,
        votes,
        coordinator,
        bus,
        settings: { storageDir: resolve(config.storageDir), ...config.recording, restartDelayMs: 500, followEveryMs: 200, persistEveryMs: 5000 },
        log: log.child({ component: 'recording' }),
      });
      const app = createHttpApp({
        devMode: config.devMode,
        embeddedSignIn: accreditation.signIn !== undefined,
        oidc: config.identity.oidc,
        trustProxy: config.trustProxy,
        routers: [
          // First: its uploads are read by its own parser (up to PLENUM_DOCUMENT_MAX_BYTES), not the others' 16 kB JSON one.
          documentRoutes({ accreditation, documents, maxBytes: config.documents.maxBytes, adminApiKey: config.adminApiKey, focusChanged: (ref, id) => documentFocus.focusChanged(ref, id), log: log.child({ component: 'documents' }) }),
          // Only its own paths (…/sessions/:sessionId/recording and /recordings): no other route is guarded twice.
          recordingRoutes({ accreditation, store: recordings, storageDir: config.storageDir, audit: accreditation.service.audit, adminApiKey: config.adminApiKey, recordingChanged: (ref) => recorder.changed(ref.sessionId), canRecord: () => recorder.available(), log: log.child({ component: 'recording' }) }),
          accreditationRoutes({
            accreditation,
            monitor: revocation,
            tokens,
            adminApiKey: config.adminApiKey,
            webhookSecret: config.registry.webhookSecret,
            signInFailuresPerMinute: config.identity.signInFailuresPerMinute,
            signInAttemptsPerMinutePerAddress: config.identity.signInAttemptsPerMinutePerAddress,
            log: log.child({ component: 'accreditation' }),
          }),
          conductRoutes({ accreditation, conduct, rooms, transcripts, floor, adminApiKey: config.adminApiKey, log: log.child({ component: 'conduct' }) }),
          webhookRoutes({ accreditation, deliveries: new WebhookDeliveries(store.db), configured: webhooks !== undefined, adminApiKey: config.adminApiKey, log: log.child({ component: 'webhooks' }) }),
          voteRoutes({ accreditation, votes, adminApiKey: config.adminApiKey }),
          dialInRoutes({ accreditation, adminApiKey: config.adminApiKey, log: log.child({ component: 'dial-in' }) }),
          clusterRoutes({ membership, adminApiKey: config.adminApiKey }),
        ],
        tokens,
        metrics,
        metricsAccess: { token: config.metrics.token, separateListener: config.metrics.listen !== undefined, mainHostIsLoopback: isLoopbackHost(config.host) && config.trustProxy === false },
        // Ready: started, not draining, a live worker, and (in a cluster) the coordinator answering.
        isReady: () => ref.server !== undefined && !ref.server.draining && pool.workers.length > 0 && membership.healthy,
        log: log.child({ component: 'http' }),
      });
      const httpServer = createServer(app);
      // A removal outlives every resume token issued before it.
      const removals = new RemovalRecord(ownerWrites, config.joinToken.resumeTtlSeconds * 1000 + 60_000);
      const admission = new ConnectionAdmission(accreditation.service, removals, config.registry.outage);
      const connectionDeps: ConnectionDeps = {
        rooms,
        removals,
        limits: config.signaling,
        log: log.child({ component: 'signaling' }),
        observe: (method, outcome) => metrics.countRequest(method, outcome, isRequestMethod(method)),
        audit: accreditation.service.audit,
        transcripts,
        tokens,
        clusterNodes: async () => (await coordinator.liveNodes()).filter((n) => !n.draining).map((n) => n.url),
        listenerChannels: (roomId) => accreditation.service.sessions.get(roomId)?.listenerChannels ?? 'selected',
        clientAddress: clientAddressOf(config.trustProxy),
        votes,
      };
      const signaling = new SignalingServer(httpServer, tokens, membership, ownership, admission, connectionDeps);
      // A delegate an edge node serves: its forwarded requests run here as its socket's would.
      const forwardLog = log.child({ component: 'signaling' });
      cascade.delegates.answerForwarded = (room, participant, method, data) =>
        answerForwarded({ participant, room, grants: participant.grants, deps: connectionDeps, log: forwardLog.child({ person: participant.id, room: room.id, edge: participant.servedBy }) }, method, data);
      // Before the HTTP port opens: a SIP port already taken fails the start, naming it.
      dialIn = config.dialIn
        ? await DialInService.start({
            config: config.dialIn,
            announcedAddress: config.media.announcedAddress,
            gstLaunch: config.recording.gstLaunch,
            dataDir: config.dataDir,
            accreditation: accreditation.service,
            sessions: accreditation.service.sessions,
            rooms,
            ownership,
            log: log.child({ component: 'dial-in' }),
          })
        : undefined;
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => {
          httpServer.off('error', reject);
          resolve();
        });
      });
      const server = new MeetingServer(config, pool, rooms, tokens, httpServer, signaling, accreditation, revocation, conduct, membership, ownership, cascade, bus, store, log);
      ref.server = server;
      server.changes = changes;
      server.recordingRetention = recordingRetention;
      server.recorder = recorder;
      server.dialIn = dialIn;
      recordingRetention.start(config.recordingSweepMs);
      if (config.metrics.listen) {
        server.metricsListener = await MetricsListener.listen(metrics, { ...config.metrics.listen, token: config.metrics.token });
        log.info({ url: server.metricsListener.url }, 'metrics listening');
      }
      membership.start();
      ownership.start();
      webhooks?.start();
      log.info(
        { url: server.url, workers: pool.workers.length, devMode: config.devMode, registry: config.registry.kind, embeddedSignIn: config.identity.embeddedSignIn },
        'meeting server listening',
      );
      if (config.joinToken.secretIsEphemeral) {
        log.warn('PLENUM_JOIN_TOKEN_SECRET is not set: using a random secret; join tokens will not survive a restart');
      }
      return server;
    } catch (error) {
      await dialIn?.close();
      pool.close();
      await accreditation.close();
      await store.close();
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
    this.revocation.stop();
    this.membership.draining = true;
    // Calls end with a BYE now, rather than a prompt the process would not live to finish.
    await this.dialIn?.close();
    this.rooms.closeAll(CloseReason.SERVER_SHUTDOWN);
    // The recordings stay under way for the next node to serve their rooms; this node's files are finished.
    await this.recorder?.close();
    // Let the roomClosed notices flush before the sockets go.
    await new Promise((resolve) => setImmediate(resolve));
    const closing = this.signaling.close();
    this.httpServer.closeIdleConnections();
    await closing;
    this.pool.close();
    this.recordingRetention?.stop();
    await this.recordingRetention?.idle();
    await this.conduct.close();
    this.ownership.stop();
    this.cascade.close();
    await this.changes?.stop();
    await this.bus.close();
    await this.membership.stop();
    await this.metricsListener?.close();
    await this.accreditation.close();
    await this.store.close();
    this.log.info('shut down');
  }
}

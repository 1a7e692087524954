import { randomBytes } from 'node:crypto';
import { availableParallelism, hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { defaultSafetyMarginMs, leaseTimingProblem } from './cluster/room-ownership.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

/**
 * Every setting, its environment variable and its default. README's configuration table mirrors this list.
 * Secrets come only from the environment.
 */
const envSchema = z.object({
  PLENUM_HOST: z.string().default('0.0.0.0'),
  PLENUM_PORT: port.default(3000),
  PLENUM_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PLENUM_DEV_MODE: bool.default(false),
  PLENUM_DEMO: bool.default(false),
  PLENUM_ADMIN_EMAIL: z.string().email().max(254).default('admin@plenum.local'),
  PLENUM_METRICS_TOKEN: z.string().min(32, 'PLENUM_METRICS_TOKEN must be at least 32 characters').optional(),
  PLENUM_METRICS_HOST: z.string().default('127.0.0.1'),
  PLENUM_METRICS_PORT: port.optional(),
  PLENUM_TRUST_PROXY: z.string().trim().optional(),
  PLENUM_JOIN_TOKEN_SECRET: z.string().min(32, 'PLENUM_JOIN_TOKEN_SECRET must be at least 32 characters').optional(),
  PLENUM_JOIN_TOKEN_TTL_SECONDS: positiveInt.default(300),
  PLENUM_RESUME_TOKEN_TTL_SECONDS: positiveInt.default(3600),
  PLENUM_MEDIA_WORKERS: positiveInt.default(availableParallelism()),
  PLENUM_MEDIA_LISTEN_IP: z.string().default('0.0.0.0'),
  PLENUM_MEDIA_ANNOUNCED_ADDRESS: z.string().optional(),
  PLENUM_MEDIA_PORT_BASE: port.default(40000),
  PLENUM_MEDIA_RTC_MIN_PORT: port.default(40100),
  PLENUM_MEDIA_RTC_MAX_PORT: port.default(40999),
  PLENUM_MEDIA_LOG_LEVEL: z.enum(['debug', 'warn', 'error', 'none']).default('warn'),
  PLENUM_MEDIA_RESPAWN_DELAY_MS: positiveInt.default(500),
  PLENUM_MAX_TRANSPORTS_PER_DIRECTION: positiveInt.default(2),
  PLENUM_ROUTER_MAX_CONSUMERS: positiveInt.default(800),
  PLENUM_ROUTER_MAX_PRODUCERS: positiveInt.default(200),
  PLENUM_MAX_PRODUCERS_PER_PARTICIPANT: positiveInt.default(4),
  PLENUM_MAX_CONSUMERS_PER_PARTICIPANT: positiveInt.default(500),
  PLENUM_SIGNALING_MAX_MESSAGE_BYTES: positiveInt.default(32 * 1024),
  PLENUM_SIGNALING_RATE_PER_SECOND: positiveInt.default(50),
  PLENUM_SIGNALING_RATE_BURST: positiveInt.default(200),
  PLENUM_SIGNALING_MAX_PENDING_PER_ADDRESS: z.coerce.number().int().min(0).default(64),
  PLENUM_TRANSCRIPT_MAX_BYTES: positiveInt.default(16 * 1024 * 1024),
  PLENUM_ROOM_IDLE_CLOSE_MS: positiveInt.default(30_000),
  PLENUM_HANDOVER_TAKE_AFTER_MS: positiveInt.default(10_000),
  PLENUM_WEBHOOK_URL: z.string().url().optional(),
  PLENUM_WEBHOOK_SECRET: z.string().min(32, 'PLENUM_WEBHOOK_SECRET must be at least 32 characters').optional(),
  PLENUM_WEBHOOK_ATTEMPTS: positiveInt.default(5),
  PLENUM_WEBHOOK_BACKOFF_MS: positiveInt.default(500),
  PLENUM_WEBHOOK_POLL_MS: positiveInt.default(1000),
  PLENUM_WEBHOOK_RETENTION_HOURS: positiveInt.default(168),
  PLENUM_RESYNC_INTERVAL_MS: positiveInt.default(30_000),
  // A floor, so the census never becomes a query loop on the shared database.
  PLENUM_LISTENER_CENSUS_MS: z.coerce.number().int().min(100, 'PLENUM_LISTENER_CENSUS_MS must be at least 100').default(2000),
  PLENUM_ROSTER_BATCH_MS: z.coerce.number().int().min(10, 'PLENUM_ROSTER_BATCH_MS must be at least 10').max(10_000).default(250),
  PLENUM_FORWARDING: z.enum(['selective', 'all']).default('selective'),
  PLENUM_OPEN_FLOOR_VOICES: z.coerce.number().int().min(1).max(16).default(3),
  PLENUM_VOICE_HOLD_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
  PLENUM_DATA_DIR: z.string().default('data'),
  /** Files the server keeps (documents); absent: <PLENUM_DATA_DIR>/storage. */
  PLENUM_STORAGE_DIR: z.string().min(1).optional(),
  // Uploads are held in memory while their type is checked: a ceiling keeps that bounded.
  PLENUM_DOCUMENT_MAX_BYTES: z.coerce.number().int().min(1024).max(256 * 1024 * 1024).default(25 * 1024 * 1024),
  /** How often stopped recordings past their retention are deleted (server/recording/recording-retention.ts). */
  PLENUM_RECORDING_SWEEP_MS: z.coerce.number().int().min(1000, 'PLENUM_RECORDING_SWEEP_MS must be at least 1000').default(3_600_000),
  /** The recorders' GStreamer launcher (Debian's gstreamer1.0-tools): a path, or a name on PATH. */
  PLENUM_GST_LAUNCH: z.string().min(1).default('gst-launch-1.0'),
  /** How far a recording runs behind real time, so packets that arrive late still find their place. */
  PLENUM_RECORDING_DELAY_MS: z.coerce.number().int().min(60).max(5000).default(300),
  /** A channel's file that ended longer ago than this gets a new part, rather than that much silence. */
  PLENUM_RECORDING_MAX_FILL_MS: z.coerce.number().int().min(0).max(86_400_000).default(600_000),
  /**
   * Video under a constrained downlink (server/rooms/video-fallback.ts, docs/LOW-BANDWIDTH.md): below the first
   * estimate a receiver gets the lowest layer, below the second no video; each after this long below.
   */
  PLENUM_VIDEO_LOWEST_BELOW_KBPS: z.coerce.number().int().min(10).max(100_000).default(350),
  PLENUM_VIDEO_OFF_BELOW_KBPS: z.coerce.number().int().min(0).max(100_000).default(120),
  PLENUM_VIDEO_FALLBACK_AFTER_MS: z.coerce.number().int().min(0).max(60_000).default(1500),
  /** Dial-in (server/dial-in, docs/DIAL-IN.md): the SIP port (UDP and TCP); absent: no dial-in. */
  PLENUM_SIP_PORT: port.optional(),
  PLENUM_SIP_HOST: z.string().min(1).default('0.0.0.0'),
  /** The address phones send RTP to (the SDP's c=); absent: the media's announced address. */
  PLENUM_SIP_MEDIA_ADDRESS: z.string().min(1).optional(),
  /** The UDP ports of the calls' RTP, "min-max". */
  PLENUM_SIP_RTP_PORTS: z
    .string()
    .regex(/^\d{1,5}-\d{1,5}$/, 'PLENUM_SIP_RTP_PORTS must be "min-max"')
    .default('41000-41999'),
  /** The trunk's digest credentials: the PBX or SIP trunk authenticates each INVITE with them. */
  PLENUM_SIP_TRUNK_USER: z.string().min(1).max(128).optional(),
  PLENUM_SIP_TRUNK_PASSWORD: z.string().min(16, 'PLENUM_SIP_TRUNK_PASSWORD must be at least 16 characters').max(256).optional(),
  PLENUM_SIP_REALM: z.string().min(1).max(128).default('plenum'),
  /** Comma-separated addresses or CIDRs the trunk calls from; absent: any (the digest still applies). */
  PLENUM_SIP_ALLOW_FROM: z.string().trim().optional(),
  /** Codecs offered to phones, in order of preference. */
  PLENUM_SIP_CODECS: z
    .string()
    .regex(/^(opus|PCMU|PCMA)(,(opus|PCMU|PCMA))*$/, 'PLENUM_SIP_CODECS must list opus, PCMU, PCMA')
    .default('opus,PCMU,PCMA'),
  PLENUM_SIP_MAX_CALLS: z.coerce.number().int().min(1).max(10_000).default(200),
  /** Tries a caller has for the PIN before the call is ended. */
  PLENUM_DIAL_IN_PIN_TRIES: z.coerce.number().int().min(1).max(10).default(3),
  /** The espeak-ng voice of the prompts. */
  PLENUM_DIAL_IN_VOICE: z
    .string()
    .regex(/^[a-z]{2,3}(-[a-z0-9]{1,8})*$/i)
    .default('en'),
  /** The cluster's shared PostgreSQL; absent: the embedded engine in the data directory. */
  PLENUM_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'PLENUM_DATABASE_URL must be a postgres:// or postgresql:// URL')
    .optional(),
  PLENUM_DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  PLENUM_DATABASE_WRITE_RETRY_MS: z.coerce.number().int().min(0).max(600_000).default(60_000),
  PLENUM_NODE_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
  PLENUM_PUBLIC_URL: z.string().url().optional(),
  PLENUM_REDIS_URL: z.string().url().optional(),
  PLENUM_REDIS_SENTINELS: z.string().optional(),
  PLENUM_REDIS_SENTINEL_NAME: z.string().default('mymaster'),
  PLENUM_REDIS_PASSWORD: z.string().optional(),
  PLENUM_HEARTBEAT_INTERVAL_MS: positiveInt.default(1000),
  PLENUM_NODE_STALE_AFTER_MS: positiveInt.default(5000),
  PLENUM_ROOM_LEASE_TTL_MS: positiveInt.default(5000),
  /** Absent: defaultSafetyMarginMs(TTL). */
  PLENUM_ROOM_LEASE_SAFETY_MARGIN_MS: positiveInt.optional(),
  PLENUM_CASCADE_AFTER_LISTENERS: z.coerce.number().int().min(0).max(10_000_000).default(300),
  PLENUM_CASCADE_AFTER_DELEGATES: z.coerce.number().int().min(0).max(10_000_000).default(400),
  PLENUM_CASCADE_PIPE_IDLE_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  PLENUM_CASCADE_SRTP: bool.default(true),
  PLENUM_CLUSTER_SECRET: z.string().min(32, 'PLENUM_CLUSTER_SECRET must be at least 32 characters').optional(),
  PLENUM_CLUSTER_SECRET_PREVIOUS: z.string().min(32, 'PLENUM_CLUSTER_SECRET_PREVIOUS must be at least 32 characters').optional(),
  /** Seals secret ballots in the database; absent: derived from PLENUM_CLUSTER_SECRET, or a key file in the data directory. */
  PLENUM_BALLOT_SECRET: z.string().min(32, 'PLENUM_BALLOT_SECRET must be at least 32 characters').optional(),
  /** Keys the hashes dial-in PINs are stored as; absent: derived from PLENUM_CLUSTER_SECRET, or a key file in the data directory. */
  PLENUM_DIAL_IN_PIN_SECRET: z.string().min(32, 'PLENUM_DIAL_IN_PIN_SECRET must be at least 32 characters').optional(),
  PLENUM_DIAL_IN_PIN_LENGTH: z.coerce.number().int().min(6).max(12).default(8),
  PLENUM_DIAL_IN_PIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100_000).default(20),
  PLENUM_DIAL_IN_PIN_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  PLENUM_CLUSTER_MESSAGE_WINDOW_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  PLENUM_ADMIN_API_KEY: z.string().min(32, 'PLENUM_ADMIN_API_KEY must be at least 32 characters').optional(),
  // Identity: tokens from the organisation's identity provider.
  PLENUM_IDENTITY_ISSUER: z.string().optional(),
  PLENUM_IDENTITY_AUDIENCE: z.string().default('plenum'),
  PLENUM_IDENTITY_JWKS_URL: z.string().url().optional(),
  PLENUM_IDENTITY_HS256_SECRET: z.string().min(32, 'PLENUM_IDENTITY_HS256_SECRET must be at least 32 characters').optional(),
  PLENUM_IDENTITY_ALGORITHMS: z
    .string()
    .default('RS256,ES256')
    .transform((v) => v.split(',').map((a) => a.trim()))
    .pipe(z.array(z.enum(['RS256', 'ES256'])).min(1)),
  PLENUM_IDENTITY_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(600).default(60),
  PLENUM_IDENTITY_EMAIL_CLAIM: z.string().default('email'),
  PLENUM_IDENTITY_NAME_CLAIM: z.string().default('name'),
  PLENUM_IDENTITY_PERSON_ID_CLAIM: z.string().optional(),
  PLENUM_IDENTITY_JWKS_CACHE_SECONDS: positiveInt.default(600),
  PLENUM_IDENTITY_REQUIRE_EMAIL_VERIFIED: bool.default(true),
  // Single sign-on in the web app: the browser is an OpenID Connect client (code flow + PKCE) of PLENUM_IDENTITY_ISSUER.
  PLENUM_OIDC_CLIENT_ID: z.string().trim().min(1).max(256).optional(),
  PLENUM_OIDC_REDIRECT_URI: z.string().trim().url().optional(),
  PLENUM_OIDC_SCOPE: z.string().trim().optional(),
  PLENUM_OIDC_PROVIDER_NAME: z.string().trim().min(1).max(64).optional(),
  PLENUM_EMBEDDED_SIGN_IN: bool.optional(),
  PLENUM_SIGN_IN_FAILURES_PER_MINUTE: positiveInt.default(10),
  PLENUM_SIGN_IN_ATTEMPTS_PER_MINUTE: positiveInt.default(30),
  PLENUM_SIGN_IN_MAX_CONCURRENT_HASHES: positiveInt.default(2),
  PLENUM_EMBEDDED_IDP_SECRET: z.string().min(32, 'PLENUM_EMBEDDED_IDP_SECRET must be at least 32 characters').optional(),
  // Registry: the CRM.
  PLENUM_REGISTRY: z.enum(['embedded', 'rest']).default('embedded'),
  PLENUM_REGISTRY_URL: z.string().url().optional(),
  PLENUM_REGISTRY_AUTH: z.enum(['none', 'bearer', 'oauth2']).default('none'),
  PLENUM_REGISTRY_BEARER_TOKEN: z.string().optional(),
  PLENUM_REGISTRY_OAUTH_TOKEN_URL: z.string().url().optional(),
  PLENUM_REGISTRY_OAUTH_CLIENT_ID: z.string().optional(),
  PLENUM_REGISTRY_OAUTH_CLIENT_SECRET: z.string().optional(),
  PLENUM_REGISTRY_OAUTH_SCOPE: z.string().optional(),
  PLENUM_REGISTRY_FIELD_MAPPING: z.string().optional(),
  PLENUM_REGISTRY_TIMEOUT_MS: positiveInt.default(3000),
  PLENUM_REGISTRY_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  PLENUM_REGISTRY_BACKOFF_MS: positiveInt.default(200),
  PLENUM_REGISTRY_WEBHOOK_SECRET: z.string().min(32, 'PLENUM_REGISTRY_WEBHOOK_SECRET must be at least 32 characters').optional(),
  PLENUM_REGISTRY_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(60),
  PLENUM_REGISTRY_NEGATIVE_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(10),
  PLENUM_REGISTRY_MAX_CONCURRENCY: positiveInt.default(16),
  PLENUM_REGISTRY_CACHE_MAX_ENTRIES: positiveInt.default(10_000),
  PLENUM_REGISTRY_OUTAGE_POLICY: z.enum(['fail-closed', 'grace']).default('fail-closed'),
  PLENUM_REGISTRY_GRACE_MINUTES: positiveInt.default(30),
  PLENUM_REVALIDATE_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(120),
  PLENUM_SHUTDOWN_GRACE_MS: positiveInt.default(5000),
});

export interface Config {
  host: string;
  port: number;
  logLevel: z.infer<typeof envSchema>['PLENUM_LOG_LEVEL'];
  devMode: boolean;
  /** Seed the demo event (public access code) on a first start, and accept its sign-ins. */
  demo: boolean;
  /** The secretariat administrator a first start creates when the demo is off. */
  adminEmail: string;
  /** /metrics: a bearer token, and/or its own listener instead of the main port. */
  metrics: { token?: string; listen?: { host: string; port: number } };
  /** Which reverse proxies' X-Forwarded-For is believed (hop count, or addresses/subnets); false: none. */
  trustProxy: false | number | string[];
  joinToken: { secret: string; secretIsEphemeral: boolean; ttlSeconds: number; resumeTtlSeconds: number };
  /** The secret that seals secret ballots: set, or derived from the cluster's secret; undefined: a key file in the data directory. */
  votes: { ballotSecret?: string };
  /** Personal dial-in PINs: the hashing secret (undefined: a key file in the data directory), new PINs' digits, the wrong-PIN limit per session. */
  dialInPins: { secret?: string; length: number; maxFailures: number; failureWindowMs: number };
  media: {
    numWorkers: number;
    listenIp: string;
    announcedAddress: string;
    portBase: number;
    rtcMinPort: number;
    rtcMaxPort: number;
    logLevel: z.infer<typeof envSchema>['PLENUM_MEDIA_LOG_LEVEL'];
    respawnDelayMs: number;
    maxTransportsPerDirection: number;
    maxProducers: number;
    maxConsumers: number;
    maxConsumersPerRouter: number;
    /** Past this many publishers' producers on a router, a room's new send transports go to a router on another worker. */
    maxProducersPerRouter: number;
  };
  signaling: { maxMessageBytes: number; ratePerSecond: number; rateBurst: number; maxPendingPerAddress: number };
  roomIdleCloseMs: number;
  handoverTakeAfterMs: number;
  /** Outgoing meeting events (session opened/closed, joins, the floor), when configured. */
  webhook?: { url: string; secret: string; attempts: number; backoffMs: number; timeoutMs: number; pollMs: number; retentionMs: number; queueRetryMs: number };
  /** How often a node re-reads sessions and re-checks its rooms' people, for changes whose notice it missed. */
  resyncIntervalMs: number;
  /** How often a room's owner recounts its edge listeners for its moderators (sent only when changed). */
  listenerCensusMs: number;
  /** A room tells joins and leaves (and moderators' counts) at most once per this interval, as one batch. */
  rosterBatchMs: number;
  /** Which floor microphones receivers get: the audible ones (`selective`), or every one (`all`). */
  audio: { mode: 'selective' | 'all'; voices: number; holdMs: number; intervalMs: number; joinAfterIntervals: number };
  shutdownGraceMs: number;
  dataDir: string;
  /** Where files are kept (session documents), outside the database. */
  storageDir: string;
  /** Largest document upload, in bytes. */
  documents: { maxBytes: number };
  /** How often the retention sweeper deletes the files of expired recordings. */
  recordingSweepMs: number;
  /** The recorders (server/recording): GStreamer's launcher, the delay behind real time, the longest silence filled. */
  recording: { gstLaunch: string; delayMs: number; maxFillMs: number };
  /** Dial-in by phone (server/dial-in); absent: off. */
  dialIn?: DialInConfig;
  /** When a receiver's video steps down to the lowest layer, then off (server/rooms/video-fallback.ts). */
  videoFallback: { lowestBelowBps: number; offBelowBps: number; downAfterMs: number };
  /** The system of record: PostgreSQL when a URL is set, else the embedded engine in the data directory. */
  /** `writeRetryMs`: how long a room record (attendance, floor, transcript) is retried through a database outage. */
  database: { url?: string; poolSize: number; writeRetryMs: number };
  /** Most bytes one transcript (a session's language) may hold. */
  transcriptMaxBytes: number;
  adminApiKey?: string;
  cluster: {
    nodeId: string;
    publicUrl?: string;
    redis?: { kind: 'url'; url: string } | { kind: 'sentinel'; sentinels: Array<{ host: string; port: number }>; name: string; password?: string };
    heartbeatIntervalMs: number;
    staleAfterMs: number;
    roomLeaseTtlMs: number;
    /** A node stops serving a room this long before its unconfirmed lease could expire in Redis. */
    roomLeaseSafetyMarginMs: number;
    /** A room's origin seats this many listeners; further listeners go to edge nodes that pipe the room in. */
    cascadeAfterListeners: number;
    /** Delegates the origin seats itself before it sends further delegates of the room to edge nodes. */
    cascadeAfterDelegates: number;
    /** An edge lets go of a piped producer nobody there has received for between one and two of these. */
    cascadePipeIdleMs: number;
    /** Encrypt the pipes between nodes (SRTP). */
    cascadeSrtp: boolean;
    /** Signs messages between nodes and seals their SRTP keys; `previous` is still accepted during a rotation. */
    secret: { current: string; previous?: string };
    secretIsEphemeral: boolean;
    /** A message between nodes older or newer than this is dropped, and a nonce is remembered this long. */
    messageWindowMs: number;
  };
  identity: {
    /** An external identity provider, when configured. */
    external?: {
      issuer: string;
      audience: string;
      key: { kind: 'jwks'; url: string; algorithms: Array<'RS256' | 'ES256'>; cacheSeconds: number } | { kind: 'shared-secret'; secret: string };
      clockSkewSeconds: number;
      emailClaim: string;
      nameClaim: string;
      personIdClaim?: string;
      requireEmailVerified: boolean;
    };
    /** The web app's sign-in through the identity provider (what /api/config tells the browser), when configured. */
    oidc?: OidcBrowserSettings;
    embeddedSignIn: boolean;
    embeddedSecret: string;
    signInFailuresPerMinute: number;
    signInAttemptsPerMinutePerAddress: number;
    signInMaxConcurrentHashes: number;
  };
  registry: {
    kind: 'embedded' | 'rest';
    rest?: {
      url: string;
      auth:
        | { kind: 'none' }
        | { kind: 'bearer'; token: string }
        | { kind: 'oauth2-client-credentials'; tokenUrl: string; clientId: string; clientSecret: string; scope?: string };
      mappingFile?: string;
      timeoutMs: number;
      retries: number;
      backoffMs: number;
    };
    webhookSecret?: string;
    cache: { positiveTtlMs: number; negativeTtlMs: number; maxConcurrency: number; maxEntries: number };
    outage: { kind: 'fail-closed' } | { kind: 'grace'; graceMs: number };
    revalidateIntervalMs: number;
  };
}

export class ConfigError extends Error {}

export interface OidcBrowserSettings {
  issuer: string;
  clientId: string;
  /** Absolute, or the path `/signed-in` that the browser resolves against its own origin. */
  redirectUri: string;
  scope: string;
  /** Shown as "Sign in with <providerName>"; default: the issuer's host. */
  providerName: string;
}

/** http is allowed only on the machine itself (development and tests); browsers need https anywhere else. */
const isLoopbackHttp = (url: URL): boolean => url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);

/**
 * The browser's OpenID Connect settings (PLENUM_OIDC_*), checked against the verifier's: the ID token the
 * browser gets must pass it, so its issuer, keys and audience (the client id) must be the provider's.
 */
function oidcBrowserSettings(e: z.infer<typeof envSchema>, external: Config['identity']['external']): OidcBrowserSettings | undefined {
  const clientId = e.PLENUM_OIDC_CLIENT_ID;
  if (clientId === undefined) {
    const stray = (['PLENUM_OIDC_REDIRECT_URI', 'PLENUM_OIDC_SCOPE', 'PLENUM_OIDC_PROVIDER_NAME'] as const).find((name) => e[name] !== undefined);
    if (stray) throw new ConfigError(`invalid configuration: ${stray} is set but PLENUM_OIDC_CLIENT_ID is not`);
    return undefined;
  }
  if (!external || external.key.kind !== 'jwks') {
    throw new ConfigError('invalid configuration: PLENUM_OIDC_CLIENT_ID needs PLENUM_IDENTITY_ISSUER and PLENUM_IDENTITY_JWKS_URL (the provider\'s keys verify the ID tokens the browser brings back)');
  }
  const issuer = URL.canParse(external.issuer) ? new URL(external.issuer) : undefined;
  if (!issuer || !(issuer.protocol === 'https:' || isLoopbackHttp(issuer)) || issuer.search || issuer.hash) {
    throw new ConfigError('invalid configuration: PLENUM_IDENTITY_ISSUER must be the provider\'s https URL (its discovery document is at <issuer>/.well-known/openid-configuration) with PLENUM_OIDC_CLIENT_ID');
  }
  if (external.audience !== clientId) {
    throw new ConfigError(
      `invalid configuration: PLENUM_OIDC_CLIENT_ID (${clientId}) and PLENUM_IDENTITY_AUDIENCE (${external.audience}) disagree: an ID token's audience is the client id, so every sign-in would be refused; set PLENUM_IDENTITY_AUDIENCE=${clientId}`,
    );
  }
  let redirectUri = '/signed-in';
  if (e.PLENUM_OIDC_REDIRECT_URI !== undefined) {
    const url = new URL(e.PLENUM_OIDC_REDIRECT_URI);
    if (!(url.protocol === 'https:' || isLoopbackHttp(url)) || url.pathname !== '/signed-in' || url.search || url.hash) {
      throw new ConfigError('invalid configuration: PLENUM_OIDC_REDIRECT_URI must be Plenum\'s public https address followed by /signed-in (e.g. https://plenum.example.org/signed-in)');
    }
    redirectUri = url.href;
  }
  const scope = (e.PLENUM_OIDC_SCOPE ?? 'openid email profile').split(/\s+/).filter((s) => s !== '');
  if (!scope.includes('openid')) throw new ConfigError('invalid configuration: PLENUM_OIDC_SCOPE must include openid');
  return { issuer: external.issuer, clientId, redirectUri, scope: scope.join(' '), providerName: e.PLENUM_OIDC_PROVIDER_NAME ?? issuer.host };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.PLENUM_MEDIA_RTC_MIN_PORT > e.PLENUM_MEDIA_RTC_MAX_PORT) {
    throw new ConfigError('invalid configuration: PLENUM_MEDIA_RTC_MIN_PORT is above PLENUM_MEDIA_RTC_MAX_PORT');
  }
  const leaseMarginMs = e.PLENUM_ROOM_LEASE_SAFETY_MARGIN_MS ?? defaultSafetyMarginMs(e.PLENUM_ROOM_LEASE_TTL_MS);
  const leaseProblem = leaseTimingProblem(e.PLENUM_ROOM_LEASE_TTL_MS, leaseMarginMs);
  if (leaseProblem) throw new ConfigError(`invalid configuration: PLENUM_ROOM_LEASE_TTL_MS / PLENUM_ROOM_LEASE_SAFETY_MARGIN_MS: ${leaseProblem}`);
  const need = (value: string | undefined, name: string, why: string): string => {
    if (!value) throw new ConfigError(`invalid configuration: ${name} is required ${why}`);
    return value;
  };
  let external: Config['identity']['external'];
  if (e.PLENUM_IDENTITY_JWKS_URL || e.PLENUM_IDENTITY_HS256_SECRET) {
    if (e.PLENUM_IDENTITY_JWKS_URL && e.PLENUM_IDENTITY_HS256_SECRET) {
      throw new ConfigError('invalid configuration: set PLENUM_IDENTITY_JWKS_URL or PLENUM_IDENTITY_HS256_SECRET, not both');
    }
    external = {
      issuer: need(e.PLENUM_IDENTITY_ISSUER, 'PLENUM_IDENTITY_ISSUER', 'with an identity provider'),
      audience: e.PLENUM_IDENTITY_AUDIENCE,
      key: e.PLENUM_IDENTITY_JWKS_URL
        ? { kind: 'jwks', url: e.PLENUM_IDENTITY_JWKS_URL, algorithms: e.PLENUM_IDENTITY_ALGORITHMS, cacheSeconds: e.PLENUM_IDENTITY_JWKS_CACHE_SECONDS }
        : { kind: 'shared-secret', secret: e.PLENUM_IDENTITY_HS256_SECRET! },
      clockSkewSeconds: e.PLENUM_IDENTITY_CLOCK_SKEW_SECONDS,
      emailClaim: e.PLENUM_IDENTITY_EMAIL_CLAIM,
      nameClaim: e.PLENUM_IDENTITY_NAME_CLAIM,
      personIdClaim: e.PLENUM_IDENTITY_PERSON_ID_CLAIM,
      requireEmailVerified: e.PLENUM_IDENTITY_REQUIRE_EMAIL_VERIFIED,
    };
  }
  const oidc = oidcBrowserSettings(e, external);
  const embeddedSignIn = e.PLENUM_EMBEDDED_SIGN_IN ?? e.PLENUM_REGISTRY === 'embedded';
  if (embeddedSignIn && e.PLENUM_REGISTRY !== 'embedded') {
    throw new ConfigError('invalid configuration: PLENUM_EMBEDDED_SIGN_IN needs PLENUM_REGISTRY=embedded');
  }
  let rest: Config['registry']['rest'];
  if (e.PLENUM_REGISTRY === 'rest') {
    const why = 'with PLENUM_REGISTRY=rest';
    rest = {
      url: need(e.PLENUM_REGISTRY_URL, 'PLENUM_REGISTRY_URL', why),
      auth:
        e.PLENUM_REGISTRY_AUTH === 'bearer'
          ? { kind: 'bearer', token: need(e.PLENUM_REGISTRY_BEARER_TOKEN, 'PLENUM_REGISTRY_BEARER_TOKEN', 'with PLENUM_REGISTRY_AUTH=bearer') }
          : e.PLENUM_REGISTRY_AUTH === 'oauth2'
            ? {
                kind: 'oauth2-client-credentials',
                tokenUrl: need(e.PLENUM_REGISTRY_OAUTH_TOKEN_URL, 'PLENUM_REGISTRY_OAUTH_TOKEN_URL', 'with PLENUM_REGISTRY_AUTH=oauth2'),
                clientId: need(e.PLENUM_REGISTRY_OAUTH_CLIENT_ID, 'PLENUM_REGISTRY_OAUTH_CLIENT_ID', 'with PLENUM_REGISTRY_AUTH=oauth2'),
                clientSecret: need(e.PLENUM_REGISTRY_OAUTH_CLIENT_SECRET, 'PLENUM_REGISTRY_OAUTH_CLIENT_SECRET', 'with PLENUM_REGISTRY_AUTH=oauth2'),
                scope: e.PLENUM_REGISTRY_OAUTH_SCOPE,
              }
            : { kind: 'none' },
      mappingFile: e.PLENUM_REGISTRY_FIELD_MAPPING,
      timeoutMs: e.PLENUM_REGISTRY_TIMEOUT_MS,
      retries: e.PLENUM_REGISTRY_RETRIES,
      backoffMs: e.PLENUM_REGISTRY_BACKOFF_MS,
    };
  }
  if ((e.PLENUM_REDIS_URL || e.PLENUM_REDIS_SENTINELS) && !e.PLENUM_JOIN_TOKEN_SECRET) {
    // Tokens issued by one node must verify on the others.
    throw new ConfigError('invalid configuration: a cluster (PLENUM_REDIS_URL or PLENUM_REDIS_SENTINELS) needs PLENUM_JOIN_TOKEN_SECRET, shared by all nodes');
  }
  if ((e.PLENUM_REDIS_URL || e.PLENUM_REDIS_SENTINELS) && !e.PLENUM_CLUSTER_SECRET) {
    // Without it, anyone who can publish to Redis could speak for a node.
    throw new ConfigError(
      'invalid configuration: a cluster (PLENUM_REDIS_URL or PLENUM_REDIS_SENTINELS) needs PLENUM_CLUSTER_SECRET (at least 32 characters, the same on all nodes): it signs the messages between nodes and seals their SRTP keys',
    );
  }
  if ((e.PLENUM_REDIS_URL || e.PLENUM_REDIS_SENTINELS) && embeddedSignIn && !e.PLENUM_EMBEDDED_IDP_SECRET) {
    // A sign-in through one node must be good on the others.
    throw new ConfigError('invalid configuration: a cluster with the embedded sign-in needs PLENUM_EMBEDDED_IDP_SECRET, shared by all nodes');
  }
  if ((e.PLENUM_REDIS_URL || e.PLENUM_REDIS_SENTINELS) && !e.PLENUM_DATABASE_URL) {
    // Each node's embedded database would be its own truth: sessions, revocations and records would split.
    throw new ConfigError(
      'invalid configuration: a cluster (PLENUM_REDIS_URL or PLENUM_REDIS_SENTINELS) needs PLENUM_DATABASE_URL, one PostgreSQL shared by all nodes: the embedded database serves one node only',
    );
  }
  if (e.PLENUM_VIDEO_OFF_BELOW_KBPS >= e.PLENUM_VIDEO_LOWEST_BELOW_KBPS) {
    throw new ConfigError('invalid configuration: PLENUM_VIDEO_OFF_BELOW_KBPS must be below PLENUM_VIDEO_LOWEST_BELOW_KBPS');
  }
  if (e.PLENUM_CLUSTER_SECRET_PREVIOUS && !e.PLENUM_CLUSTER_SECRET) throw new ConfigError('invalid configuration: PLENUM_CLUSTER_SECRET_PREVIOUS needs PLENUM_CLUSTER_SECRET');
  if (e.PLENUM_WEBHOOK_URL && !e.PLENUM_WEBHOOK_SECRET) throw new ConfigError('invalid configuration: PLENUM_WEBHOOK_URL needs PLENUM_WEBHOOK_SECRET');
  if (!external && !embeddedSignIn) {
    throw new ConfigError('invalid configuration: no way to sign in: configure an identity provider (PLENUM_IDENTITY_JWKS_URL or PLENUM_IDENTITY_HS256_SECRET) or the embedded sign-in');
  }
  return {
    host: e.PLENUM_HOST,
    port: e.PLENUM_PORT,
    logLevel: e.PLENUM_LOG_LEVEL,
    devMode: e.PLENUM_DEV_MODE,
    demo: e.PLENUM_DEMO,
    adminEmail: e.PLENUM_ADMIN_EMAIL.toLowerCase(),
    metrics: {
      token: e.PLENUM_METRICS_TOKEN,
      listen: e.PLENUM_METRICS_PORT === undefined ? undefined : { host: e.PLENUM_METRICS_HOST, port: e.PLENUM_METRICS_PORT },
    },
    trustProxy: trustProxy(e.PLENUM_TRUST_PROXY),
    votes: {
      // Every node must open the ballots another node sealed: a cluster derives it from its shared secret.
      ballotSecret: e.PLENUM_BALLOT_SECRET ?? (e.PLENUM_CLUSTER_SECRET ? `derived:${e.PLENUM_CLUSTER_SECRET}` : undefined),
    },
    dialInPins: {
      // Every node must find the PINs another node issued: as for ballots.
      secret: e.PLENUM_DIAL_IN_PIN_SECRET ?? (e.PLENUM_CLUSTER_SECRET ? `derived:${e.PLENUM_CLUSTER_SECRET}` : undefined),
      length: e.PLENUM_DIAL_IN_PIN_LENGTH,
      maxFailures: e.PLENUM_DIAL_IN_PIN_MAX_FAILURES,
      failureWindowMs: e.PLENUM_DIAL_IN_PIN_FAILURE_WINDOW_SECONDS * 1000,
    },
    joinToken: {
      // Without a configured secret, tokens die with the process; fine for one node, not for a cluster.
      secret: e.PLENUM_JOIN_TOKEN_SECRET ?? randomBytes(32).toString('base64url'),
      secretIsEphemeral: e.PLENUM_JOIN_TOKEN_SECRET === undefined,
      ttlSeconds: e.PLENUM_JOIN_TOKEN_TTL_SECONDS,
      resumeTtlSeconds: e.PLENUM_RESUME_TOKEN_TTL_SECONDS,
    },
    media: {
      numWorkers: e.PLENUM_MEDIA_WORKERS,
      listenIp: e.PLENUM_MEDIA_LISTEN_IP,
      announcedAddress: e.PLENUM_MEDIA_ANNOUNCED_ADDRESS ?? defaultAnnouncedAddress(e.PLENUM_MEDIA_LISTEN_IP),
      portBase: e.PLENUM_MEDIA_PORT_BASE,
      rtcMinPort: e.PLENUM_MEDIA_RTC_MIN_PORT,
      rtcMaxPort: e.PLENUM_MEDIA_RTC_MAX_PORT,
      logLevel: e.PLENUM_MEDIA_LOG_LEVEL,
      respawnDelayMs: e.PLENUM_MEDIA_RESPAWN_DELAY_MS,
      maxTransportsPerDirection: e.PLENUM_MAX_TRANSPORTS_PER_DIRECTION,
      maxProducers: e.PLENUM_MAX_PRODUCERS_PER_PARTICIPANT,
      maxConsumers: e.PLENUM_MAX_CONSUMERS_PER_PARTICIPANT,
      maxConsumersPerRouter: e.PLENUM_ROUTER_MAX_CONSUMERS,
      maxProducersPerRouter: e.PLENUM_ROUTER_MAX_PRODUCERS,
    },
    signaling: {
      maxMessageBytes: e.PLENUM_SIGNALING_MAX_MESSAGE_BYTES,
      ratePerSecond: e.PLENUM_SIGNALING_RATE_PER_SECOND,
      rateBurst: e.PLENUM_SIGNALING_RATE_BURST,
      maxPendingPerAddress: e.PLENUM_SIGNALING_MAX_PENDING_PER_ADDRESS,
    },
    roomIdleCloseMs: e.PLENUM_ROOM_IDLE_CLOSE_MS,
    handoverTakeAfterMs: e.PLENUM_HANDOVER_TAKE_AFTER_MS,
    webhook: e.PLENUM_WEBHOOK_URL
      ? { url: e.PLENUM_WEBHOOK_URL, secret: e.PLENUM_WEBHOOK_SECRET!, attempts: e.PLENUM_WEBHOOK_ATTEMPTS, backoffMs: e.PLENUM_WEBHOOK_BACKOFF_MS, timeoutMs: 5000, pollMs: e.PLENUM_WEBHOOK_POLL_MS, retentionMs: e.PLENUM_WEBHOOK_RETENTION_HOURS * 3_600_000, queueRetryMs: e.PLENUM_DATABASE_WRITE_RETRY_MS }
      : undefined,
    resyncIntervalMs: e.PLENUM_RESYNC_INTERVAL_MS,
    listenerCensusMs: e.PLENUM_LISTENER_CENSUS_MS,
    rosterBatchMs: e.PLENUM_ROSTER_BATCH_MS,
    // Levels are measured every 200 ms; a voice joins after two measurements among the loudest.
    audio: { mode: e.PLENUM_FORWARDING, voices: e.PLENUM_OPEN_FLOOR_VOICES, holdMs: e.PLENUM_VOICE_HOLD_MS, intervalMs: 200, joinAfterIntervals: 2 },
    shutdownGraceMs: e.PLENUM_SHUTDOWN_GRACE_MS,
    dataDir: e.PLENUM_DATA_DIR,
    storageDir: e.PLENUM_STORAGE_DIR ?? join(e.PLENUM_DATA_DIR, 'storage'),
    documents: { maxBytes: e.PLENUM_DOCUMENT_MAX_BYTES },
    recordingSweepMs: e.PLENUM_RECORDING_SWEEP_MS,
    recording: { gstLaunch: e.PLENUM_GST_LAUNCH, delayMs: e.PLENUM_RECORDING_DELAY_MS, maxFillMs: e.PLENUM_RECORDING_MAX_FILL_MS },
    dialIn: dialInConfig(e),
    videoFallback: { lowestBelowBps: e.PLENUM_VIDEO_LOWEST_BELOW_KBPS * 1000, offBelowBps: e.PLENUM_VIDEO_OFF_BELOW_KBPS * 1000, downAfterMs: e.PLENUM_VIDEO_FALLBACK_AFTER_MS },
    database: { url: e.PLENUM_DATABASE_URL, poolSize: e.PLENUM_DATABASE_POOL_SIZE, writeRetryMs: e.PLENUM_DATABASE_WRITE_RETRY_MS },
    transcriptMaxBytes: e.PLENUM_TRANSCRIPT_MAX_BYTES,
    cluster: {
      nodeId: e.PLENUM_NODE_ID ?? `${hostname()}-${process.pid}`,
      publicUrl: e.PLENUM_PUBLIC_URL,
      redis: e.PLENUM_REDIS_SENTINELS
        ? {
            kind: 'sentinel',
            sentinels: e.PLENUM_REDIS_SENTINELS.split(',').map((s) => {
              const [host, port] = s.trim().split(':');
              return { host: host!, port: Number(port ?? 26379) };
            }),
            name: e.PLENUM_REDIS_SENTINEL_NAME,
            password: e.PLENUM_REDIS_PASSWORD,
          }
        : e.PLENUM_REDIS_URL
          ? { kind: 'url', url: e.PLENUM_REDIS_URL }
          : undefined,
      heartbeatIntervalMs: e.PLENUM_HEARTBEAT_INTERVAL_MS,
      staleAfterMs: e.PLENUM_NODE_STALE_AFTER_MS,
      roomLeaseTtlMs: e.PLENUM_ROOM_LEASE_TTL_MS,
      roomLeaseSafetyMarginMs: leaseMarginMs,
      cascadeAfterListeners: e.PLENUM_CASCADE_AFTER_LISTENERS,
      cascadeAfterDelegates: e.PLENUM_CASCADE_AFTER_DELEGATES,
      cascadePipeIdleMs: e.PLENUM_CASCADE_PIPE_IDLE_MS,
      cascadeSrtp: e.PLENUM_CASCADE_SRTP,
      // One node without Redis talks only to itself: a secret of its own is enough.
      secret: { current: e.PLENUM_CLUSTER_SECRET ?? randomBytes(32).toString('base64url'), previous: e.PLENUM_CLUSTER_SECRET_PREVIOUS },
      secretIsEphemeral: e.PLENUM_CLUSTER_SECRET === undefined,
      messageWindowMs: e.PLENUM_CLUSTER_MESSAGE_WINDOW_MS,
    },
    adminApiKey: e.PLENUM_ADMIN_API_KEY,
    identity: {
      external,
      oidc,
      embeddedSignIn,
      embeddedSecret: e.PLENUM_EMBEDDED_IDP_SECRET ?? randomBytes(32).toString('base64url'),
      signInFailuresPerMinute: e.PLENUM_SIGN_IN_FAILURES_PER_MINUTE,
      signInAttemptsPerMinutePerAddress: e.PLENUM_SIGN_IN_ATTEMPTS_PER_MINUTE,
      signInMaxConcurrentHashes: e.PLENUM_SIGN_IN_MAX_CONCURRENT_HASHES,
    },
    registry: {
      kind: e.PLENUM_REGISTRY,
      rest,
      webhookSecret: e.PLENUM_REGISTRY_WEBHOOK_SECRET,
      cache: {
        positiveTtlMs: e.PLENUM_REGISTRY_CACHE_TTL_SECONDS * 1000,
        negativeTtlMs: e.PLENUM_REGISTRY_NEGATIVE_CACHE_TTL_SECONDS * 1000,
        maxConcurrency: e.PLENUM_REGISTRY_MAX_CONCURRENCY,
        maxEntries: e.PLENUM_REGISTRY_CACHE_MAX_ENTRIES,
      },
      outage: e.PLENUM_REGISTRY_OUTAGE_POLICY === 'grace' ? { kind: 'grace', graceMs: e.PLENUM_REGISTRY_GRACE_MINUTES * 60_000 } : { kind: 'fail-closed' },
      revalidateIntervalMs: e.PLENUM_REVALIDATE_INTERVAL_SECONDS * 1000,
    },
  };
}

/** A wildcard listener announces the first external IPv4 address, so browsers on the LAN can reach it. */
function defaultAnnouncedAddress(listenIp: string): string {
  if (listenIp !== '0.0.0.0' && listenIp !== '::') return listenIp;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/**
 * PLENUM_TRUST_PROXY: behind a reverse proxy every client has the proxy's address, so per-address limits
 * (sign-in) would be shared by everyone. A hop count or the proxies' addresses make the client's address
 * come from X-Forwarded-For; `true` (believe any sender's header) is refused, since clients could then
 * choose their own address.
 */
function trustProxy(value: string | undefined): false | number | string[] {
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (/^\d+$/.test(value)) return Number(value);
  if (value === 'true') {
    throw new ConfigError('invalid configuration: PLENUM_TRUST_PROXY=true would let any client choose its address; give the number of proxies in front (e.g. 1) or their addresses (e.g. loopback, 10.0.0.0/8)');
  }
  return value.split(',').map((a) => a.trim()).filter((a) => a !== '');
}

export interface DialInConfig {
  host: string;
  port: number;
  mediaAddress: string | undefined;
  rtpPorts: { min: number; max: number };
  trunk: { username: string; password: string; realm: string };
  allowFrom: string[] | undefined;
  codecs: Array<'opus' | 'PCMU' | 'PCMA'>;
  maxCalls: number;
  pinTries: number;
  voice: string;
}

function dialInConfig(e: z.infer<typeof envSchema>): DialInConfig | undefined {
  if (e.PLENUM_SIP_PORT === undefined) return undefined;
  // A gateway that answers anyone would let any caller on the network reach the PIN prompt at scale.
  if (!e.PLENUM_SIP_TRUNK_USER || !e.PLENUM_SIP_TRUNK_PASSWORD) {
    throw new ConfigError('invalid configuration: PLENUM_SIP_PORT needs PLENUM_SIP_TRUNK_USER and PLENUM_SIP_TRUNK_PASSWORD (the trunk authenticates its calls)');
  }
  const [min, max] = e.PLENUM_SIP_RTP_PORTS.split('-').map(Number) as [number, number];
  if (min < 1024 || max > 65535 || max - min < 1) throw new ConfigError('invalid configuration: PLENUM_SIP_RTP_PORTS must be a range within 1024-65535');
  return {
    host: e.PLENUM_SIP_HOST,
    port: e.PLENUM_SIP_PORT,
    mediaAddress: e.PLENUM_SIP_MEDIA_ADDRESS,
    rtpPorts: { min, max },
    trunk: { username: e.PLENUM_SIP_TRUNK_USER, password: e.PLENUM_SIP_TRUNK_PASSWORD, realm: e.PLENUM_SIP_REALM },
    allowFrom: e.PLENUM_SIP_ALLOW_FROM ? e.PLENUM_SIP_ALLOW_FROM.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    codecs: e.PLENUM_SIP_CODECS.split(',') as DialInConfig['codecs'],
    maxCalls: e.PLENUM_SIP_MAX_CALLS,
    pinTries: e.PLENUM_DIAL_IN_PIN_TRIES,
    voice: e.PLENUM_DIAL_IN_VOICE,
  };
}

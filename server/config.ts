import { randomBytes } from 'node:crypto';
import { availableParallelism, networkInterfaces } from 'node:os';
import { z } from 'zod';

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
  PLENUM_JOIN_TOKEN_SECRET: z.string().min(32, 'PLENUM_JOIN_TOKEN_SECRET must be at least 32 characters').optional(),
  PLENUM_JOIN_TOKEN_TTL_SECONDS: positiveInt.default(300),
  PLENUM_MEDIA_WORKERS: positiveInt.default(availableParallelism()),
  PLENUM_MEDIA_LISTEN_IP: z.string().default('0.0.0.0'),
  PLENUM_MEDIA_ANNOUNCED_ADDRESS: z.string().optional(),
  PLENUM_MEDIA_PORT_BASE: port.default(40000),
  PLENUM_MEDIA_RTC_MIN_PORT: port.default(40100),
  PLENUM_MEDIA_RTC_MAX_PORT: port.default(40999),
  PLENUM_MEDIA_LOG_LEVEL: z.enum(['debug', 'warn', 'error', 'none']).default('warn'),
  PLENUM_MEDIA_RESPAWN_DELAY_MS: positiveInt.default(500),
  PLENUM_MAX_TRANSPORTS_PER_DIRECTION: positiveInt.default(2),
  PLENUM_MAX_PRODUCERS_PER_PARTICIPANT: positiveInt.default(4),
  PLENUM_MAX_CONSUMERS_PER_PARTICIPANT: positiveInt.default(500),
  PLENUM_SIGNALING_MAX_MESSAGE_BYTES: positiveInt.default(32 * 1024),
  PLENUM_SIGNALING_RATE_PER_SECOND: positiveInt.default(50),
  PLENUM_SIGNALING_RATE_BURST: positiveInt.default(200),
  PLENUM_ROOM_IDLE_CLOSE_MS: positiveInt.default(30_000),
  PLENUM_SHUTDOWN_GRACE_MS: positiveInt.default(5000),
});

export interface Config {
  host: string;
  port: number;
  logLevel: z.infer<typeof envSchema>['PLENUM_LOG_LEVEL'];
  devMode: boolean;
  joinToken: { secret: string; secretIsEphemeral: boolean; ttlSeconds: number };
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
  };
  signaling: { maxMessageBytes: number; ratePerSecond: number; rateBurst: number };
  roomIdleCloseMs: number;
  shutdownGraceMs: number;
}

export class ConfigError extends Error {}

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
  return {
    host: e.PLENUM_HOST,
    port: e.PLENUM_PORT,
    logLevel: e.PLENUM_LOG_LEVEL,
    devMode: e.PLENUM_DEV_MODE,
    joinToken: {
      // Without a configured secret, tokens die with the process; fine for one node, not for a cluster.
      secret: e.PLENUM_JOIN_TOKEN_SECRET ?? randomBytes(32).toString('base64url'),
      secretIsEphemeral: e.PLENUM_JOIN_TOKEN_SECRET === undefined,
      ttlSeconds: e.PLENUM_JOIN_TOKEN_TTL_SECONDS,
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
    },
    signaling: {
      maxMessageBytes: e.PLENUM_SIGNALING_MAX_MESSAGE_BYTES,
      ratePerSecond: e.PLENUM_SIGNALING_RATE_PER_SECOND,
      rateBurst: e.PLENUM_SIGNALING_RATE_BURST,
    },
    roomIdleCloseMs: e.PLENUM_ROOM_IDLE_CLOSE_MS,
    shutdownGraceMs: e.PLENUM_SHUTDOWN_GRACE_MS,
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

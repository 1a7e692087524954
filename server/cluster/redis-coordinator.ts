import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';
import { CoordinatorUnavailableError, type Coordinator, type NodeStats, type RoomLease } from './coordinator.js';

export type RedisConnection = { kind: 'url'; url: string } | { kind: 'sentinel'; sentinels: Array<{ host: string; port: number }>; name: string; password?: string };

// Atomic steps, each one Lua script so that no two nodes interleave inside them.
// Take or renew. A new owner gets a fencing token above every earlier one: the counter, or Redis' clock in
// milliseconds if that is larger, so tokens keep growing even after Redis lost its data in a restart. The
// fence moves to the new token at once: the old owner's writes are refused from the moment it lost the room.
const ACQUIRE = `
local holder = redis.call('HGET', KEYS[1], 'node')
if not holder then
  local t = redis.call('TIME')
  local token = math.max(redis.call('INCR', KEYS[2]), tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  redis.call('SET', KEYS[2], token)
  redis.call('HSET', KEYS[1], 'node', ARGV[1], 'token', token)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('SET', KEYS[3], token)
  return token
elseif holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('HGET', KEYS[1], 'token'))
end
return 0`;
// Renew. A lease that vanished (Redis restarted without its data, or it lapsed) is taken back with the same
// token, but only if nobody took the room since: the fence has not moved past this owner's token.
const RENEW = `
local token = redis.call('HGET', KEYS[1], 'token')
if token then
  if token ~= ARGV[1] then return 0 end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if tonumber(ARGV[1]) < tonumber(redis.call('GET', KEYS[3]) or '0') then return 0 end
redis.call('HSET', KEYS[1], 'node', ARGV[3], 'token', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[3], ARGV[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[1]) then redis.call('SET', KEYS[2], ARGV[1]) end
return 1`;
const RELEASE = `
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
// A write carries the writer's token; it is refused once a newer owner has written.
const FENCED_SET = `
local fence = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) < fence then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1`;

/**
 * The cluster coordinator on Redis (a single server or a Sentinel-managed group). Commands fail fast
 * while Redis is unreachable (no offline queue), and a command that gets no answer within
 * `commandTimeoutMs` (a network that drops packets instead of refusing them) fails too: callers see
 * CoordinatorUnavailableError and refuse or retry, they never act on a guess. ioredis reconnects by
 * itself; the node re-registers on the next heartbeat.
 */
export class RedisCoordinator implements Coordinator {
  /** The command connection; the cluster bus publishes on it too. */
  readonly redis: Redis;

  constructor(
    readonly nodeId: string,
    connection: RedisConnection,
    private readonly log: Logger,
    private readonly staleAfterMs = 5000,
    private readonly prefix = 'plenum:',
    private readonly commandTimeoutMs = 2000,
  ) {
    const common: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 2000),
    };
    this.redis =
      connection.kind === 'url'
        ? new Redis(connection.url, common)
        : new Redis({ ...common, sentinels: connection.sentinels, name: connection.name, password: connection.password });
    this.redis.on('error', (error: Error) => log.warn({ err: error.message }, 'redis connection error'));
    this.redis.on('ready', () => log.info('redis ready'));
  }

  /** Resolves once connected (or rejects after the timeout). */
  async ready(timeoutMs = 5000): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new CoordinatorUnavailableError('redis did not become ready')), timeoutMs);
      this.redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async heartbeat(stats: Omit<NodeStats, 'nodeId' | 'updatedAt'>): Promise<void> {
    const value = JSON.stringify({ ...stats, nodeId: this.nodeId, updatedAt: Date.now() });
    await this.run(() => this.redis.multi().set(this.key('node', this.nodeId), value, 'PX', this.staleAfterMs).sadd(this.key('nodes'), this.nodeId).exec());
  }

  async liveNodes(): Promise<NodeStats[]> {
    const ids = await this.run(() => this.redis.smembers(this.key('nodes')));
    if (ids.length === 0) return [];
    const values = await this.run(() => this.redis.mget(ids.map((id) => this.key('node', id))));
    const live: NodeStats[] = [];
    const gone: string[] = [];
    values.forEach((v, i) => (v ? live.push(JSON.parse(v) as NodeStats) : gone.push(ids[i]!)));
    // Stats expired: the node is dead (or cut off); it leaves the set until it heartbeats again.
    if (gone.length > 0) await this.run(() => this.redis.srem(this.key('nodes'), ...gone));
    return live;
  }

  async acquireRoom(roomId: string, ttlMs: number): Promise<RoomLease | null> {
    const token = Number(await this.run(() => this.redis.eval(ACQUIRE, 3, this.key('lease', roomId), this.key('tokens', roomId), this.key('fence', roomId), this.nodeId, String(ttlMs))));
    return token > 0 ? { roomId, nodeId: this.nodeId, token } : null;
  }

  async renewRoom(lease: RoomLease, ttlMs: number): Promise<boolean> {
    return Number(await this.run(() => this.redis.eval(RENEW, 3, this.key('lease', lease.roomId), this.key('tokens', lease.roomId), this.key('fence', lease.roomId), String(lease.token), String(ttlMs), this.nodeId))) === 1;
  }

  async releaseRoom(lease: RoomLease): Promise<void> {
    await this.run(() => this.redis.eval(RELEASE, 1, this.key('lease', lease.roomId), String(lease.token)));
  }

  async roomOwner(roomId: string): Promise<RoomLease | null> {
    const h = await this.run(() => this.redis.hgetall(this.key('lease', roomId)));
    return h.node && h.token ? { roomId, nodeId: h.node, token: Number(h.token) } : null;
  }

  async writeRoomState(lease: RoomLease, key: string, value: string): Promise<boolean> {
    const ok = await this.run(() => this.redis.eval(FENCED_SET, 2, this.key('fence', lease.roomId), this.key('state', lease.roomId), String(lease.token), key, value));
    return Number(ok) === 1;
  }

  async readRoomState(roomId: string, key: string): Promise<string | null> {
    return this.run(() => this.redis.hget(this.key('state', roomId), key));
  }

  async claimJti(jti: string, expiresAtSeconds: number): Promise<boolean> {
    const ttl = Math.max(1000, expiresAtSeconds * 1000 - Date.now());
    return (await this.run(() => this.redis.set(this.key('jti', jti), this.nodeId, 'PX', ttl, 'NX'))) === 'OK';
  }

  async recordRemoval(roomId: string, personId: string, ttlMs: number): Promise<void> {
    await this.run(() => this.redis.set(this.removalKey(roomId, personId), '1', 'PX', Math.max(1000, ttlMs)));
  }

  async isRemoved(roomId: string, personId: string): Promise<boolean> {
    return (await this.run(() => this.redis.exists(this.removalKey(roomId, personId)))) === 1;
  }

  async clearRemoval(roomId: string, personId: string): Promise<void> {
    await this.run(() => this.redis.del(this.removalKey(roomId, personId)));
  }

  // Ids are free text: the person id is length-prefixed so no (room, person) pair can collide with another.
  private removalKey(roomId: string, personId: string): string {
    return this.key('removed', roomId, `${personId.length}.${personId}`);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  /**
   * The caller stops waiting after the timeout; the command itself may still reach Redis later, which every
   * script here tolerates (a late renewal or take only sets a lease that this node will find or let lapse).
   */
  private async run<T>(fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.commandTimeoutMs} ms`)), this.commandTimeoutMs);
    });
    try {
      return await Promise.race([fn(), timeout]);
    } catch (error) {
      throw new CoordinatorUnavailableError(`coordination store unavailable: ${(error as Error).message}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}

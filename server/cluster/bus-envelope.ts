import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ClusterKeys } from './cluster-keys.js';

/** Why a message from the bus was dropped (a metric label: keep the set small and fixed). */
export type DropReason = 'malformed' | 'unsigned' | 'bad-mac' | 'stale' | 'replayed';

const VERSION = 1;
const nodeId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/);
const wire = z
  .object({
    v: z.literal(VERSION),
    from: nodeId,
    ts: z.number().int().nonnegative(),
    nonce: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
    // The message itself, as the JSON text that was signed: no canonical re-serialization is needed.
    body: z.string().max(16 * 1024 * 1024),
    mac: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  })
  .strict();

export type Opened = { ok: true; from: string; body: unknown } | { ok: false; reason: DropReason };

/**
 * Nonces seen within the time window, so that a captured message cannot be played again. Bounded: past
 * `capacity` entries the oldest is forgotten and its timestamp becomes a floor under which every message
 * counts as replayed, so forgetting never reopens a replay (only honest messages fill it: the MAC is
 * checked first).
 */
export class NonceGuard {
  private readonly seen = new Map<string, number>();
  private floor = -Infinity;

  constructor(
    private readonly windowMs: number,
    private readonly capacity = 200_000,
  ) {}

  /** True the first time a nonce is offered within the window. */
  admit(nonce: string, ts: number, now: number): boolean {
    this.prune(now);
    if (ts <= this.floor || this.seen.has(nonce)) return false;
    this.seen.set(nonce, ts);
    while (this.seen.size > this.capacity) {
      const [oldest, oldestTs] = this.seen.entries().next().value as [string, number];
      this.seen.delete(oldest);
      this.floor = Math.max(this.floor, oldestTs);
    }
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  /** Nonces older than the window need no memory: their messages are refused as stale anyway. */
  private prune(now: number): void {
    for (const [nonce, ts] of this.seen) {
      if (ts >= now - this.windowMs) break;
      this.seen.delete(nonce);
    }
  }
}

/**
 * Signs and checks every message between nodes. The envelope `{v, from, ts, nonce, body, mac}` carries an
 * HMAC-SHA256 over the JSON array [label, v, channel, from, ts, nonce, body]: a message is bound to the
 * channel it was published on (a room's events cannot be replayed on another room's topic, a request
 * cannot be sent to another node), to its sender and to its time. Dropped: anything unsigned or signed
 * with another key, older or newer than the window, or seen before.
 */
export class BusEnvelopes {
  private readonly nonces: NonceGuard;

  constructor(
    readonly nodeId: string,
    private readonly keys: ClusterKeys,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.nonces = new NonceGuard(windowMs);
  }

  seal(channel: string, message: unknown): string {
    const ts = this.now();
    const nonce = randomBytes(16).toString('base64url');
    const body = JSON.stringify(message ?? null);
    const mac = this.keys.mac(signed(channel, this.nodeId, ts, nonce, body)).toString('base64url');
    return JSON.stringify({ v: VERSION, from: this.nodeId, ts, nonce, body, mac });
  }

  open(channel: string, raw: string): Opened {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    const parsed = wire.safeParse(json);
    if (!parsed.success) {
      const hasMac = typeof json === 'object' && json !== null && 'mac' in json;
      return { ok: false, reason: hasMac ? 'malformed' : 'unsigned' };
    }
    const e = parsed.data;
    if (!this.keys.verify(signed(channel, e.from, e.ts, e.nonce, e.body), Buffer.from(e.mac, 'base64url'))) return { ok: false, reason: 'bad-mac' };
    const now = this.now();
    if (Math.abs(now - e.ts) > this.windowMs) return { ok: false, reason: 'stale' };
    if (!this.nonces.admit(e.nonce, e.ts, now)) return { ok: false, reason: 'replayed' };
    try {
      return { ok: true, from: e.from, body: JSON.parse(e.body) as unknown };
    } catch {
      return { ok: false, reason: 'malformed' };
    }
  }
}

function signed(channel: string, from: string, ts: number, nonce: string, body: string): string {
  return JSON.stringify(['plenum-bus', VERSION, channel, from, ts, nonce, body]);
}

import { LRUCache } from 'lru-cache';
import type { Registration } from '../model.js';
import { queryKey, RegistryUnavailableError, type Registry, type RegistryQuery } from './registry.js';

export type OutagePolicy = { kind: 'fail-closed' } | { kind: 'grace'; graceMs: number };
/** Where an answer came from, for the audit trail. */
export type LookupSource = 'live' | 'cache' | 'grace';

export interface LookupResult {
  registration: Registration | null;
  source: LookupSource;
}

export interface CachingOptions {
  positiveTtlMs: number;
  negativeTtlMs: number;
  /** Upper bound on concurrent calls to the underlying registry. */
  maxConcurrency: number;
  /** Most answers kept (and as many last-approved answers for grace); the least recently used go first. */
  maxEntries?: number;
  outage: OutagePolicy;
  now?: () => number;
}

interface Entry {
  registration: Registration | null;
  fetchedAt: number;
}

/**
 * Puts a cache in front of any registry: positive and negative TTLs, one call per person however many
 * lookups arrive at once, a bound on concurrent calls, and the outage policy. Also the last approved answer
 * per person is kept for the grace policy. Both are bounded (LRU), so lookups of ever new keys cannot
 * grow memory without limit.
 */
export class CachingRegistry {
  private readonly entries: LRUCache<string, Entry>;
  private readonly lastApproved: LRUCache<string, Entry>;
  private readonly inFlight = new Map<string, Promise<Registration | null>>();
  /** People to forget, by event, applied in one pass before the next read (an import changes thousands at once). */
  private readonly pendingInvalidations = new Map<string, { personIds: Set<string>; emails: Set<string> }>();
  private readonly waiting: Array<() => void> = [];
  private active = 0;
  private readonly now: () => number;
  /** Calls made to the underlying registry, and the most that ran at once. */
  readonly stats = { calls: 0, peakConcurrent: 0 };

  constructor(
    readonly registry: Registry,
    private readonly options: CachingOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.entries = new LRUCache({ max: options.maxEntries ?? 10_000 });
    this.lastApproved = new LRUCache({ max: options.maxEntries ?? 10_000 });
  }

  /** Cached answers held now (at most `maxEntries`). */
  get size(): number {
    this.applyInvalidations();
    return this.entries.size;
  }

  /** `fresh` skips the cache (revalidation, webhooks) but still coalesces and still honours the outage policy. */
  async lookup(query: RegistryQuery, { fresh = false }: { fresh?: boolean } = {}): Promise<LookupResult> {
    this.applyInvalidations();
    const key = queryKey(query);
    const cached = this.entries.get(key);
    if (!fresh && cached) {
      const ttl = cached.registration ? this.options.positiveTtlMs : this.options.negativeTtlMs;
      if (this.now() - cached.fetchedAt < ttl) return { registration: cached.registration, source: 'cache' };
    }
    try {
      return { registration: await this.coalesced(key, query), source: 'live' };
    } catch (error) {
      if (!(error instanceof RegistryUnavailableError)) throw error;
      const outage = this.options.outage;
      const last = this.lastApproved.get(key);
      if (outage.kind === 'grace' && last && this.now() - last.fetchedAt <= outage.graceMs) {
        return { registration: last.registration, source: 'grace' };
      }
      throw error;
    }
  }

  /**
   * Forgets what is cached for one person of an event (after a webhook or an admin change). Recorded here
   * and applied, for everyone recorded, in one pass over the cache before the next read: a scan per person
   * would make a CSV import of n people cost n times the cache size, all on the event loop.
   */
  invalidate(eventId: string, match: { personId?: string; email?: string }): void {
    let pending = this.pendingInvalidations.get(eventId);
    if (!pending) this.pendingInvalidations.set(eventId, (pending = { personIds: new Set(), emails: new Set() }));
    if (match.personId !== undefined) pending.personIds.add(match.personId);
    if (match.email !== undefined) pending.emails.add(match.email.toLowerCase());
  }

  private applyInvalidations(): void {
    if (this.pendingInvalidations.size === 0) return;
    for (const map of [this.entries, this.lastApproved]) {
      const doomed: string[] = [];
      for (const [key, entry] of map.entries()) {
        const separator = key.indexOf('\u0000');
        const pending = this.pendingInvalidations.get(key.slice(0, separator));
        if (!pending) continue;
        const asked = key.slice(separator + 1);
        const r = entry.registration;
        const samePerson =
          (asked.startsWith('id:') && pending.personIds.has(asked.slice(3))) ||
          (asked.startsWith('email:') && pending.emails.has(asked.slice(6))) ||
          (r !== null && (pending.personIds.has(r.personId) || pending.emails.has(r.email)));
        if (samePerson) doomed.push(key);
      }
      for (const key of doomed) map.delete(key);
    }
    this.pendingInvalidations.clear();
  }

  private coalesced(key: string, query: RegistryQuery): Promise<Registration | null> {
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const call = this.bounded(() => this.registry.lookup(query))
      .then((registration) => {
        const entry = { registration, fetchedAt: this.now() };
        this.entries.set(key, entry);
        if (registration?.status === 'approved') this.lastApproved.set(key, entry);
        else this.lastApproved.delete(key);
        return registration;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, call);
    return call;
  }

  private async bounded<T>(fn: () => Promise<T>): Promise<T> {
    // A released slot passes straight to the next waiter, so no newcomer can slip in between.
    if (this.active < this.options.maxConcurrency) this.active += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.stats.calls += 1;
    this.stats.peakConcurrent = Math.max(this.stats.peakConcurrent, this.active);
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}

import { LRUCache } from 'lru-cache';
import { ConcurrencyLimit } from '../concurrency-limit.js';
import { TimeSlices } from '../time-slices.js';
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
  /** `invalidations` when the call that fetched it started: any later invalidation of its person makes it stale. */
  seq: number;
}

/** People forgotten, by event: person id or e-mail -> `invalidations` when it was recorded. */
type Pending = Map<string, { personIds: Map<string, number>; emails: Map<string, number> }>;

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
  /** People to forget, by event: checked by every read, and removed from the cache by a sweep in slices. */
  private pending: Pending = new Map();
  /** What the running sweep removes; still checked by reads until it is done. */
  private sweeping: Pending | undefined;
  private invalidations = 0;
  /** `invalidations` when the last sweep dropped its records: a fetch started before may be stale. */
  private sweptUpTo = 0;
  private sweepRun: Promise<void> | undefined;
  private readonly limit: ConcurrencyLimit;
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
    this.limit = new ConcurrencyLimit(options.maxConcurrency);
  }

  /** Cached answers held now (at most `maxEntries`; those of forgotten people until the sweep reaches them). */
  get size(): number {
    return this.entries.size;
  }

  /** `fresh` skips the cache (revalidation, webhooks) but still coalesces and still honours the outage policy. */
  async lookup(query: RegistryQuery, { fresh = false }: { fresh?: boolean } = {}): Promise<LookupResult> {
    const key = queryKey(query);
    const cached = this.entries.get(key);
    if (!fresh && cached && !this.forgotten(key, cached)) {
      const ttl = cached.registration ? this.options.positiveTtlMs : this.options.negativeTtlMs;
      if (this.now() - cached.fetchedAt < ttl) return { registration: cached.registration, source: 'cache' };
    }
    try {
      return { registration: await this.coalesced(key, query), source: 'live' };
    } catch (error) {
      if (!(error instanceof RegistryUnavailableError)) throw error;
      const outage = this.options.outage;
      const last = this.lastApproved.get(key);
      if (outage.kind === 'grace' && last && !this.forgotten(key, last) && this.now() - last.fetchedAt <= outage.graceMs) {
        return { registration: last.registration, source: 'grace' };
      }
      throw error;
    }
  }

  /**
   * Forgets what is cached for one person of an event (after a webhook or an admin change). Every read
   * checks what was forgotten (O(1)), and a sweep in slices removes the entries: a scan per person would make
   * a CSV import of n people cost n times the cache size, and even one pass over a full cache for 40,000
   * people holds the event loop too long.
   */
  invalidate(eventId: string, match: { personId?: string; email?: string }): void {
    let forEvent = this.pending.get(eventId);
    if (!forEvent) this.pending.set(eventId, (forEvent = { personIds: new Map(), emails: new Map() }));
    const seq = (this.invalidations += 1);
    if (match.personId !== undefined) forEvent.personIds.set(match.personId, seq);
    if (match.email !== undefined) forEvent.emails.set(match.email.toLowerCase(), seq);
    this.sweepRun ??= this.sweep().finally(() => (this.sweepRun = undefined));
  }

  /** Whether the entry was fetched before an invalidation of the person asked about or answered. */
  private forgotten(key: string, entry: Entry): boolean {
    const separator = key.indexOf('\u0000');
    const eventId = key.slice(0, separator);
    const asked = key.slice(separator + 1);
    const r = entry.registration;
    for (const pending of [this.pending, this.sweeping]) {
      const forEvent = pending?.get(eventId);
      if (!forEvent) continue;
      const after = (seq: number | undefined): boolean => seq !== undefined && seq > entry.seq;
      if (asked.startsWith('id:') && after(forEvent.personIds.get(asked.slice(3)))) return true;
      if (asked.startsWith('email:') && after(forEvent.emails.get(asked.slice(6)))) return true;
      if (r !== null && (after(forEvent.personIds.get(r.personId)) || after(forEvent.emails.get(r.email)))) return true;
    }
    return false;
  }

  /** Removes forgotten entries a slice at a time, until nothing more was forgotten meanwhile. */
  private async sweep(): Promise<void> {
    const slices = new TimeSlices();
    await slices.next(); // after the caller's turn: an import records thousands at once
    while (this.pending.size > 0) {
      this.sweeping = this.pending;
      this.pending = new Map();
      for (const map of [this.entries, this.lastApproved]) {
        await slices.forEach([...map.keys()], (key) => {
          const entry = map.peek(key);
          if (entry && this.forgotten(key, entry)) map.delete(key);
        });
      }
      this.sweptUpTo = this.invalidations;
    }
    this.sweeping = undefined;
  }

  private coalesced(key: string, query: RegistryQuery): Promise<Registration | null> {
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const seq = this.invalidations;
    const call = this.bounded(() => this.registry.lookup(query))
      .then((registration) => {
        const entry = { registration, fetchedAt: this.now(), seq };
        // An answer fetched before its person was forgotten is returned to those who asked, never kept
        // (nor one fetched before a sweep dropped its records, which might have been about it).
        if (seq < this.sweptUpTo || this.forgotten(key, entry)) return registration;
        this.entries.set(key, entry);
        if (registration?.status === 'approved') this.lastApproved.set(key, entry);
        else this.lastApproved.delete(key);
        return registration;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, call);
    return call;
  }

  private bounded<T>(fn: () => Promise<T>): Promise<T> {
    return this.limit.run(() => {
      this.stats.calls += 1;
      this.stats.peakConcurrent = Math.max(this.stats.peakConcurrent, this.limit.load.active);
      return fn();
    });
  }
}

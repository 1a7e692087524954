import { z } from 'zod';
import type { SessionRules } from '../../accreditation/model.js';
import type { SessionDirectory } from '../../accreditation/session-directory.js';
import type { RevocationMonitor } from '../accreditation/revocation-monitor.js';
import type { Logger } from '../logger.js';
import type { ClusterBus } from './cluster-bus.js';

const TOPIC = 'store-changes';

/** What a notice says: only which row changed. Receivers re-read the row; the database is the truth. */
const notice = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('session'), from: z.string().max(64), sessionId: z.string().min(1).max(64) }).strict(),
  z.object({ kind: z.literal('person'), from: z.string().max(64), eventId: z.string().min(1).max(128), personId: z.string().min(1).max(128) }).strict(),
]);
type Notice = z.infer<typeof notice>;

/**
 * Rows being re-read at once, at most. Past this, a flood of notices (thousands of people changed by an
 * import, or a misbehaving node) becomes one resynchronisation instead of a read per notice.
 */
const MAX_ROWS_REREAD = 64;

/** Rules whose change may change who is admitted or what they may publish (booths, captions, the floor). */
const PEOPLE_RULES = ['interpreters', 'captioners', 'speakerRoles', 'roles', 'entityTypes', 'languages', 'signLanguages'] as const;

/**
 * Changes made through any node reach every node. The writer commits to the database, then publishes a
 * notice naming the changed row on the signed cluster bus; every node re-reads that row and applies it:
 * the session directory's copy (whose `changed` drives the room here: ConductService for the lifecycle,
 * the revocation monitor for booths and admission), or the person's registry answer and their presence.
 *
 * Redis pub/sub rather than PostgreSQL LISTEN/NOTIFY: it is the one channel every cross-node message already
 * takes, signed and replay-guarded; LISTEN needs a dedicated session, which transaction-pooling proxies
 * (PgBouncer) do not keep; and the embedded engine is a single node with no one to notify. Delivery is at
 * most once, so a node that may have missed notices (the bus resubscribed after a Redis outage, or simply
 * every PLENUM_RESYNC_INTERVAL_MS) re-reads every session and re-checks everyone in its rooms.
 */
export class StoreChanges {
  private unsubscribe: (() => Promise<void>) | undefined;
  private subscribed: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /**
   * Sessions being re-read because of another node's notice ('*': all of them, a resync): their `changed` is
   * not announced again. A write here to the same session in that instant goes unannounced; the others'
   * next resync picks it up.
   */
  private readonly rereading = new Map<string, number>();
  private resyncing: Promise<void> | undefined;
  /** A resynchronisation asked for while one runs: it may have read before the change, so one more follows. */
  private resyncAgain: string | undefined;
  /**
   * Rows being re-read because of a notice, by row: more notices for a row under way only ask for one more
   * read after it (`again`), so a flood of one row costs two reads, not one per notice.
   */
  private readonly applying = new Map<string, { again: boolean }>();
  private readonly onResubscribed = (): void => void this.resync('bus resubscribed');

  constructor(
    private readonly bus: ClusterBus,
    private readonly sessions: SessionDirectory,
    private readonly revocation: RevocationMonitor,
    private readonly resyncIntervalMs: number,
    private readonly log: Logger,
  ) {}

  /** Does not wait for the bus: a node starting while Redis is away resynchronises once subscribed. */
  start(): void {
    this.sessions.on('changed', (rules, previous) => this.sessionChanged(rules, previous));
    this.revocation.announce = (eventId, personId) => this.announce({ kind: 'person', from: this.bus.nodeId, eventId, personId });
    this.subscribed = this.bus
      .subscribe(TOPIC, (message) => this.received(message))
      .then((unsubscribe) => {
        this.unsubscribe = unsubscribe;
        // Whatever changed between this node's load of the directory and its subscription.
        void this.resync('subscribed');
      })
      .catch((error: unknown) => this.log.warn({ err: (error as Error).message }, 'change notices not subscribed; resynchronising periodically'));
    this.bus.on('resubscribed', this.onResubscribed);
    this.timer = setInterval(() => void this.resync('periodic'), this.resyncIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined; // and no follow-up resynchronisation
    this.bus.off('resubscribed', this.onResubscribed);
    this.revocation.announce = undefined;
    await Promise.race([this.subscribed, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    await this.unsubscribe?.().catch(() => undefined);
    await this.resyncing;
  }

  /** Re-reads every session and re-checks everyone present here: what a missed notice would have said. */
  resync(why: string): Promise<void> {
    if (this.resyncing) {
      this.resyncAgain = why;
      return this.resyncing;
    }
    this.resyncing = (async () => {
      this.log.debug({ why }, 'resynchronising from the database');
      this.rereading.set('*', 1);
      try {
        await this.sessions.reloadAll();
      } finally {
        this.rereading.delete('*');
      }
      await this.revocation.checkAll();
    })()
      .catch((error: unknown) => this.log.warn({ err: (error as Error).message, why }, 'resynchronisation failed; next at the next interval'))
      .finally(() => {
        this.resyncing = undefined;
        const again = this.resyncAgain;
        this.resyncAgain = undefined;
        if (again !== undefined && this.timer !== undefined) void this.resync(again);
      });
    return this.resyncing;
  }

  /** The directory's copy changed: written here (announced), or re-read here (already announced). */
  private sessionChanged(rules: SessionRules, previous: SessionRules | undefined): void {
    if (!this.rereading.has(rules.sessionId) && !this.rereading.has('*')) this.announce({ kind: 'session', from: this.bus.nodeId, sessionId: rules.sessionId });
    if (previous && PEOPLE_RULES.some((k) => JSON.stringify(rules[k]) !== JSON.stringify(previous[k]))) {
      this.revocation.sessionChanged(rules.sessionId).catch((error: unknown) => this.log.error({ err: error, sessionId: rules.sessionId }, 'room not re-checked after a rules change'));
    }
  }

  private announce(message: Notice): void {
    // Committed already: a notice lost here is repaired by the next resynchronisation.
    this.bus.publish(TOPIC, message).catch((error: unknown) => this.log.warn({ err: (error as Error).message, kind: message.kind }, 'change notice not sent'));
  }

  /** A notice only ever causes a re-read from the database, coalesced per row and bounded in number. */
  private received(raw: unknown): void {
    const parsed = notice.safeParse(raw);
    if (!parsed.success) return void this.log.warn('malformed change notice dropped');
    const m = parsed.data;
    if (m.from === this.bus.nodeId) return;
    const row = m.kind === 'session' ? `session\u0000${m.sessionId}` : `person\u0000${m.eventId}\u0000${m.personId}`;
    const underway = this.applying.get(row);
    if (underway) {
      underway.again = true;
      return;
    }
    if (this.applying.size >= MAX_ROWS_REREAD) return void this.resync('too many change notices at once');
    const state = { again: false };
    this.applying.set(row, state);
    void (async () => {
      try {
        do {
          state.again = false;
          await this.apply(m);
        } while (state.again);
      } finally {
        this.applying.delete(row);
      }
    })();
  }

  private async apply(m: Notice): Promise<void> {
    try {
      if (m.kind === 'person') {
        await this.revocation.personChanged(m.eventId, m.personId, 'registry-change', true);
        return;
      }
      this.rereading.set(m.sessionId, (this.rereading.get(m.sessionId) ?? 0) + 1);
      try {
        await this.sessions.reload(m.sessionId);
      } finally {
        const n = (this.rereading.get(m.sessionId) ?? 1) - 1;
        if (n > 0) this.rereading.set(m.sessionId, n);
        else this.rereading.delete(m.sessionId);
      }
    } catch (error) {
      this.log.warn({ err: (error as Error).message, notice: m }, 'change notice not applied; the next resynchronisation will');
    }
  }
}

import { randomUUID } from 'node:crypto';
import { retryTransient } from '../../store/transient.js';
import { sql } from 'kysely';
import { Gauge, type Registry } from 'prom-client';
import { signWebhook } from '../../accreditation/webhook-signature.js';
import type { Db } from '../../store/open-store.js';
import type { Row } from '../../store/schema.js';
import type { Logger } from '../logger.js';

export type ConductEventType =
  | 'session.opened'
  | 'session.suspended'
  | 'session.closed'
  | 'participant.joined'
  | 'participant.left'
  | 'floor.given'
  | 'floor.taken'
  | 'vote.opened'
  | 'vote.closed';

export interface WebhookOptions {
  url: string;
  secret: string;
  /** Attempts per event, the first included. */
  attempts: number;
  /** First backoff; doubles per retry. */
  backoffMs: number;
  timeoutMs: number;
  /** How often every node looks for due deliveries (an insert on this node wakes it at once). */
  pollMs: number;
  /** Delivered and given-up rows are deleted this long after (kept meanwhile for inspection). */
  retentionMs: number;
  /** How long queuing an event rides out a database outage before it is given up (logged). */
  queueRetryMs: number;
}

/** How often a node deletes rows past their retention (any node may; the delete is idempotent). */
const PRUNE_EVERY_MS = 10 * 60_000;

/** Rows claimed per pass. */
const BATCH = 20;
/**
 * Largest event body queued, in bytes. Meeting events are small (ids, a name, an entity); anything larger is a
 * bug or an abuse, and would be stored, claimed and posted again on every retry.
 */
export const MAX_WEBHOOK_BODY_BYTES = 64 * 1024;

/** Milliseconds from the database's clock: every node schedules and claims on the same clock. */
const fromNow = (ms: number) => sql<Date>`now() + ${Math.max(0, Math.round(ms))} * interval '1 millisecond'`;

/**
 * Outgoing meeting events, signed like inbound webhooks (`X-Plenum-Signature: t=…,v1=HMAC-SHA256(t.body)`),
 * each with an id receivers de-duplicate on. `send` commits the event to the `webhook_outbox` table; every
 * node runs a delivery loop that claims due rows (a claim expires, so a node that dies mid-delivery loses
 * nothing), posts them, and marks them delivered or schedules a retry with exponential backoff. Whichever
 * node is up delivers; a restart loses nothing. Delivery is at least once.
 */
export class WebhookOutbox {
  private readonly inserts = new Set<Promise<void>>();
  private readonly aborts = new Set<AbortController>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private wakeAgain = false;
  private stopped = true;

  constructor(
    private readonly db: Db,
    private readonly nodeId: string,
    private readonly options: WebhookOptions,
    private readonly log: Logger,
  ) {}

  send(type: ConductEventType, data: Record<string, unknown>): void {
    const id = randomUUID();
    const body = JSON.stringify({ id, type, at: new Date().toISOString(), data });
    if (Buffer.byteLength(body) > MAX_WEBHOOK_BODY_BYTES) {
      this.log.error({ type, bytes: Buffer.byteLength(body) }, 'webhook not queued: its body is too large');
      return;
    }
    const insert = retryTransient(() => this.db.insertInto('webhook_outbox').values({ delivery_id: id, type, body }).execute(), { deadlineMs: this.options.queueRetryMs })
      .then(() => this.wake())
      .catch((error: unknown) => this.log.error({ err: error, type }, 'webhook not queued'))
      .finally(() => this.inserts.delete(insert));
    this.inserts.add(insert);
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Waits for events being queued (shutdown, tests); their delivery goes on in the loop. */
  async drain(): Promise<void> {
    await Promise.all([...this.inserts]);
  }

  /** Stops the loop; deliveries under way are abandoned and their claims released for any node to take. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.drain();
    for (const abort of this.aborts) abort.abort();
    await this.running;
    await this.db
      .updateTable('webhook_outbox')
      .set({ claimed_by: null, claimed_until: null })
      .where('claimed_by', '=', this.nodeId)
      .where('delivered_at', 'is', null)
      .where('failed_at', 'is', null)
      .execute()
      .catch((error: unknown) => this.log.warn({ err: error }, 'webhook claims not released; they expire'));
  }

  /** Events not yet delivered nor given up (the metric). */
  async depth(): Promise<number> {
    const row = await this.db
      .selectFrom('webhook_outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('delivered_at', 'is', null)
      .where('failed_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** plenum_webhook_outbox_depth, read from the database at scrape time (shared by every node). */
  watch(registry: Registry): void {
    const depth = (): Promise<number> => this.depth();
    const log = this.log;
    new Gauge({
      name: 'plenum_webhook_outbox_depth',
      help: 'Outgoing webhooks neither delivered nor given up, all nodes together',
      registers: [registry],
      async collect() {
        // The database away: the last value stays rather than failing the scrape.
        try {
          this.set(await depth());
        } catch (error) {
          log.debug({ err: error }, 'outbox depth not read');
        }
      },
    });
  }

  private lastPrune = 0;

  /** Rows delivered or given up longer ago than the retention go, so the table stays the size of its backlog. */
  private async prune(): Promise<void> {
    if (Date.now() - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = Date.now();
    const before = sql<Date>`now() - ${Math.round(this.options.retentionMs)} * interval '1 millisecond'`;
    const result = await this.db
      .deleteFrom('webhook_outbox')
      .where((w) => w.or([w('delivered_at', '<', before), w('failed_at', '<', before)]))
      .executeTakeFirst();
    if (result.numDeletedRows > 0n) this.log.info({ deleted: Number(result.numDeletedRows) }, 'webhook outbox: old rows deleted');
  }

  /** Runs a pass now, or right after the one under way. */
  private wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wakeAgain = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.loop().finally(() => {
      this.running = undefined;
      if (this.stopped) return;
      this.timer = setTimeout(() => this.wake(), this.options.pollMs);
      this.timer.unref();
    });
  }

  private async loop(): Promise<void> {
    try {
      await this.prune();
      for (;;) {
        this.wakeAgain = false;
        const claimed = await this.claim();
        // One at a time, oldest first: receivers see a meeting's events in the order they happened (a retry
        // after a failure may still arrive after later events; each carries its time and id).
        for (const row of claimed.sort((x, y) => x.id - y.id)) await this.deliver(row);
        if (this.stopped || (claimed.length < BATCH && !this.wakeAgain)) return;
      }
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'webhook outbox pass failed; retrying at the next poll');
    }
  }

  /**
   * Takes due rows for this node until the claim expires. SKIP LOCKED: nodes claiming at once take
   * different rows; the claim's expiry covers a node that dies with rows claimed.
   */
  private claim(): Promise<Array<Row<'webhook_outbox'>>> {
    return this.db
      .updateTable('webhook_outbox')
      .set({ claimed_by: this.nodeId, claimed_until: fromNow(this.options.timeoutMs * 2 + 1000) })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('webhook_outbox')
          .select('id')
          .where('delivered_at', 'is', null)
          .where('failed_at', 'is', null)
          .where('next_attempt_at', '<=', sql<Date>`now()`)
          .where((w) => w.or([w('claimed_until', 'is', null), w('claimed_until', '<', sql<Date>`now()`)]))
          .orderBy('id')
          .limit(BATCH)
          .forUpdate()
          .skipLocked(),
      )
      .returningAll()
      .execute();
  }

  private async deliver(row: Row<'webhook_outbox'>): Promise<void> {
    const attempt = row.attempts + 1;
    const abort = new AbortController();
    this.aborts.add(abort);
    let error: string;
    try {
      const res = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-plenum-signature': signWebhook(this.options.secret, row.body) },
        body: row.body,
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
      await res.body?.cancel();
      if (res.ok) {
        await this.db.updateTable('webhook_outbox').set({ delivered_at: sql<Date>`now()`, attempts: attempt, claimed_until: null, last_error: null }).where('id', '=', row.id).execute();
        return;
      }
      error = `HTTP ${res.status}`;
    } catch (e) {
      error = (e as Error).message;
    } finally {
      this.aborts.delete(abort);
    }
    // Shutting down: not an attempt; the released claim lets any node try again.
    if (abort.signal.aborted) return;
    const last = attempt >= this.options.attempts;
    this.log.warn({ type: row.type, deliveryId: row.delivery_id, attempt, err: error }, 'webhook not delivered');
    await this.db
      .updateTable('webhook_outbox')
      .set({
        attempts: attempt,
        last_error: error.slice(0, 500),
        claimed_by: null,
        claimed_until: null,
        ...(last ? { failed_at: sql<Date>`now()` } : { next_attempt_at: fromNow(this.options.backoffMs * 2 ** (attempt - 1)) }),
      })
      .where('id', '=', row.id)
      .where('delivered_at', 'is', null)
      .where('claimed_by', '=', this.nodeId)
      .execute();
    if (last) this.log.error({ type: row.type, deliveryId: row.delivery_id, attempts: attempt, err: error }, 'webhook given up');
  }
}

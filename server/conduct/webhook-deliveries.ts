import { sql } from 'kysely';
import type { Db } from '../../store/open-store.js';

/** Where an outgoing webhook stands: queued, failed at least once and due again, delivered, or given up. */
export const DELIVERY_STATES = ['pending', 'retrying', 'delivered', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** One outbox row as the secretariat sees it: never its body's secret-bearing parts nor its signature. */
export interface WebhookDeliveryView {
  deliveryId: string;
  type: string;
  sessionId: string;
  state: DeliveryState;
  attempts: number;
  createdAt: string;
  /** When the next attempt is due (pending and retrying only). */
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  failedAt: string | null;
  /** The last failure as a code: HTTP_<status>, TIMEOUT or NETWORK (the raw text may name hosts; it stays in the log). */
  lastError: string | null;
}

export interface DeliveriesQuery {
  /** The sessions whose events may be shown (one event's): nothing of another event is ever read. */
  sessionIds: string[];
  state?: DeliveryState;
  limit: number;
  /** Rows older than this row id (a page's nextCursor). */
  before?: number;
}

export interface DeliveriesPage {
  counts: Record<DeliveryState, number>;
  deliveries: WebhookDeliveryView[];
  nextCursor: number | null;
}

// The session an event belongs to is inside its JSON body (every conduct event carries data.sessionId).
// The outbox is pruned after its retention, so the cast runs over a table the size of a week's events.
const sessionOfRow = sql<string>`(body::jsonb #>> '{data,sessionId}')`;
const stateOfRow = sql<DeliveryState>`case when delivered_at is not null then 'delivered' when failed_at is not null then 'failed' when attempts > 0 then 'retrying' else 'pending' end`;

/** The outbox's last failure text as a stable code. */
export function errorCode(text: string | null): string | null {
  if (text === null) return null;
  const http = /^HTTP (\d{3})$/.exec(text);
  if (http) return `HTTP_${http[1]}`;
  return /timeout|aborted/i.test(text) ? 'TIMEOUT' : 'NETWORK';
}

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

/** Read-only view of the webhook outbox (server/conduct/webhook-outbox.ts), one event's sessions at a time. */
export class WebhookDeliveries {
  constructor(private readonly db: Db) {}

  async page(q: DeliveriesQuery): Promise<DeliveriesPage> {
    const counts: Record<DeliveryState, number> = { pending: 0, retrying: 0, delivered: 0, failed: 0 };
    if (q.sessionIds.length === 0) return { counts, deliveries: [], nextCursor: null };
    const grouped = await this.db
      .selectFrom('webhook_outbox')
      .select([stateOfRow.as('state'), (eb) => eb.fn.countAll<string>().as('n')])
      .where(sessionOfRow, 'in', q.sessionIds)
      .groupBy(stateOfRow)
      .execute();
    for (const row of grouped) counts[row.state] = Number(row.n);
    let query = this.db
      .selectFrom('webhook_outbox')
      .select(['id', 'delivery_id', 'type', 'attempts', 'created_at', 'next_attempt_at', 'delivered_at', 'failed_at', 'last_error', sessionOfRow.as('session_id'), stateOfRow.as('state')])
      .where(sessionOfRow, 'in', q.sessionIds)
      .orderBy('id', 'desc')
      .limit(q.limit + 1);
    if (q.state) query = query.where(stateOfRow, '=', q.state);
    if (q.before !== undefined) query = query.where('id', '<', q.before);
    const rows = await query.execute();
    const more = rows.length > q.limit;
    const shown = rows.slice(0, q.limit);
    return {
      counts,
      deliveries: shown.map((r) => ({
        deliveryId: r.delivery_id,
        type: r.type,
        sessionId: r.session_id,
        state: r.state,
        attempts: r.attempts,
        createdAt: iso(r.created_at as Date)!,
        nextAttemptAt: r.state === 'pending' || r.state === 'retrying' ? iso(r.next_attempt_at) : null,
        deliveredAt: iso(r.delivered_at),
        failedAt: iso(r.failed_at),
        lastError: errorCode(r.last_error),
      })),
      nextCursor: more ? Number(shown.at(-1)!.id) : null,
    };
  }
}

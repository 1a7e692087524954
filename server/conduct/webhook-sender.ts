import { randomUUID } from 'node:crypto';
import { signWebhook } from '../../accreditation/webhook-signature.js';
import type { Logger } from '../logger.js';

export type ConductEventType = 'session.opened' | 'session.suspended' | 'session.closed' | 'participant.joined' | 'participant.left' | 'floor.given' | 'floor.taken';

export interface WebhookOptions {
  url: string;
  secret: string;
  /** Attempts per event, the first included. */
  attempts: number;
  /** First backoff; doubles per retry. */
  backoffMs: number;
  timeoutMs: number;
}

/**
 * Sends meeting events to the organisation's URL, signed like inbound webhooks (`X-Plenum-Signature:
 * t=…,v1=HMAC-SHA256(t.body)`), each with an id for de-duplication, retried with backoff. Delivery is
 * at least once while the process lives; pending deliveries are not persisted across a restart.
 */
export class WebhookSender {
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly options: WebhookOptions,
    private readonly log: Logger,
  ) {}

  send(type: ConductEventType, data: Record<string, unknown>): void {
    const body = JSON.stringify({ id: randomUUID(), type, at: new Date().toISOString(), data });
    const delivery = this.deliver(type, body).finally(() => this.inFlight.delete(delivery));
    this.inFlight.add(delivery);
  }

  /** Waits for deliveries under way (shutdown, tests). */
  async drain(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  private async deliver(type: string, body: string): Promise<void> {
    for (let attempt = 1; attempt <= this.options.attempts; attempt++) {
      try {
        const res = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-plenum-signature': signWebhook(this.options.secret, body) },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        if (res.ok) return;
        this.log.warn({ type, status: res.status, attempt }, 'webhook refused');
      } catch (error) {
        this.log.warn({ type, attempt, err: (error as Error).message }, 'webhook failed');
      }
      if (attempt < this.options.attempts) await new Promise((r) => setTimeout(r, this.options.backoffMs * 2 ** (attempt - 1)));
    }
    this.log.error({ type }, 'webhook given up');
  }
}

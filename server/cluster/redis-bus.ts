import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import { answer, PendingReplies, type ClusterBus, type RequestHandler } from './cluster-bus.js';
import { CoordinatorUnavailableError } from './coordinator.js';

const requestEnvelope = z.object({ kind: z.literal('request'), id: z.string().max(100), from: z.string().max(64), method: z.string().max(64), params: z.unknown() });
const replyEnvelope = z.object({
  kind: z.literal('reply'),
  id: z.string().max(100),
  outcome: z.union([z.object({ ok: z.literal(true), result: z.unknown() }), z.object({ ok: z.literal(false), code: z.string(), message: z.string() })]),
});
const envelope = z.discriminatedUnion('kind', [requestEnvelope, replyEnvelope]);

/**
 * The cluster bus on Redis pub/sub: one connection publishes (shared with the coordinator), a second one
 * subscribes, as Redis requires. Each node listens on its own inbox channel for requests and replies.
 * After Redis comes back, ioredis restores the subscriptions and the bus says `resubscribed`, so that
 * followers of a topic fetch what they missed.
 */
export class RedisBus extends EventEmitter<{ resubscribed: [] }> implements ClusterBus {
  private readonly subscriber: Redis;
  private readonly topicHandlers = new Map<string, Set<(message: unknown) => void>>();
  private readonly pending = new PendingReplies();
  private handler: RequestHandler | undefined;
  private readonly started: Promise<unknown>;
  private wasReady = false;

  constructor(
    readonly nodeId: string,
    private readonly publisher: Redis,
    private readonly log: Logger,
    private readonly prefix = 'plenum:',
  ) {
    super();
    // A dedicated connection: a subscribed connection can issue no other command. It queues while
    // disconnected (unlike the coordinator's) so that subscriptions survive an outage.
    this.subscriber = publisher.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.subscriber.on('error', (error: Error) => log.debug({ err: error.message }, 'bus subscriber error'));
    this.subscriber.on('ready', () => {
      if (this.wasReady) this.emit('resubscribed');
      this.wasReady = true;
    });
    this.subscriber.on('message', (channel: string, message: string) => this.deliver(channel, message));
    this.started = this.subscriber.subscribe(this.inbox(nodeId)).catch((error: Error) => log.warn({ err: error.message }, 'bus inbox subscription failed'));
  }

  async publish(topic: string, message: unknown): Promise<void> {
    await this.send(this.topic(topic), JSON.stringify(message));
  }

  async subscribe(topic: string, handler: (message: unknown) => void): Promise<() => Promise<void>> {
    const channel = this.topic(topic);
    let handlers = this.topicHandlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.topicHandlers.set(channel, handlers);
      await this.subscriber.subscribe(channel);
    }
    handlers.add(handler);
    return async () => {
      handlers.delete(handler);
      if (handlers.size > 0 || this.topicHandlers.get(channel) !== handlers) return;
      this.topicHandlers.delete(channel);
      await this.subscriber.unsubscribe(channel).catch(() => undefined);
    };
  }

  async request<T>(nodeId: string, method: string, params: unknown, timeoutMs = 3000): Promise<T> {
    await this.started;
    const { id, reply } = this.pending.open(nodeId, method, timeoutMs);
    reply.catch(() => undefined); // settled below or by the caller's await, never left unhandled
    let receivers: number;
    try {
      receivers = await this.send(this.inbox(nodeId), JSON.stringify({ kind: 'request', id, from: this.nodeId, method, params }));
    } catch (error) {
      this.pending.settle(id, { ok: false, code: 'UNAVAILABLE', message: (error as Error).message });
      throw error;
    }
    // Nobody listens on that inbox: the node is gone; say so now rather than at the deadline.
    if (receivers === 0) this.pending.settle(id, { ok: false, code: 'UNAVAILABLE', message: `node ${nodeId} is not on the bus` });
    return (await reply) as T;
  }

  serve(handler: RequestHandler): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    this.pending.failAll(new CoordinatorUnavailableError('the bus has closed'));
    this.subscriber.disconnect();
  }

  private deliver(channel: string, raw: string): void {
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      this.log.warn({ channel }, 'bus message is not JSON; dropped');
      return;
    }
    if (channel !== this.inbox(this.nodeId)) {
      for (const handler of this.topicHandlers.get(channel) ?? []) handler(message);
      return;
    }
    const parsed = envelope.safeParse(message);
    if (!parsed.success) {
      this.log.warn({ channel }, 'malformed bus envelope; dropped');
      return;
    }
    const m = parsed.data;
    if (m.kind === 'reply') return this.pending.settle(m.id, m.outcome as Parameters<PendingReplies['settle']>[1]);
    void answer(this.handler, m.method, m.params, m.from).then((outcome) =>
      this.send(this.inbox(m.from), JSON.stringify({ kind: 'reply', id: m.id, outcome })).catch((error: Error) =>
        this.log.warn({ err: error.message, method: m.method }, 'bus reply not sent'),
      ),
    );
  }

  private async send(channel: string, payload: string): Promise<number> {
    try {
      return await this.publisher.publish(channel, payload);
    } catch (error) {
      throw new CoordinatorUnavailableError(`bus unavailable: ${(error as Error).message}`, { cause: error });
    }
  }

  private inbox(nodeId: string): string {
    return `${this.prefix}inbox:${nodeId}`;
  }

  private topic(topic: string): string {
    return `${this.prefix}topic:${topic}`;
  }
}

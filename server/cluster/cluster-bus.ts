import { EventEmitter } from 'node:events';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import type { BusEnvelopes, DropReason } from './bus-envelope.js';
import { CoordinatorUnavailableError } from './coordinator.js';

/** `fromNodeId` is the sender named in the signed envelope. */
export type RequestHandler = (method: string, params: unknown, fromNodeId: string) => Promise<unknown>;

/** A remote handler's refusal, carried back to the caller with its stable code. */
export class BusRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BusRequestError';
  }
}

export type BusEvents = { resubscribed: []; dropped: [reason: DropReason, channel: string] };

/**
 * Messages between nodes: topics that any node may follow (a room's events, from its owner to its edges),
 * and requests addressed to one node. One node uses the in-process implementation; a cluster uses Redis
 * pub/sub. Delivery is at most once: after `resubscribed`, followers ask for a fresh snapshot. Every
 * message is signed by its sender and checked by its receiver (`BusEnvelopes`); a message that fails the
 * check is dropped and said with `dropped`.
 */
export interface ClusterBus extends EventEmitter<BusEvents> {
  readonly nodeId: string;
  publish(topic: string, message: unknown): Promise<void>;
  /** Resolves once the subscription is active; the returned function ends it. */
  subscribe(topic: string, handler: (message: unknown) => void): Promise<() => Promise<void>>;
  /** Rejects with BusRequestError when the remote handler refuses, CoordinatorUnavailableError on timeout. */
  request<T = unknown>(nodeId: string, method: string, params: unknown, timeoutMs?: number): Promise<T>;
  /**
   * Serves requests addressed to this node: one handler per method prefix (`room.` for `room.addSpeaker`),
   * the longest matching prefix wins; '' (the default) takes the rest.
   */
  serve(handler: RequestHandler, methodPrefix?: string): void;
  close(): Promise<void>;
}

type Outcome = { ok: true; result: unknown } | { ok: false; code: string; message: string };

/** Requests waiting for their reply, by id, each with its own deadline and the node that must answer. */
export class PendingReplies {
  private readonly waiting = new Map<string, { nodeId: string; resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private next = 0;

  open(nodeId: string, method: string, timeoutMs: number): { id: string; reply: Promise<unknown> } {
    const id = `${process.pid}-${++this.next}-${Math.random().toString(36).slice(2, 8)}`;
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new CoordinatorUnavailableError(`node ${nodeId} did not answer ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { nodeId, resolve, reject, timer });
    });
    return { id, reply };
  }

  /** Settles a request; a reply signed by another node than the one asked is ignored (`from`). */
  settle(id: string, outcome: Outcome, from?: string): void {
    const w = this.waiting.get(id);
    if (!w || (from !== undefined && from !== w.nodeId)) return;
    this.waiting.delete(id);
    clearTimeout(w.timer);
    if (outcome.ok) w.resolve(outcome.result);
    else w.reject(new BusRequestError(outcome.code, outcome.message));
  }

  failAll(error: Error): void {
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(error);
      this.waiting.delete(id);
    }
  }
}

/** Runs a request handler and turns its outcome into a reply; internal errors keep their detail local. */
export async function answer(handler: RequestHandler | undefined, method: string, params: unknown, from: string): Promise<Outcome> {
  if (!handler) return { ok: false, code: 'UNAVAILABLE', message: 'this node serves no requests' };
  try {
    return { ok: true, result: (await handler(method, params, from)) ?? null };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { ok: false, code: typeof code === 'string' ? code : 'INTERNAL', message: typeof code === 'string' ? (error as Error).message : 'internal error' };
  }
}

// What travels in a node's inbox, inside the signed envelope.
const inboxMessage = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('request'), id: z.string().max(100), method: z.string().max(64), params: z.unknown() }).strict(),
  z
    .object({
      kind: z.literal('reply'),
      id: z.string().max(100),
      outcome: z.union([
        z.object({ ok: z.literal(true), result: z.unknown() }).strict(),
        z.object({ ok: z.literal(false), code: z.string().max(64), message: z.string().max(1000) }).strict(),
      ]),
    })
    .strict(),
]);

/**
 * Everything a bus does above its transport, shared by the in-process and the Redis bus so that both take
 * the same path through signing and checking: topics fan out to their handlers, each node's inbox carries
 * requests and replies. A transport moves strings on channels and calls `deliver` with what arrives.
 */
export abstract class SignedBus extends EventEmitter<BusEvents> implements ClusterBus {
  private readonly topicHandlers = new Map<string, Set<(message: unknown) => void>>();
  private readonly pending = new PendingReplies();
  private readonly handlers = new Map<string, RequestHandler>();
  /** Resolves once this node's inbox is listened to. */
  protected started: Promise<unknown> = Promise.resolve();

  constructor(
    readonly nodeId: string,
    private readonly envelopes: BusEnvelopes,
    protected readonly log: Logger,
    private readonly prefix: string,
  ) {
    super();
  }

  /** Sends a string on a channel; resolves with how many listeners received it. */
  protected abstract transmit(channel: string, payload: string): Promise<number>;
  protected abstract listen(channel: string): Promise<void>;
  protected abstract unlisten(channel: string): Promise<void>;

  async publish(topic: string, message: unknown): Promise<void> {
    const channel = this.topic(topic);
    await this.transmit(channel, this.envelopes.seal(channel, message));
  }

  async subscribe(topic: string, handler: (message: unknown) => void): Promise<() => Promise<void>> {
    const channel = this.topic(topic);
    let handlers = this.topicHandlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.topicHandlers.set(channel, handlers);
      await this.listen(channel);
    }
    handlers.add(handler);
    return async () => {
      handlers.delete(handler);
      if (handlers.size > 0 || this.topicHandlers.get(channel) !== handlers) return;
      this.topicHandlers.delete(channel);
      await this.unlisten(channel).catch(() => undefined);
    };
  }

  async request<T>(nodeId: string, method: string, params: unknown, timeoutMs = 3000): Promise<T> {
    await this.started;
    const { id, reply } = this.pending.open(nodeId, method, timeoutMs);
    reply.catch(() => undefined); // settled below or by the caller's await, never left unhandled
    const channel = this.inbox(nodeId);
    let receivers: number;
    try {
      receivers = await this.transmit(channel, this.envelopes.seal(channel, { kind: 'request', id, method, params: params ?? null }));
    } catch (error) {
      this.pending.settle(id, { ok: false, code: 'UNAVAILABLE', message: (error as Error).message });
      throw error;
    }
    // Nobody listens on that inbox: the node is gone; say so now rather than at the deadline.
    if (receivers === 0) this.pending.settle(id, { ok: false, code: 'UNAVAILABLE', message: `node ${nodeId} is not on the bus` });
    return (await reply) as T;
  }

  serve(handler: RequestHandler, methodPrefix = ''): void {
    this.handlers.set(methodPrefix, handler);
  }

  async close(): Promise<void> {
    this.pending.failAll(new CoordinatorUnavailableError('the bus has closed'));
  }

  /** What the transport received on a channel: checked, then handed to the topic's handlers or the inbox. */
  protected deliver(channel: string, raw: string): void {
    const opened = this.envelopes.open(channel, raw);
    if (!opened.ok) return this.drop(opened.reason, channel);
    if (channel !== this.inbox(this.nodeId)) {
      for (const handler of this.topicHandlers.get(channel) ?? []) handler(opened.body);
      return;
    }
    const parsed = inboxMessage.safeParse(opened.body);
    if (!parsed.success) return this.drop('malformed', channel);
    const m = parsed.data;
    const from = opened.from;
    if (m.kind === 'reply') return this.pending.settle(m.id, m.outcome as Outcome, from);
    void answer(this.handlerFor(m.method), m.method, m.params, from).then((outcome) => {
      const replyTo = this.inbox(from);
      this.transmit(replyTo, this.envelopes.seal(replyTo, { kind: 'reply', id: m.id, outcome })).catch((error: Error) =>
        this.log.warn({ err: error.message, method: m.method }, 'bus reply not sent'),
      );
    });
  }

  private handlerFor(method: string): RequestHandler | undefined {
    let best: string | undefined;
    for (const prefix of this.handlers.keys()) if (method.startsWith(prefix) && (best === undefined || prefix.length > best.length)) best = prefix;
    return best === undefined ? undefined : this.handlers.get(best);
  }

  protected inbox(nodeId: string): string {
    return `${this.prefix}inbox:${nodeId}`;
  }

  private topic(topic: string): string {
    return `${this.prefix}topic:${topic}`;
  }

  private drop(reason: DropReason, channel: string): void {
    this.log.debug({ reason, channel }, 'bus message dropped');
    this.emit('dropped', reason, channel);
  }
}

/** Where the nodes of one process meet: a single node has its own; a test may give several nodes one. */
export class LocalHub {
  readonly channels = new EventEmitter().setMaxListeners(0);
}

/** The bus of nodes sharing one process: the same path as Redis (signed, checked), delivered on a later tick. */
export class LocalBus extends SignedBus {
  private readonly listening = new Map<string, (raw: string) => void>();

  constructor(nodeId: string, envelopes: BusEnvelopes, log: Logger, private readonly hub = new LocalHub()) {
    super(nodeId, envelopes, log, '');
    this.started = this.listen(this.inbox(nodeId));
  }

  protected async transmit(channel: string, payload: string): Promise<number> {
    const receivers = this.hub.channels.listenerCount(channel);
    setImmediate(() => this.hub.channels.emit(channel, payload));
    return receivers;
  }

  protected async listen(channel: string): Promise<void> {
    if (this.listening.has(channel)) return;
    const fn = (raw: string): void => this.deliver(channel, raw);
    this.listening.set(channel, fn);
    this.hub.channels.on(channel, fn);
  }

  protected async unlisten(channel: string): Promise<void> {
    const fn = this.listening.get(channel);
    if (!fn) return;
    this.listening.delete(channel);
    this.hub.channels.off(channel, fn);
  }

  override async close(): Promise<void> {
    for (const channel of [...this.listening.keys()]) await this.unlisten(channel);
    await super.close();
  }
}

import { EventEmitter } from 'node:events';
import { CoordinatorUnavailableError } from './coordinator.js';

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

/**
 * Messages between nodes: topics that any node may follow (a room's events, from its owner to its edges),
 * and requests addressed to one node. One node uses the in-process implementation; a cluster uses Redis
 * pub/sub. Delivery is at most once: after `resubscribed`, followers ask for a fresh snapshot.
 */
export interface ClusterBus extends EventEmitter<{ resubscribed: [] }> {
  readonly nodeId: string;
  publish(topic: string, message: unknown): Promise<void>;
  /** Resolves once the subscription is active; the returned function ends it. */
  subscribe(topic: string, handler: (message: unknown) => void): Promise<() => Promise<void>>;
  /** Rejects with BusRequestError when the remote handler refuses, CoordinatorUnavailableError on timeout. */
  request<T = unknown>(nodeId: string, method: string, params: unknown, timeoutMs?: number): Promise<T>;
  /** Serves requests addressed to this node (one handler per node). */
  serve(handler: RequestHandler): void;
  close(): Promise<void>;
}

/** Requests waiting for their reply, by id, each with its own deadline. */
export class PendingReplies {
  private readonly waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private next = 0;

  open(nodeId: string, method: string, timeoutMs: number): { id: string; reply: Promise<unknown> } {
    const id = `${process.pid}-${++this.next}-${Math.random().toString(36).slice(2, 8)}`;
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new CoordinatorUnavailableError(`node ${nodeId} did not answer ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
    });
    return { id, reply };
  }

  settle(id: string, outcome: { ok: true; result: unknown } | { ok: false; code: string; message: string }): void {
    const w = this.waiting.get(id);
    if (!w) return;
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
export async function answer(handler: RequestHandler | undefined, method: string, params: unknown, from: string): Promise<{ ok: true; result: unknown } | { ok: false; code: string; message: string }> {
  if (!handler) return { ok: false, code: 'UNAVAILABLE', message: 'this node serves no requests' };
  try {
    return { ok: true, result: (await handler(method, params, from)) ?? null };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { ok: false, code: typeof code === 'string' ? code : 'INTERNAL', message: typeof code === 'string' ? (error as Error).message : 'internal error' };
  }
}

/** Where the nodes of one process meet: a single node has its own; a test may give several nodes one. */
export class LocalHub {
  readonly topics = new EventEmitter().setMaxListeners(0);
  readonly nodes = new Map<string, RequestHandler>();
}

/** The bus of nodes sharing one process: the same semantics as Redis, delivered on a later tick. */
export class LocalBus extends EventEmitter<{ resubscribed: [] }> implements ClusterBus {
  private readonly pending = new PendingReplies();

  constructor(
    readonly nodeId: string,
    private readonly hub = new LocalHub(),
  ) {
    super();
  }

  async publish(topic: string, message: unknown): Promise<void> {
    const copy = JSON.parse(JSON.stringify(message)) as unknown;
    setImmediate(() => this.hub.topics.emit(topic, copy));
  }

  async subscribe(topic: string, handler: (message: unknown) => void): Promise<() => Promise<void>> {
    this.hub.topics.on(topic, handler);
    return async () => void this.hub.topics.off(topic, handler);
  }

  async request<T>(nodeId: string, method: string, params: unknown, timeoutMs = 3000): Promise<T> {
    const { id, reply } = this.pending.open(nodeId, method, timeoutMs);
    void answer(this.hub.nodes.get(nodeId), method, JSON.parse(JSON.stringify(params ?? null)), this.nodeId).then((outcome) => this.pending.settle(id, outcome));
    return (await reply) as T;
  }

  serve(handler: RequestHandler): void {
    this.hub.nodes.set(this.nodeId, handler);
  }

  async close(): Promise<void> {
    this.hub.nodes.delete(this.nodeId);
    this.pending.failAll(new CoordinatorUnavailableError('the bus has closed'));
  }
}

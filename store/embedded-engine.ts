import { Worker } from 'node:worker_threads';

export type EngineRequest = { id: number; op: 'query'; sql: string; params: unknown[] } | { id: number; op: 'close' };
export interface EngineReply {
  id: number;
  result?: { rows: unknown[]; affectedRows: number };
  error?: { message: string; code?: string; detail?: string; constraint?: string };
}

/** An error from the embedded database, with PostgreSQL's SQLSTATE `code` (e.g. 23505) as `pg` gives it. */
export class EmbeddedDatabaseError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly detail?: string,
    readonly constraint?: string,
  ) {
    super(message);
    this.name = 'EmbeddedDatabaseError';
  }
}

/**
 * The embedded engine: PGlite in its own worker thread (store/pglite-worker.mjs), so no query runs on the
 * event loop. Statements go one at a time, as on PGlite's single connection.
 */
export class EmbeddedEngine {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: NonNullable<EngineReply['result']>) => void; reject: (e: Error) => void }>();
  private exited: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: EngineReply) => {
      const pending = this.waiting.get(reply.id);
      if (!pending) return;
      this.waiting.delete(reply.id);
      if (reply.error) pending.reject(new EmbeddedDatabaseError(reply.error.message, reply.error.code, reply.error.detail, reply.error.constraint));
      else pending.resolve(reply.result!);
    });
    // An uncaught failure inside the worker (PGlite aborting) ends it; without a listener it would also
    // throw in this thread and end the process. The exit below reports it.
    let failure: Error | undefined;
    worker.on('error', (error) => (failure = error));
    worker.on('exit', (code) => {
      // 57P01 (admin_shutdown), as PostgreSQL says when it stops under a client: callers treat it as an
      // outage (routes answer UNAVAILABLE, room records retry), not as an unknown failure.
      this.exited = new EmbeddedDatabaseError(`the embedded database's worker stopped (exit ${code}${failure ? `: ${failure.message}` : ''})`, '57P01');
      for (const pending of this.waiting.values()) pending.reject(this.exited);
      this.waiting.clear();
    });
  }

  static async start(dir: string, options: { flushIntervalMs?: number } = {}): Promise<EmbeddedEngine> {
    // Plain JavaScript: the same file runs from source and from dist/ (the build copies it there).
    const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), { workerData: { dir, flushIntervalMs: options.flushIntervalMs ?? 10_000 } });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      const onExit = (code: number) => reject(new Error(`the embedded database did not start (exit ${code})`));
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.once('message', () => {
        worker.off('error', onError);
        worker.off('exit', onExit);
        resolve();
      });
    });
    return new EmbeddedEngine(worker);
  }

  query(sql: string, params: readonly unknown[]): Promise<{ rows: unknown[]; affectedRows: number }> {
    return this.send({ op: 'query', sql, params: [...params] });
  }

  get closed(): boolean {
    return this.exited !== undefined;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    await this.send({ op: 'close' }).catch(() => undefined);
    await this.worker.terminate();
  }

  private send(request: { op: 'query'; sql: string; params: unknown[] } | { op: 'close' }): Promise<NonNullable<EngineReply['result']>> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id } as EngineRequest);
    });
  }
}

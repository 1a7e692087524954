/**
 * Runs a write of "the current state" at most once at a time. A request made while a write runs is served by
 * one more write after it, shared by everyone who asked meanwhile (a group commit): each request resolves
 * after a write that started after the request, so it holds what the requester changed before asking.
 */
export class CoalescingWriter {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly write: () => Promise<void>) {}

  get idle(): boolean {
    return this.running === undefined && this.queued === undefined;
  }

  request(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) return this.start();
    this.queued = this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.start();
      });
    return this.queued;
  }

  private start(): Promise<void> {
    const run: Promise<void> = this.write().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}

/**
 * The keys a caller pressed, in order, for code that reads them one at a time (the PIN) with a deadline.
 * Keys pressed while nobody waits are kept (a caller may type ahead over a prompt), up to a bound.
 */
export class DigitQueue {
  private readonly keys: string[] = [];
  private waiter: ((key: string | undefined) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly maxBuffered = 32) {}

  push(key: string): void {
    if (this.waiter) {
      const resolve = this.waiter;
      this.settle();
      resolve(key);
    } else if (this.keys.length < this.maxBuffered) {
      this.keys.push(key);
    }
  }

  /** The next key, or undefined when none came within `timeoutMs` (or the queue was cancelled). */
  next(timeoutMs: number): Promise<string | undefined> {
    const key = this.keys.shift();
    if (key !== undefined) return Promise.resolve(key);
    this.cancel();
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.timer = setTimeout(() => {
        this.settle();
        resolve(undefined);
      }, timeoutMs);
    });
  }

  /** Whether a key is waiting to be read. */
  get pending(): boolean {
    return this.keys.length > 0;
  }

  /** Ends a pending `next` with undefined (the call ended). */
  cancel(): void {
    const resolve = this.waiter;
    this.settle();
    resolve?.(undefined);
  }

  private settle(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.waiter = undefined;
  }
}

import { setImmediate as nextTurn } from 'node:timers/promises';

/** How long one slice of a bulk job may hold the event loop before it lets timers, I/O and requests run. */
export const SLICE_MS = 10;

/**
 * Cuts a long synchronous job into slices of at most `budgetMs`: the job asks `due()` between units of work
 * and, when it is, awaits `next()`, which yields to the event loop (setImmediate, after pending I/O) and
 * starts a new slice. One instance may be shared by the phases of one job.
 */
export class TimeSlices {
  private sliceStart = performance.now();

  constructor(private readonly budgetMs = SLICE_MS) {}

  due(): boolean {
    return performance.now() - this.sliceStart >= this.budgetMs;
  }

  async next(): Promise<void> {
    await nextTurn();
    this.sliceStart = performance.now();
  }

  /** Calls `fn` on each item, yielding between slices. */
  async forEach<T>(items: Iterable<T>, fn: (item: T, index: number) => void): Promise<void> {
    let i = 0;
    for (const item of items) {
      if (this.due()) await this.next();
      fn(item, i++);
    }
  }
}

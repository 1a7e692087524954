/**
 * At most `maxActive` jobs at once; the others wait in arrival order. With `maxWaiting`, a caller beyond it
 * is refused at once with `full()`. A released slot passes straight to the next waiter, so no newcomer can
 * slip in between.
 */
export class ConcurrencyLimit {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly maxActive: number,
    private readonly maxWaiting = Number.POSITIVE_INFINITY,
    private readonly full: () => Error = () => new Error('too many jobs are waiting'),
  ) {}

  /** Jobs running now and waiting for a slot. */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.active < this.maxActive) this.active += 1;
    else {
      if (this.waiting.length >= this.maxWaiting) throw this.full();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}

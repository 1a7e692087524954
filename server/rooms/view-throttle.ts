import type { Participant, ScreenView } from './participant.js';

/** A client's views are applied at most this often (the newest one wins). */
export const VIEW_INTERVAL_MS = 150;

/**
 * A client's screen changes (`setView`) are applied at most once per `VIEW_INTERVAL_MS`, on its newest view:
 * a client sending views in a loop cannot turn each into a page of consumers made and closed.
 */
export class ViewThrottle {
  /** When each client's view was last applied, and a later one waiting for its turn. */
  private readonly appliedAt = new WeakMap<Participant, number>();
  private readonly timers = new Map<Participant, NodeJS.Timeout>();

  constructor(private readonly apply: (p: Participant) => void) {}

  set(p: Participant, view: ScreenView): void {
    p.view = view;
    if (this.timers.has(p)) return;
    const wait = (this.appliedAt.get(p) ?? -Infinity) + VIEW_INTERVAL_MS - performance.now();
    if (wait <= 0) return this.run(p);
    const timer = setTimeout(() => {
      this.timers.delete(p);
      this.run(p);
    }, wait);
    timer.unref();
    this.timers.set(p, timer);
    p.once('close', () => {
      clearTimeout(timer);
      this.timers.delete(p);
    });
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private run(p: Participant): void {
    this.appliedAt.set(p, performance.now());
    this.apply(p);
  }
}

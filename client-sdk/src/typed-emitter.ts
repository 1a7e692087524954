/** A minimal typed event emitter for the browser (no Node `events` in the bundle). */
export class TypedEmitter<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Set<(data: never) => void>>();

  on<E extends keyof Events>(event: E, listener: (data: Events[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (data: never) => void);
    return () => this.off(event, listener);
  }

  once<E extends keyof Events>(event: E, listener: (data: Events[E]) => void): () => void {
    const off = this.on(event, (data) => {
      off();
      listener(data);
    });
    return off;
  }

  off<E extends keyof Events>(event: E, listener: (data: Events[E]) => void): void {
    this.listeners.get(event)?.delete(listener as (data: never) => void);
  }

  protected emit<E extends keyof Events>(event: E, data: Events[E]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as (data: Events[E]) => void)(data);
      } catch (error) {
        // One broken listener must not stop the others nor the client's own bookkeeping.
        setTimeout(() => {
          throw error;
        });
      }
    }
  }
}

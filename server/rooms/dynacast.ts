import type { types } from 'mediasoup';

/**
 * Dynacast: tells each camera's publisher the highest simulcast layer anyone receives of it, so that the
 * encodings above it (or all of them, when nobody watches) can be switched off at the source. Changes are
 * gathered for `delayMs` and told once, only when the figure moved: a floor switch that moves every
 * receiver's stage costs each publisher one notice.
 */
export class Dynacast {
  private readonly due = new Set<types.Producer>();
  private readonly told = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly highestLayer: (producer: types.Producer) => number,
    private readonly tell: (producer: types.Producer, spatialLayer: number) => void,
    private readonly delayMs = 100,
  ) {}

  /** Something about these producers' receivers changed. Only simulcast-capable video counts. */
  touch(producers: Iterable<types.Producer>): void {
    for (const p of producers) if (p.kind === 'video' && p.appData.source === 'camera') this.due.add(p);
    if (this.due.size === 0 || this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.delayMs);
    this.timer.unref();
  }

  close(): void {
    clearTimeout(this.timer);
    this.due.clear();
    this.told.clear();
  }

  private flush(): void {
    this.timer = undefined;
    for (const producer of this.due) {
      if (producer.closed) {
        this.told.delete(producer.id);
        continue;
      }
      const layer = this.highestLayer(producer);
      if (this.told.get(producer.id) === layer) continue;
      this.told.set(producer.id, layer);
      this.tell(producer, layer);
    }
    this.due.clear();
  }
}

import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from '../logger.js';
import { consumerInfo, type Participant } from './participant.js';

export interface Want {
  producer: types.Producer;
  /** Video: the spatial layer that fits where it is shown. */
  layer?: number;
}

interface Held {
  consumer: types.Consumer;
  producer: types.Producer;
  layer?: number;
}

interface Receiver {
  /** By producer id. */
  held: Map<string, Held>;
  running: boolean;
  again: boolean;
}

type PushedConsumersEvents = {
  /** What is received of these producers changed (a consumer came or went, or its layer moved): dynacast recounts. */
  touched: [types.Producer[]];
};

/**
 * The consumers the server makes for its receivers (selective forwarding): each receiver holds exactly
 * what `wants` says for it now, and nothing else. The client never asks for them; it is told
 * (`newConsumer`, `consumerClosed`) and wires them up. One receiver's changes run one at a time, in
 * order; a change that arrives meanwhile runs once more after, on the newest state.
 */
/**
 * Receivers updated per turn of the event loop when the whole room follows a change: each costs the
 * consumer's RTP parameters and a worker request, so a room of hundreds is spread over turns and the
 * loop stays free for signaling and I/O in between.
 */
const RECEIVERS_PER_TURN = 32;

export class PushedConsumers extends EventEmitter<PushedConsumersEvents> {
  private readonly receivers = new Map<Participant, Receiver>();
  /** Receivers waiting for their turn in a room-wide update. */
  private readonly due = new Set<Participant>();
  private draining = false;
  private closed = false;

  constructor(
    private readonly wants: (receiver: Participant) => Map<string, Want>,
    private readonly log: Logger,
  ) {
    super();
  }

  /** Brings one receiver's consumers to what it should receive now. */
  update(p: Participant): void {
    if (this.closed || p.closed) return;
    let r = this.receivers.get(p);
    if (!r) {
      r = { held: new Map(), running: false, again: false };
      this.receivers.set(p, r);
      p.once('close', () => this.receivers.delete(p));
    }
    if (r.running) {
      r.again = true;
      return;
    }
    void this.run(p, r);
  }

  /** Every receiver in `participants` (the floor or the stage moved), a slice per turn of the event loop. */
  updateAll(participants: Iterable<Participant>): void {
    for (const p of participants) this.due.add(p);
    if (this.draining || this.due.size === 0) return;
    this.draining = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    let n = 0;
    for (const p of this.due) {
      this.due.delete(p);
      this.update(p);
      if (++n >= RECEIVERS_PER_TURN) break;
    }
    if (this.due.size > 0 && !this.closed) setImmediate(() => this.drain());
    else this.draining = false;
  }

  /** Whether the server made this receiver's consumer of this producer. */
  holds(p: Participant, producerId: string): boolean {
    return this.receivers.get(p)?.held.has(producerId) ?? false;
  }

  /** The highest spatial layer any receiver wants of this producer; -1 when nobody receives it. */
  highestLayer(producerId: string): number {
    let highest = -1;
    for (const r of this.receivers.values()) {
      const held = r.held.get(producerId);
      if (held) highest = Math.max(highest, held.layer ?? 0);
    }
    return highest;
  }

  close(): void {
    this.closed = true;
    this.due.clear();
    this.receivers.clear();
  }

  private async run(p: Participant, r: Receiver): Promise<void> {
    r.running = true;
    try {
      do {
        r.again = false;
        await this.apply(p, r);
      } while (r.again && !p.closed && !this.closed);
    } catch (error) {
      this.log.warn({ participant: p.id, err: (error as Error).message }, 'pushed consumers not updated');
    } finally {
      r.running = false;
    }
  }

  private async apply(p: Participant, r: Receiver): Promise<void> {
    const wanted = this.wants(p);
    const touched: types.Producer[] = [];
    // What is no longer wanted goes first: a switch never holds both voices (or tiles) at once.
    for (const [producerId, held] of [...r.held]) {
      if (wanted.has(producerId)) continue;
      r.held.delete(producerId);
      if (!held.consumer.closed) {
        held.consumer.close();
        p.notify('consumerClosed', { consumerId: held.consumer.id, producerId });
      }
      touched.push(held.producer);
    }
    const apply = async ([producerId, want]: [string, Want]): Promise<void> => {
      const held = r.held.get(producerId);
      if (!held) {
        if (await this.push(p, r, want)) touched.push(want.producer);
        return;
      }
      if (want.layer === undefined || want.layer === held.layer) return;
      held.layer = want.layer;
      touched.push(want.producer);
      await held.consumer.setPreferredLayers({ spatialLayer: want.layer }).catch(() => undefined);
    };
    // Voices first, then video: when the floor passes, every receiver's new voice is queued to the worker
    // ahead of the stage cameras, so the switch is heard as soon as it can be.
    const entries = [...wanted];
    await Promise.all(entries.filter(([, w]) => w.producer.kind === 'audio').map(apply));
    await Promise.all(entries.filter(([, w]) => w.producer.kind !== 'audio').map(apply));
    if (touched.length > 0) this.emit('touched', touched);
  }

  /** Makes one consumer and tells the client; false when it cannot be made now (no receive transport yet, a limit). */
  private async push(p: Participant, r: Receiver, want: Want): Promise<boolean> {
    const { producer } = want;
    let consumer: types.Consumer;
    try {
      // Audio flows at once (a new voice must not wait for a round trip); video waits for the client's resume,
      // which asks the publisher for a key frame the client can start from.
      consumer = await p.endpoint.consume(producer, p.rtpCapabilities, { paused: producer.kind === 'video', spatialLayer: want.layer });
    } catch (error) {
      this.log.debug({ participant: p.id, producer: producer.id, err: (error as Error).message }, 'consumer not pushed');
      return false;
    }
    const held: Held = { consumer, producer, layer: want.layer };
    r.held.set(producer.id, held);
    consumer.observer.once('close', () => {
      if (r.held.get(producer.id)?.consumer !== consumer) return;
      r.held.delete(producer.id);
      this.emit('touched', [producer]);
    });
    if (consumer.closed) return false;
    p.notify('newConsumer', { ...consumerInfo(consumer, producer), paused: consumer.paused });
    return true;
  }
}

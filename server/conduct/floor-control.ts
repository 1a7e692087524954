import { EventEmitter } from 'node:events';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { FloorState, SpeakerEntry } from '../../protocol/signaling.js';

export interface FloorOptions {
  /** Moderated floor: only the speaker holding the floor (and the conducting roles) are heard. */
  controlled: boolean;
  speakingTimeLimitMs: number;
  speakingTimeWarningMs: number;
}

/** What survives a restart: the list and who speaks. */
export interface FloorSnapshot {
  queue: SpeakerEntry[];
  speaker: FloorState['speaker'];
}

type FloorEvents = {
  /** Any change: the room tells everyone and the store persists. */
  changed: [FloorState];
  given: [SpeakerEntry];
  taken: [SpeakerEntry];
  warning: [SpeakerEntry];
  expired: [SpeakerEntry];
};

/**
 * The speakers list and the floor of one session. Points of order go before ordinary requests (after
 * earlier points of order). Giving the floor starts the speaking timer: a warning before the limit and
 * a notice at it; the chair decides what follows.
 */
export class FloorControl extends EventEmitter<FloorEvents> {
  private queue: SpeakerEntry[];
  private speaker: FloorState['speaker'];
  private timers: NodeJS.Timeout[] = [];

  constructor(
    readonly options: FloorOptions,
    snapshot: FloorSnapshot = { queue: [], speaker: null },
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.queue = [...snapshot.queue];
    this.speaker = snapshot.speaker;
    if (this.speaker) this.startTimers(this.speaker);
  }

  get speakerId(): string | null {
    return this.speaker?.id ?? null;
  }

  /** The first on the speakers list (null: nobody waits). */
  get nextId(): string | null {
    return this.queue[0]?.id ?? null;
  }

  state(): FloorState {
    return { controlled: this.options.controlled, speaker: this.speaker, queue: [...this.queue] };
  }

  snapshot(): FloorSnapshot {
    return { queue: [...this.queue], speaker: this.speaker };
  }

  request(entry: Omit<SpeakerEntry, 'requestedAt'>): void {
    if (this.speaker?.id === entry.id) throw new ProtocolError(ErrorCode.INVALID_STATE, 'you hold the floor');
    const existing = this.queue.findIndex((e) => e.id === entry.id);
    if (existing >= 0) {
      // A point of order from someone already listed moves them up; a second ordinary request changes nothing.
      if (entry.kind !== 'point_of_order' || this.queue[existing]!.kind === 'point_of_order') return;
      this.queue.splice(existing, 1);
    }
    const full: SpeakerEntry = { ...entry, requestedAt: this.now() };
    if (entry.kind === 'point_of_order') {
      const afterPoints = this.queue.findIndex((e) => e.kind !== 'point_of_order');
      this.queue.splice(afterPoints < 0 ? this.queue.length : afterPoints, 0, full);
    } else this.queue.push(full);
    this.changed();
  }

  withdraw(id: string): boolean {
    const i = this.queue.findIndex((e) => e.id === id);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    this.changed();
    return true;
  }

  move(id: string, position: number): void {
    const i = this.queue.findIndex((e) => e.id === id);
    if (i < 0) throw new ProtocolError(ErrorCode.NOT_FOUND, `${id} is not on the speakers list`);
    const [entry] = this.queue.splice(i, 1);
    this.queue.splice(Math.max(0, Math.min(position, this.queue.length)), 0, entry!);
    this.changed();
  }

  /** Gives the floor to `id` (or the first on the list), taking it from whoever held it. */
  give(id?: string): SpeakerEntry {
    const index = id === undefined ? 0 : this.queue.findIndex((e) => e.id === id);
    const entry = this.queue[index];
    if (!entry) throw new ProtocolError(ErrorCode.INVALID_STATE, id === undefined ? 'the speakers list is empty' : `${id} is not on the speakers list`);
    this.queue.splice(index, 1);
    this.endTurn();
    this.speaker = { ...entry, since: this.now(), limitMs: this.options.speakingTimeLimitMs, warningMs: this.options.speakingTimeWarningMs };
    this.startTimers(this.speaker);
    this.emit('given', entry);
    this.changed();
    return entry;
  }

  /** Takes the floor back; the speaker is muted again. */
  take(): SpeakerEntry | null {
    const previous = this.endTurn();
    if (previous) this.changed();
    return previous;
  }

  /** Someone left the room: off the list, and off the floor. */
  forget(id: string): void {
    const onList = this.queue.some((e) => e.id === id);
    this.queue = this.queue.filter((e) => e.id !== id);
    if (this.speaker?.id === id) this.take();
    else if (onList) this.changed();
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }

  private endTurn(): SpeakerEntry | null {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    const previous = this.speaker;
    this.speaker = null;
    if (!previous) return null;
    const entry = entryOf(previous);
    this.emit('taken', entry);
    return entry;
  }

  private startTimers(speaker: NonNullable<FloorState['speaker']>): void {
    const entry = entryOf(speaker);
    const elapsed = this.now() - speaker.since;
    const at = (ms: number, fn: () => void): void => {
      const t = setTimeout(fn, Math.max(0, ms - elapsed));
      t.unref();
      this.timers.push(t);
    };
    if (speaker.warningMs > 0 && speaker.warningMs < speaker.limitMs) at(speaker.limitMs - speaker.warningMs, () => this.emit('warning', entry));
    at(speaker.limitMs, () => this.emit('expired', entry));
  }

  private changed(): void {
    this.emit('changed', this.state());
  }
}

function entryOf(speaker: NonNullable<FloorState['speaker']>): SpeakerEntry {
  return { id: speaker.id, name: speaker.name, entity: speaker.entity, kind: speaker.kind, requestedAt: speaker.requestedAt };
}

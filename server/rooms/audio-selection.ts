import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { AudioLevel, AudioLevels } from '../../media/index.js';
import type { Logger } from '../logger.js';

/** `selective`: receivers get only the audible floor microphones; `all`: every one of them (the earlier behaviour). */
export type ForwardingMode = 'selective' | 'all';

export interface AudioSelectionOptions {
  mode: ForwardingMode;
  /** Open floor: the most voices audible at once. */
  voices: number;
  /** Open floor: a voice silent (or out of the loudest) this long leaves the set. */
  holdMs: number;
  /** How often the levels are measured. */
  intervalMs: number;
  /** Open floor: consecutive measurements among the loudest before a voice joins the set. */
  joinAfterIntervals: number;
}

export const defaultAudioSelection: AudioSelectionOptions = { mode: 'selective', voices: 3, holdMs: 2000, intervalMs: 200, joinAfterIntervals: 2 };

/** What the selection needs to know of the floor. */
export interface FloorRules {
  /** A moderated floor: whoever may be heard is heard, nobody else. */
  controlled: boolean;
  /** Whether this participant's floor microphone may reach the room now (the floor, a moderator's mute). */
  mayBeHeard(ownerId: string): boolean;
}

interface FloorMic {
  producer: types.Producer;
  ownerId: string;
  /** Consecutive measurements among the loudest. */
  streak: number;
  /** Position among the loudest at the last measurement (Infinity: not among them). */
  rank: number;
  lastLoudAt: number;
}

type AudioSelectionEvents = {
  /** The microphone entered the audible set: receivers may consume it now. */
  audible: [types.Producer, string];
  /** The microphone left the audible set: its consumers are to close. */
  inaudible: [types.Producer, string];
  /** The dominant speaker changed (selective mode: the observers run only then). */
  dominant: [types.Producer, string];
};

/**
 * Which floor microphones of a room are audible now. On a moderated floor: every microphone whose owner may
 * be heard (the floor holder, the conducting roles), nothing else. On an open floor: the loudest few
 * unmuted voices, with hysteresis: a voice joins after `joinAfterIntervals` measurements among the
 * loudest, and leaves after `holdMs` out of them, so speakers do not flap. A room with no more microphones
 * than voices hears all of them. Booth channels, video and the like are not its business.
 */
export class AudioSelection extends EventEmitter<AudioSelectionEvents> {
  private readonly mics = new Map<string, FloorMic>();
  private readonly audible = new Set<string>();
  private levels: Promise<AudioLevels | undefined> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly options: AudioSelectionOptions,
    private readonly floor: FloorRules,
    private readonly observe: () => Promise<AudioLevels>,
    private readonly log: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {
    super();
  }

  get selective(): boolean {
    return this.options.mode === 'selective';
  }

  /** Whether `producer` is a floor microphone (the only kind this selection decides about). */
  static isFloorMic(producer: types.Producer): boolean {
    return producer.kind === 'audio' && producer.appData.channel === 'floor';
  }

  /** Whether a producer may be announced and consumed now: anything that is not a selected floor microphone may. */
  isAudible(producerId: string): boolean {
    return !this.selective || !this.mics.has(producerId) || this.audible.has(producerId);
  }

  /** The audible floor microphones now. */
  audibleIds(): string[] {
    return [...this.audible];
  }

  /** The audible floor microphones with their owners (what a newcomer is told about). */
  audibleMics(): Array<{ producer: types.Producer; ownerId: string }> {
    return [...this.audible].flatMap((id) => {
      const mic = this.mics.get(id);
      return mic ? [{ producer: mic.producer, ownerId: mic.ownerId }] : [];
    });
  }

  /** One participant's floor microphones that this selection tracks (audible or not). */
  micsOf(ownerId: string): types.Producer[] {
    return [...this.mics.values()].filter((m) => m.ownerId === ownerId && !m.producer.closed).map((m) => m.producer);
  }

  /** Whether this selection decides who receives the producer (a floor microphone, in selective mode). */
  decides(producerId: string): boolean {
    return this.selective && this.mics.has(producerId);
  }

  /**
   * A new floor microphone (selective mode only: with `all`, nothing is observed or selected, as before).
   * It is observed for levels, and not audible until the selection says so (an `audible` event, possibly
   * right away).
   */
  track(producer: types.Producer, ownerId: string): void {
    if (this.closed || producer.closed || !this.selective) return;
    this.mics.set(producer.id, { producer, ownerId, streak: 0, rank: Infinity, lastLoudAt: this.now() });
    void this.observer().then((levels) => levels?.add(producer));
    if (!this.floor.controlled) {
      this.timer ??= setInterval(() => this.refresh(), this.options.intervalMs);
      this.timer.unref();
    }
    this.refresh();
  }

  /** The microphone closed: forgotten. Answers whether it was audible (receivers knew it). Call `refresh` after. */
  forget(producerId: string): boolean {
    this.mics.delete(producerId);
    return this.audible.delete(producerId);
  }

  /** Recomputes the set (the floor moved, someone was muted): `inaudible` events first, then `audible`. */
  refresh(): void {
    if (this.closed || !this.selective) return;
    const next = this.floor.controlled ? this.moderated() : this.open();
    for (const id of [...this.audible]) {
      if (next.has(id)) continue;
      this.audible.delete(id);
      const mic = this.mics.get(id);
      if (mic) this.emit('inaudible', mic.producer, mic.ownerId);
    }
    for (const id of next) {
      if (this.audible.has(id)) continue;
      this.audible.add(id);
      const mic = this.mics.get(id)!;
      this.emit('audible', mic.producer, mic.ownerId);
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.mics.clear();
    this.audible.clear();
  }

  private eligible(mic: FloorMic): boolean {
    return !mic.producer.closed && this.floor.mayBeHeard(mic.ownerId);
  }

  private moderated(): Set<string> {
    return new Set([...this.mics.values()].filter((m) => this.eligible(m)).map((m) => m.producer.id));
  }

  private open(): Set<string> {
    const eligible = [...this.mics.values()].filter((m) => this.eligible(m));
    if (eligible.length <= this.options.voices) return new Set(eligible.map((m) => m.producer.id));
    const now = this.now();
    const next = new Set<string>();
    // Members stay while they were loud within the hold time.
    for (const m of eligible) if (this.audible.has(m.producer.id) && now - m.lastLoudAt < this.options.holdMs) next.add(m.producer.id);
    const waiting = eligible
      .filter((m) => !next.has(m.producer.id) && m.streak >= this.options.joinAfterIntervals)
      .sort((a, b) => a.rank - b.rank);
    for (const m of waiting) {
      if (next.size >= this.options.voices) break;
      next.add(m.producer.id);
    }
    return next;
  }

  private onLevels(levels: AudioLevel[]): void {
    if (this.closed) return;
    const now = this.now();
    const loudest = new Map<string, number>();
    for (const level of levels) {
      const mic = this.mics.get(level.producerId);
      if (!mic || !this.eligible(mic)) continue;
      loudest.set(level.producerId, loudest.size);
      if (loudest.size >= this.options.voices) break;
    }
    for (const [id, mic] of this.mics) {
      const rank = loudest.get(id);
      if (rank === undefined) {
        mic.streak = 0;
        mic.rank = Infinity;
      } else {
        mic.streak += 1;
        mic.rank = rank;
        mic.lastLoudAt = now;
      }
    }
    this.refresh();
  }

  /** The room's level observers, made when the first microphone arrives (a room without any costs nothing). */
  private observer(): Promise<AudioLevels | undefined> {
    this.levels ??= this.observe().then(
      (levels) => {
        if (this.closed) {
          levels.close();
          return undefined;
        }
        levels.on('levels', (l) => this.onLevels(l));
        levels.on('dominant', (id) => {
          const mic = this.mics.get(id);
          if (mic) this.emit('dominant', mic.producer, mic.ownerId);
        });
        return levels;
      },
      (error: Error) => {
        if (!this.closed) this.log.warn({ err: error.message }, 'audio level observers could not be created: the open floor hears nobody until the room is rebuilt');
        return undefined;
      },
    );
    return this.levels;
  }
}

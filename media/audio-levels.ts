import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';

export interface AudioLevelsOptions {
  /** How often the worker reports levels, in ms. */
  intervalMs: number;
  /** Most producers one report names, loudest first. */
  maxEntries: number;
  /** Quieter than this (dBov, -127..0) counts as silence. */
  thresholdDb: number;
}

/** One producer's average level over the last interval (dBov, -127..0; louder is higher). */
export interface AudioLevel {
  producerId: string;
  volume: number;
}

type AudioLevelsEvents = {
  /** Every interval with sound: the loudest producers, loudest first; `[]` once when all fell silent. */
  levels: [AudioLevel[]];
  /** The producer mediasoup's active-speaker detection picked as the dominant speaker. */
  dominant: [string];
};

/** Makes a producer of another router consumable on the observers' router (a pipe), before it is observed. */
export type ReachRouter = (producer: types.Producer) => Promise<void>;

/**
 * A router's audio level and active speaker observers, fed the same producers. It knows producers only
 * by id: who they belong to, and what to do with the levels, is the caller's business. Closed with its
 * router. A producer living on another router is brought here first by `reach` (RoomMedia pipes it).
 */
export class AudioLevels extends EventEmitter<AudioLevelsEvents> {
  private readonly watched = new Set<string>();

  private constructor(
    private readonly levelObserver: types.AudioLevelObserver,
    private readonly speakerObserver: types.ActiveSpeakerObserver,
    private readonly reach: ReachRouter | undefined,
  ) {
    super();
    levelObserver.on('volumes', (volumes) => this.emit('levels', volumes.map((v) => ({ producerId: v.producer.id, volume: v.volume }))));
    levelObserver.on('silence', () => this.emit('levels', []));
    speakerObserver.on('dominantspeaker', ({ producer }) => this.emit('dominant', producer.id));
  }

  static async create(router: types.Router, options: AudioLevelsOptions, reach?: ReachRouter): Promise<AudioLevels> {
    const levelObserver = await router.createAudioLevelObserver({ interval: options.intervalMs, maxEntries: options.maxEntries, threshold: options.thresholdDb });
    try {
      const speakerObserver = await router.createActiveSpeakerObserver({ interval: options.intervalMs });
      return new AudioLevels(levelObserver, speakerObserver, reach);
    } catch (error) {
      levelObserver.close();
      throw error;
    }
  }

  get closed(): boolean {
    return this.levelObserver.closed;
  }

  /** Observes an audio producer (of this router, or one `reach` brings here) until it closes. */
  async add(producer: types.Producer): Promise<void> {
    if (this.closed || producer.closed || this.watched.has(producer.id)) return;
    this.watched.add(producer.id);
    producer.observer.once('close', () => this.watched.delete(producer.id));
    // A producer closing meanwhile makes mediasoup refuse it (or the pipe fail): nothing to observe then.
    try {
      await this.reach?.(producer);
      if (this.closed) return;
      await Promise.all([this.levelObserver.addProducer({ producerId: producer.id }), this.speakerObserver.addProducer({ producerId: producer.id })]);
    } catch {
      // nothing to observe
    }
  }

  close(): void {
    this.levelObserver.close();
    this.speakerObserver.close();
  }
}

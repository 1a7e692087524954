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

/**
 * A router's audio level and active speaker observers, fed the same producers. It knows producers only
 * by id: who they belong to, and what to do with the levels, is the caller's business. Closed with its
 * router.
 */
export class AudioLevels extends EventEmitter<AudioLevelsEvents> {
  private readonly watched = new Set<string>();

  private constructor(
    private readonly levelObserver: types.AudioLevelObserver,
    private readonly speakerObserver: types.ActiveSpeakerObserver,
  ) {
    super();
    levelObserver.on('volumes', (volumes) => this.emit('levels', volumes.map((v) => ({ producerId: v.producer.id, volume: v.volume }))));
    levelObserver.on('silence', () => this.emit('levels', []));
    speakerObserver.on('dominantspeaker', ({ producer }) => this.emit('dominant', producer.id));
  }

  static async create(router: types.Router, options: AudioLevelsOptions): Promise<AudioLevels> {
    const levelObserver = await router.createAudioLevelObserver({ interval: options.intervalMs, maxEntries: options.maxEntries, threshold: options.thresholdDb });
    try {
      const speakerObserver = await router.createActiveSpeakerObserver({ interval: options.intervalMs });
      return new AudioLevels(levelObserver, speakerObserver);
    } catch (error) {
      levelObserver.close();
      throw error;
    }
  }

  get closed(): boolean {
    return this.levelObserver.closed;
  }

  /** Observes an audio producer of this router until it closes. */
  async add(producer: types.Producer): Promise<void> {
    if (this.closed || producer.closed || this.watched.has(producer.id)) return;
    this.watched.add(producer.id);
    producer.observer.once('close', () => this.watched.delete(producer.id));
    // A producer closing meanwhile makes mediasoup refuse it: nothing to observe then.
    await Promise.all([
      this.levelObserver.addProducer({ producerId: producer.id }),
      this.speakerObserver.addProducer({ producerId: producer.id }),
    ]).catch(() => undefined);
  }

  close(): void {
    this.levelObserver.close();
    this.speakerObserver.close();
  }
}

import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { MediaLogger } from './logger.js';
import { MediaWorker } from './media-worker.js';

export interface WorkerPoolOptions {
  /** How many workers; one per core is the usual choice. */
  numWorkers: number;
  /** Worker i's WebRtcServer listens on UDP and TCP port `rtcPortBase + i`. 0 picks free ports (tests). */
  rtcPortBase: number;
  /** Address the WebRtcServer binds. */
  listenIp: string;
  /** Address put in ICE candidates, for NAT and cloud hosts; defaults to listenIp. */
  announcedAddress?: string;
  /** Port range for plain and pipe transports. */
  rtcMinPort: number;
  rtcMaxPort: number;
  logLevel: types.WorkerLogLevel;
  /** Delay before a dead worker is replaced; doubles on each consecutive death of that slot (max 30 s). */
  respawnDelayMs: number;
}

type WorkerPoolEvents = { workerdied: [MediaWorker]; workerstarted: [MediaWorker] };

/**
 * The node's mediasoup workers. A dead worker is logged, reported (its routers, and so its rooms, close
 * through mediasoup's own cascade) and replaced in the same slot, on the same port; the process stays up.
 */
export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  private readonly slots: (MediaWorker | undefined)[];
  private readonly respawnTimers = new Set<NodeJS.Timeout>();
  private readonly failures: number[];
  private closed = false;

  constructor(
    private readonly options: WorkerPoolOptions,
    private readonly log: MediaLogger,
  ) {
    super();
    this.slots = new Array<MediaWorker | undefined>(options.numWorkers).fill(undefined);
    this.failures = new Array<number>(options.numWorkers).fill(0);
  }

  async start(): Promise<void> {
    await Promise.all(this.slots.map((_, i) => this.startSlot(i)));
  }

  get workers(): MediaWorker[] {
    return this.slots.filter((w): w is MediaWorker => w !== undefined && !w.closed);
  }

  /** The live worker with the least load, or undefined when none is alive. */
  leastLoaded(): MediaWorker | undefined {
    let best: MediaWorker | undefined;
    for (const w of this.workers) if (!best || w.score < best.score) best = w;
    return best;
  }

  close(): void {
    this.closed = true;
    for (const t of this.respawnTimers) clearTimeout(t);
    this.respawnTimers.clear();
    for (const w of this.workers) w.close();
  }

  private async startSlot(index: number): Promise<void> {
    const { options } = this;
    const worker = await mediasoup.createWorker({
      logLevel: options.logLevel,
      rtcMinPort: options.rtcMinPort,
      rtcMaxPort: options.rtcMaxPort,
      appData: { index },
    });
    const port = options.rtcPortBase === 0 ? 0 : options.rtcPortBase + index;
    let webRtcServer: types.WebRtcServer;
    try {
      const base = { ip: options.listenIp, announcedIp: options.announcedAddress, port: port || undefined };
      webRtcServer = await worker.createWebRtcServer({
        listenInfos: [
          { protocol: 'udp', ...base },
          { protocol: 'tcp', ...base },
        ],
      });
    } catch (error) {
      worker.close();
      throw error;
    }
    if (this.closed) {
      worker.close();
      return;
    }
    const mediaWorker = new MediaWorker(index, worker, webRtcServer, port, this.log);
    mediaWorker.once('died', () => this.onDied(mediaWorker));
    this.slots[index] = mediaWorker;
    this.log.info({ worker: index, pid: worker.pid, port: port || 'auto' }, 'mediasoup worker started');
    this.emit('workerstarted', mediaWorker);
  }

  private onDied(dead: MediaWorker): void {
    if (this.slots[dead.index] === dead) this.slots[dead.index] = undefined;
    this.emit('workerdied', dead);
    this.scheduleRespawn(dead.index);
  }

  private scheduleRespawn(index: number): void {
    if (this.closed) return;
    const attempt = (this.failures[index] ?? 0) + 1;
    this.failures[index] = attempt;
    const delay = Math.min(this.options.respawnDelayMs * 2 ** (attempt - 1), 30_000);
    const timer = setTimeout(() => {
      this.respawnTimers.delete(timer);
      this.startSlot(index).then(
        () => (this.failures[index] = 0),
        (error: Error) => {
          this.log.error({ worker: index, attempt, err: error.message }, 'could not replace a dead mediasoup worker');
          this.scheduleRespawn(index);
        },
      );
    }, delay);
    this.respawnTimers.add(timer);
  }
}

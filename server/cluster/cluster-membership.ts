import { cpus } from 'node:os';
import type { WorkerPool } from '../../media/index.js';
import type { JtiStore } from '../auth/jti-store.js';
import type { Logger } from '../logger.js';
import { forClient, type Coordinator, type NodeStats } from './coordinator.js';

/**
 * This node's place in the cluster: it heartbeats its load through the coordinator and knows whether the
 * coordinator answered recently (readiness). Also the cluster-wide single-use check of join tokens.
 */
export class ClusterMembership implements JtiStore {
  private timer: NodeJS.Timeout | undefined;
  private lastOk = 0;
  private lastCpu = process.cpuUsage();
  private lastAt = Date.now();
  draining = false;

  constructor(
    readonly coordinator: Coordinator,
    private readonly pool: WorkerPool,
    private readonly url: () => string,
    private readonly intervalMs: number,
    private readonly log: Logger,
    /** Where other nodes' pipes must reach this one; an origin refuses to pipe anywhere else. */
    private readonly pipe?: NodeStats['pipe'],
  ) {}

  start(): void {
    const beat = (): void => void this.beat();
    beat();
    this.timer = setInterval(beat, this.intervalMs);
    this.timer.unref();
  }

  /** The coordinator answered within three heartbeats. */
  get healthy(): boolean {
    return Date.now() - this.lastOk < this.intervalMs * 3;
  }

  async claim(jti: string, expiresAt: number): Promise<boolean> {
    // Without the shared record a reused token could slip through: refuse, and say it is temporary.
    return forClient(() => this.coordinator.claimJti(jti, expiresAt));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.coordinator.close();
  }

  /** Live nodes, with the coordinator's outage as UNAVAILABLE. */
  liveNodes(): Promise<NodeStats[]> {
    return forClient(() => this.coordinator.liveNodes());
  }

  /** Publishes this node's stats now; false when the coordinator did not take them. */
  async beat(): Promise<boolean> {
    const now = Date.now();
    const usage = process.cpuUsage(this.lastCpu);
    const cpu = (usage.user + usage.system) / 1000 / Math.max(1, now - this.lastAt) / cpus().length;
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    try {
      await this.coordinator.heartbeat({
        url: this.url(),
        workers: this.pool.workers.length,
        consumers: this.pool.workers.reduce((n, w) => n + w.load.consumers, 0),
        cpu: Math.round(cpu * 1000) / 1000,
        draining: this.draining,
        pipe: this.pipe,
      });
      this.lastOk = Date.now();
      return true;
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'heartbeat failed');
      return false;
    }
  }
}

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkerPool } from '../media/index.js';
import type { RoomRegistry } from './rooms/room-registry.js';

/** Prometheus metrics. Gauges read live state at scrape time, so nothing has to be kept in step by hand. */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'outcome'>;
  readonly workerDeaths: Counter;

  constructor(pool: WorkerPool, rooms: RoomRegistry) {
    collectDefaultMetrics({ register: this.registry, prefix: 'plenum_process_' });
    const gauge = (name: string, help: string, read: () => number): void => this.gauge(name, help, read);
    const sumLoad = (key: 'routers' | 'transports' | 'producers' | 'consumers'): number =>
      pool.workers.reduce((n, w) => n + w.load[key], 0);
    gauge('plenum_media_workers', 'Live mediasoup workers', () => pool.workers.length);
    gauge('plenum_rooms', 'Rooms hosted on this node', () => rooms.size);
    gauge('plenum_participants', 'Participants joined on this node', () =>
      // A delegate an edge node serves counts there, not again for its copy at the origin.
      [...rooms.all].reduce((n, r) => n + [...r.participants.values()].filter((p) => p.servedBy === undefined).length, 0),
    );
    gauge('plenum_transports', 'WebRTC and other transports', () => sumLoad('transports'));
    gauge('plenum_producers', 'Producers', () => sumLoad('producers'));
    gauge('plenum_consumers', 'Consumers', () => sumLoad('consumers'));
    this.requests = new Counter({
      name: 'plenum_signaling_requests_total',
      help: 'Signaling requests by method and outcome (ok or an error code)',
      labelNames: ['method', 'outcome'],
      registers: [this.registry],
    });
    this.workerDeaths = new Counter({ name: 'plenum_media_worker_deaths_total', help: 'mediasoup workers that died', registers: [this.registry] });
  }

  /** Access-code hashing (sign-in, CSV import) and the registry cache, read at scrape time. */
  watchAccreditation(read: { hashes: () => { active: number; waiting: number }; registryCacheEntries: () => number }): void {
    this.gauge('plenum_sign_in_hashes_active', 'Access-code hashes running (sign-ins, imports)', () => read.hashes().active);
    this.gauge('plenum_sign_in_hashes_waiting', 'Access-code hashes waiting for a slot', () => read.hashes().waiting);
    this.gauge('plenum_registry_cache_entries', 'Registry answers cached (bounded by PLENUM_REGISTRY_CACHE_MAX_ENTRIES)', read.registryCacheEntries);
  }

  private gauge(name: string, help: string, read: () => number): void {
    new Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
  }

  /** Unknown methods are folded into one label value, so a client cannot grow the label set. */
  countRequest(method: string, outcome: string, known: boolean): void {
    this.requests.inc({ method: known ? method : 'unknown', outcome });
  }
}

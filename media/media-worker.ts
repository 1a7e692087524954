import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { MediaLogger } from './logger.js';

export interface WorkerLoad {
  routers: number;
  transports: number;
  producers: number;
  consumers: number;
}

type MediaWorkerEvents = { died: [Error] };

/**
 * One mediasoup worker process and its WebRtcServer (one UDP+TCP port per worker, so a firewall needs one
 * rule per worker). Counts what runs on it, so placement can pick the least loaded worker.
 */
export class MediaWorker extends EventEmitter<MediaWorkerEvents> {
  readonly load: WorkerLoad = { routers: 0, transports: 0, producers: 0, consumers: 0 };

  constructor(
    readonly index: number,
    readonly worker: types.Worker,
    readonly webRtcServer: types.WebRtcServer,
    readonly port: number,
    log: MediaLogger,
  ) {
    super();
    worker.on('died', (error) => {
      log.error({ worker: index, pid: worker.pid, err: error.message }, 'mediasoup worker died');
      this.emit('died', error);
    });
    this.countResources();
  }

  get pid(): number {
    return this.worker.pid;
  }

  get closed(): boolean {
    return this.worker.closed;
  }

  /** A single number for placement: consumers dominate forwarding cost. */
  get score(): number {
    return this.load.consumers + this.load.producers * 4 + this.load.routers;
  }

  createRouter(mediaCodecs: types.RtpCodecCapability[]): Promise<types.Router> {
    return this.worker.createRouter({ mediaCodecs });
  }

  close(): void {
    this.worker.close();
  }

  private countResources(): void {
    const { load } = this;
    const track = (key: keyof WorkerLoad, observer: { once(event: 'close', fn: () => void): unknown }): void => {
      load[key] += 1;
      observer.once('close', () => (load[key] -= 1));
    };
    this.worker.observer.on('newrouter', (router) => {
      track('routers', router.observer);
      router.observer.on('newtransport', (transport) => {
        track('transports', transport.observer);
        transport.observer.on('newproducer', (producer) => track('producers', producer.observer));
        transport.observer.on('newconsumer', (consumer) => track('consumers', consumer.observer));
      });
    });
  }
}

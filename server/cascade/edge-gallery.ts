import type { types } from 'mediasoup';
import type { ProducerInfo } from '../../protocol/signaling.js';
import type { Logger } from '../logger.js';
import type { Participant, ScreenView } from '../rooms/participant.js';
import { PushedConsumers, type Want } from '../rooms/pushed-consumers.js';
import { layerForTile } from '../rooms/video-layers.js';
import { ViewThrottle } from '../rooms/view-throttle.js';

/** The cameras an edge knows of, and their producers here once piped in. */
export interface EdgeCameras {
  camerasOf(peerId: string): ProducerInfo[];
  /** The producer on this edge now (piped in, or a delegate's served here); undefined until it is. */
  producerHere(producerId: string): types.Producer | undefined;
  /** Pipes it in from the origin (once); undefined when the room has no such producer. */
  producer(producerId: string): Promise<types.Producer | undefined>;
}

/**
 * Gallery tiles on an edge node: the cameras of the peers a receiver's screen shows (`setView`), piped in
 * from the origin on first use and consumed by the server for the receiver, at the layer the tile needs,
 * as the origin does for its own receivers. The stage (the active speaker) comes by announcement, as for
 * the edge's listeners.
 */
export class EdgeGallery {
  private readonly pushed: PushedConsumers;
  private readonly views = new ViewThrottle((p) => this.pushed.update(p));

  constructor(
    private readonly cameras: EdgeCameras,
    log: Logger,
  ) {
    this.pushed = new PushedConsumers((p) => this.wants(p), log);
  }

  setView(p: Participant, view: ScreenView): void {
    this.views.set(p, view);
  }

  /** Whether the gallery made this receiver's consumer of this producer (a tile), not the client. */
  holds(p: Participant, producerId: string): boolean {
    return this.pushed.holds(p, producerId);
  }

  /** A camera came or went: the receivers showing its owner follow. */
  cameraChanged(peerId: string, receivers: Iterable<Participant>): void {
    for (const p of receivers) if (p.view.tiles.some((t) => t.peerId === peerId)) this.pushed.update(p);
  }

  close(): void {
    this.views.close();
    this.pushed.close();
  }

  private wants(p: Participant): Map<string, Want> {
    const out = new Map<string, Want>();
    if (!p.grants.subscribe || p.closed) return out;
    for (const tile of p.view.tiles) {
      if (tile.peerId === p.id) continue;
      for (const info of this.cameras.camerasOf(tile.peerId)) {
        const producer = this.cameras.producerHere(info.producerId);
        if (!producer) {
          // Not here yet: piped in, then this receiver is brought up to date again.
          void this.cameras
            .producer(info.producerId)
            .then((piped) => piped && this.pushed.update(p))
            .catch(() => undefined);
          continue;
        }
        out.set(producer.id, { producer, layer: Math.max(out.get(producer.id)?.layer ?? 0, layerForTile(producer, tile)) });
      }
    }
    return out;
  }
}

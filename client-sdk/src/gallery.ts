import type { PeerInfo } from '../../protocol/signaling.js';
import type { MeetingClient } from './meeting-client.js';
import { TypedEmitter } from './typed-emitter.js';

/** One page of the gallery as it stands now. */
export interface GalleryPage {
  /** 0-based. */
  index: number;
  /** Pages in the roster now (at least 1). */
  pages: number;
  /** Everyone in the roster. */
  total: number;
  peers: PeerInfo[];
  hasPrevious: boolean;
  hasNext: boolean;
}

export type GalleryEvents = {
  /** The page shown changed (paging, or the roster moved under it). */
  page: GalleryPage;
  /** Loading a page failed; the previous one stays. */
  error: Error;
};

/**
 * The roster in pages of `pageSize`, in the server's order (the floor holder, those conducting, then by
 * name), kept current: it reloads on the roster's batches, when the floor passes and after a reconnect.
 * It does not choose what is received: show the page, then say so with `client.setView` (the tiles' sizes
 * are the page's to know). `filter` leaves out peers the page does not show as tiles.
 */
export class Gallery extends TypedEmitter<GalleryEvents> {
  /** cursors[i]: where page i starts (the server pages forward only). */
  private cursors: Array<string | null> = [null];
  private index = 0;
  private current: GalleryPage | undefined;
  private busy = false;
  private again = false;
  private floorHolder: string | null | undefined;
  private readonly offs: Array<() => void>;

  constructor(
    private readonly client: MeetingClient,
    readonly pageSize = 9,
    private readonly filter: (peer: PeerInfo) => boolean = () => true,
  ) {
    super();
    this.offs = [
      client.on('peersChanged', () => void this.reload()),
      client.on('floorState', (state) => {
        // The holder is listed first: a new holder reorders the roster.
        const holder = state.speaker?.id ?? null;
        if (holder === this.floorHolder) return;
        this.floorHolder = holder;
        void this.reload();
      }),
      client.on('reconnected', () => void this.reload()),
    ];
  }

  get page(): GalleryPage | undefined {
    return this.current;
  }

  next(): Promise<void> {
    return this.goTo(this.index + 1);
  }

  previous(): Promise<void> {
    return this.goTo(this.index - 1);
  }

  async goTo(index: number): Promise<void> {
    if (index < 0 || index >= this.cursors.length) return;
    this.index = index;
    await this.reload();
  }

  /** Loads the current page; a reload asked for meanwhile runs once more after, on the newest state. */
  async reload(): Promise<void> {
    if (!this.client.joined) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        await this.load();
      } while (this.again && this.client.joined);
    } catch (error) {
      this.emit('error', error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.busy = false;
    }
  }

  close(): void {
    for (const off of this.offs) off();
  }

  private async load(): Promise<void> {
    const answer = await this.client.fetchPeers({ cursor: this.cursors[this.index], limit: this.pageSize });
    // People left and this page is empty now: show the last page that still has someone.
    if (answer.peers.length === 0 && this.index > 0) {
      this.cursors.length = this.index;
      this.index -= 1;
      return this.load();
    }
    this.cursors.length = this.index + 1;
    if (answer.nextCursor) this.cursors.push(answer.nextCursor);
    this.current = {
      index: this.index,
      pages: Math.max(this.index + 1, Math.ceil(answer.total / this.pageSize)),
      total: answer.total,
      peers: answer.peers.filter(this.filter),
      hasPrevious: this.index > 0,
      hasNext: this.cursors.length > this.index + 1,
    };
    this.emit('page', this.current);
  }
}

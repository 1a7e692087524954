import type { PeerInfo } from '../../protocol/signaling.js';

/** What one batch says: who left (applied first), who joined. */
export interface RosterBatch {
  joined: PeerInfo[];
  left: string[];
}

/**
 * Coalesces a room's joins and leaves into one batch per `intervalMs`, with one timer per room (not per
 * participant): a join wave of N costs each participant a handful of messages, not N. A peer that joins
 * and leaves within one batch appears in neither list; one that leaves and comes back (a resume) appears
 * in both, `left` first. `extra` marks other work to flush with the batch (counts for moderators) even
 * when no one joined or left.
 */
export class RosterBatcher {
  private readonly joined = new Map<string, PeerInfo>();
  /** Peers announced earlier that left (and may have come back: then also in `joined`). */
  private readonly left = new Set<string>();
  private extra = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly intervalMs: number,
    private readonly flush: (batch: RosterBatch | undefined) => void,
  ) {}

  peerJoined(peer: PeerInfo): void {
    this.joined.set(peer.id, peer);
    this.schedule();
  }

  peerLeft(peerId: string): void {
    // Announced in no batch yet: nobody needs to hear it left.
    if (this.joined.delete(peerId) && !this.left.has(peerId)) return this.schedule();
    this.left.add(peerId);
    this.schedule();
  }

  /** Something else to send with the next batch (the batch callback gets `undefined` when only this is due). */
  touch(): void {
    this.extra = true;
    this.schedule();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => this.fire(), this.intervalMs);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    const batch = this.joined.size > 0 || this.left.size > 0 ? { joined: [...this.joined.values()], left: [...this.left] } : undefined;
    const due = batch !== undefined || this.extra;
    this.joined.clear();
    this.left.clear();
    this.extra = false;
    if (due) this.flush(batch);
  }
}

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PeerInfo } from '../../protocol/signaling.js';
import { RosterBatcher, type RosterBatch } from '../../server/rooms/roster-batcher.js';
import { RosterIndex } from '../../server/rooms/roster-index.js';

const peer = (id: string, name = id, extra: Partial<PeerInfo> = {}): PeerInfo => ({ id, name, role: 'delegate', entity: { name: 'Kenya', type: 'member_state' }, ...extra });

describe('plenary: the roster batcher (one timer per room)', () => {
  let flushed: Array<RosterBatch | undefined>;
  let batcher: RosterBatcher;
  beforeEach(() => {
    vi.useFakeTimers();
    flushed = [];
    batcher = new RosterBatcher(250, (b) => flushed.push(b));
  });
  afterEach(() => {
    batcher.close();
    vi.useRealTimers();
  });

  it('coalesces changes into one batch per interval; a join and leave within it is in neither list', () => {
    for (let i = 0; i < 50; i++) batcher.peerJoined(peer(`p${i}`));
    batcher.peerJoined(peer('brief'));
    batcher.peerLeft('brief');
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(250);
    expect(flushed).toHaveLength(1);
    expect(flushed[0]!.joined.map((p) => p.id)).toEqual(Array.from({ length: 50 }, (_, i) => `p${i}`));
    expect(flushed[0]!.left).toEqual([]);
  });

  it('a known peer that leaves and comes back (a resume) is in both lists; leaving again leaves it in `left` only', () => {
    batcher.peerLeft('p1');
    batcher.peerJoined(peer('p1', 'Back'));
    vi.advanceTimersByTime(250);
    expect(flushed[0]).toEqual({ joined: [peer('p1', 'Back')], left: ['p1'] });
    batcher.peerLeft('p2');
    batcher.peerJoined(peer('p2'));
    batcher.peerLeft('p2');
    vi.advanceTimersByTime(250);
    expect(flushed[1]).toEqual({ joined: [], left: ['p2'] });
  });

  it('a touch alone flushes without a batch; nothing after close', () => {
    batcher.touch();
    vi.advanceTimersByTime(250);
    expect(flushed).toEqual([undefined]);
    batcher.close();
    batcher.peerJoined(peer('late'));
    vi.advanceTimersByTime(1000);
    expect(flushed).toHaveLength(1);
  });
});

describe('plenary: the roster index', () => {
  it('orders the floor holder, then those conducting, then by name, and pages with a cursor', () => {
    const peers = [peer('c', 'Carla'), peer('a', 'anna'), peer('z', 'Zed', { conducting: true }), peer('b', 'Bruno')];
    const index = new RosterIndex(() => ({ peers, speakerId: 'b' }));
    const first = index.page({ limit: 2 });
    expect(first.peers.map((p) => p.id)).toEqual(['b', 'z']);
    expect(first.total).toBe(4);
    const second = index.page({ limit: 2, cursor: first.nextCursor! });
    expect(second.peers.map((p) => p.id)).toEqual(['a', 'c']);
    expect(second.nextCursor).toBeNull();
    expect(index.page({ limit: 10, except: 'b' }).peers.map((p) => p.id)).toEqual(['z', 'a', 'c']);
  });
});

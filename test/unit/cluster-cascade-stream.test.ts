import { describe, expect, it } from 'vitest';
import { cascadeRequests, roomTopicFrame, StreamCursor, type RoomTopicFrame } from '../../server/cascade/cascade-protocol.js';

// What an edge does with each frame of its origin's room topic, checked through the wire schema: frames
// carry the owner's epoch (its lease token) and a sequence number within that epoch.

const frame = (epoch: number, seq: number, message: unknown): RoomTopicFrame => roomTopicFrame.parse({ epoch, seq, message });
const closed = (epoch: number, seq: number) => frame(epoch, seq, { type: 'closed', reason: 'SESSION_CLOSED' });
const left = (epoch: number, seq: number) => frame(epoch, seq, { type: 'event', event: 'peersChanged', data: { joined: [], left: ['p1'], total: 0 } });

describe('cluster: cascade frames carry the owner epoch and a sequence number', () => {
  it('a late `closed` from the old origin (a lower epoch) is ignored by the new origin\'s edge, even with the next sequence number', () => {
    // The room moved from the owner with token 5 to the one with token 7; this edge follows 7, at seq 3.
    const edge = new StreamCursor({ epoch: 7, seq: 3 });
    expect(edge.judge(closed(5, 4))).toBe('stale');
    expect(edge.judge(closed(5, 1))).toBe('stale');
    expect(edge.position).toEqual({ epoch: 7, seq: 3 });
    // The new origin's own `closed` is applied.
    expect(edge.judge(closed(7, 4))).toBe('apply');
  });

  it('in order: applied once; already seen: skipped; a gap: resynchronise; a snapshot moves the cursor', () => {
    const edge = new StreamCursor({ epoch: 7, seq: 0 });
    expect(edge.judge(left(7, 1))).toBe('apply');
    expect(edge.judge(left(7, 1))).toBe('seen');
    expect(edge.judge(left(7, 2))).toBe('apply');
    expect(edge.judge(left(7, 4))).toBe('gap');
    expect(edge.position).toEqual({ epoch: 7, seq: 2 }); // a gap applies nothing
    edge.resetTo({ epoch: 7, seq: 4 }); // the snapshot fetched on the gap holds 3 and 4
    expect(edge.judge(left(7, 4))).toBe('seen');
    expect(edge.judge(left(7, 5))).toBe('apply');
  });

  it('a newer epoch is a new owner, whose sequence starts again at 1: the edge of the old owner follows the room away', () => {
    const edge = new StreamCursor({ epoch: 7, seq: 40 });
    expect(edge.judge(left(9, 1))).toBe('moved');
    expect(edge.position).toEqual({ epoch: 7, seq: 40 });
    // The edge opened for the new owner starts from that owner's snapshot position.
    const next = new StreamCursor({ epoch: 9, seq: 0 });
    expect(next.judge(left(9, 1))).toBe('apply');
    expect(next.judge(closed(7, 41))).toBe('stale');
  });

  it('the wire refuses an unstamped message, and snapshots say where in the stream they stand', () => {
    expect(roomTopicFrame.safeParse({ type: 'closed', reason: 'SESSION_CLOSED' }).success).toBe(false);
    expect(roomTopicFrame.safeParse({ epoch: 7, seq: 0, message: { type: 'closed', reason: 'SESSION_CLOSED' } }).success).toBe(false);
    expect(roomTopicFrame.safeParse({ epoch: 7, seq: 1, message: { type: 'closed', reason: 'SESSION_CLOSED' }, extra: 1 }).success).toBe(false);
    const snapshot = { peers: [], producers: [], channels: [], floor: { controlled: false, speaker: null, queue: [] } };
    expect(cascadeRequests['cascade.snapshot'].result.safeParse({ snapshot, at: { epoch: 7, seq: 3 } }).success).toBe(true);
    expect(cascadeRequests['cascade.snapshot'].result.safeParse(snapshot).success).toBe(false);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../server/config.js';
import { CoordinatorUnavailableError, type Coordinator, type NodeStats, type RoomLease } from '../../server/cluster/coordinator.js';
import { defaultSafetyMarginMs, leaseTimingProblem, RoomOwnership } from '../../server/cluster/room-ownership.js';
import { createLogger } from '../../server/logger.js';

// Self-fencing on the monotonic clock: a node that cannot confirm a room's lease gives the room up by
// (the time the last confirmed request was SENT) + TTL - margin, before Redis could let another node take
// it at sentAt + TTL. The coordinator here is a stand-in whose renewals answer, hang or fail on command;
// time is vitest's fake clock (timers and performance.now), so every instant below is exact.

const TTL = 10_000;
const MARGIN = 2_000;
const ROOM = 'room-1';

type RenewMode = 'answer' | 'hang' | 'throw';

class StubCoordinator implements Coordinator {
  readonly nodeId = 'node-a';
  mode: RenewMode = 'answer';
  /** performance.now() when each acquire/renew request was sent, and whether it was confirmed. */
  readonly requests: Array<{ kind: 'acquire' | 'renew'; sentAt: number; confirmed: boolean }> = [];
  /** Late answers to hung renewals, released by the test. */
  readonly hung: Array<(kept: boolean) => void> = [];
  private owner: RoomLease | null = null;

  async ready(): Promise<void> {}
  async heartbeat(): Promise<void> {}
  async liveNodes(): Promise<NodeStats[]> {
    return [{ nodeId: this.nodeId, url: 'http://a', workers: 1, consumers: 0, cpu: 0, draining: false, updatedAt: 0 }];
  }
  async acquireRoom(roomId: string): Promise<RoomLease | null> {
    this.requests.push({ kind: 'acquire', sentAt: performance.now(), confirmed: true });
    this.owner = { roomId, nodeId: this.nodeId, token: 7 };
    return this.owner;
  }
  renewRoom(): Promise<boolean> {
    const request = { kind: 'renew' as const, sentAt: performance.now(), confirmed: false };
    this.requests.push(request);
    if (this.mode === 'throw') return Promise.reject(new CoordinatorUnavailableError('redis unreachable'));
    if (this.mode === 'hang') return new Promise((resolve) => this.hung.push(resolve));
    request.confirmed = true;
    return Promise.resolve(true);
  }
  async releaseRoom(): Promise<void> {}
  async roomOwner(): Promise<RoomLease | null> {
    return this.owner;
  }
  async writeRoomState(): Promise<boolean> {
    return true;
  }
  async readRoomState(): Promise<string | null> {
    return null;
  }
  async claimJti(): Promise<boolean> {
    return true;
  }
  async recordRemoval(): Promise<void> {}
  async isRemoved(): Promise<boolean> {
    return false;
  }
  async clearRemoval(): Promise<void> {}
  async close(): Promise<void> {}

  /** The send time of the last request Redis confirmed: the lease runs until this + TTL on Redis' clock. */
  lastConfirmedSentAt(): number {
    return this.requests.filter((r) => r.confirmed).at(-1)!.sentAt;
  }
}

const log = createLogger('silent');

async function ownRoom(coordinator: StubCoordinator, timing = { ttlMs: TTL, safetyMarginMs: MARGIN }): Promise<{ ownership: RoomOwnership; lostAt: number[] }> {
  const ownership = new RoomOwnership(coordinator, timing, log);
  const lostAt: number[] = [];
  ownership.on('lost', (roomId) => {
    expect(roomId).toBe(ROOM);
    lostAt.push(performance.now());
  });
  expect(await ownership.take(ROOM)).toEqual({ kind: 'local' });
  expect(ownership.leaseOf(ROOM)?.token).toBe(7);
  ownership.start();
  return { ownership, lostAt };
}

describe('cluster: room leases fenced on the monotonic clock', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('healthy renewals keep the room for many lease times', async () => {
    const coordinator = new StubCoordinator();
    const { ownership, lostAt } = await ownRoom(coordinator);
    await vi.advanceTimersByTimeAsync(TTL * 5);
    expect(lostAt).toEqual([]);
    expect(ownership.leaseOf(ROOM)?.token).toBe(7);
    expect(coordinator.requests.filter((r) => r.kind === 'renew').length).toBeGreaterThanOrEqual(14);
    ownership.stop();
  });

  for (const mode of ['hang', 'throw'] as const) {
    it(`renewals that ${mode === 'hang' ? 'never answer' : 'fail'}: the room is given up by sentAt + TTL - margin of the last confirmed request, before the lease can expire`, async () => {
      const coordinator = new StubCoordinator();
      const { ownership, lostAt } = await ownRoom(coordinator);
      // One renewal is confirmed (at TTL/3), then Redis goes silent or refuses.
      await vi.advanceTimersByTimeAsync(Math.floor(TTL / 3));
      expect(coordinator.requests.filter((r) => r.confirmed).length).toBe(2);
      coordinator.mode = mode;
      const confirmedAt = coordinator.lastConfirmedSentAt();
      const deadline = confirmedAt + TTL - MARGIN;
      const expiry = confirmedAt + TTL;

      await vi.advanceTimersByTimeAsync(deadline - 1 - performance.now());
      expect(lostAt).toEqual([]); // not before its time: unconfirmed renewals were sent meanwhile
      expect(coordinator.requests.filter((r) => !r.confirmed).length).toBeGreaterThanOrEqual(1);
      expect(ownership.leaseOf(ROOM)).toBeDefined();

      await vi.advanceTimersByTimeAsync(1);
      expect(lostAt).toHaveLength(1);
      expect(lostAt[0]).toBeLessThanOrEqual(deadline);
      expect(lostAt[0]).toBeLessThan(expiry);
      expect(ownership.leaseOf(ROOM)).toBeUndefined();

      // A renewal that answers late (Redis still had the lease) does not bring the room back.
      for (const answer of coordinator.hung) answer(true);
      await vi.advanceTimersByTimeAsync(TTL);
      expect(ownership.leaseOf(ROOM)).toBeUndefined();
      expect(lostAt).toHaveLength(1);
      ownership.stop();
    });
  }

  it('a paused process: the lease is refused on the clock at once, even before the late fence timer runs', async () => {
    const coordinator = new StubCoordinator();
    let now = 0;
    const ownership = new RoomOwnership(coordinator, { ttlMs: TTL, safetyMarginMs: MARGIN, now: () => now }, log);
    const lost: string[] = [];
    ownership.on('lost', (roomId) => lost.push(roomId));
    await ownership.take(ROOM);
    expect(ownership.leaseOf(ROOM)).toBeDefined();
    // The process slept (SIGSTOP, a long GC) past the deadline: no timer has run yet when it resumes.
    now = TTL - MARGIN;
    expect(ownership.leaseOf(ROOM)).toBeUndefined();
    await Promise.resolve();
    await new Promise((resolve) => process.nextTick(resolve));
    expect(lost).toEqual([ROOM]);
    ownership.stop();
  });
});

describe('cluster: lease timing that cannot work is refused', () => {
  it('a margin of half the lease or more, or none, is refused; the defaults fit', () => {
    expect(leaseTimingProblem(10_000, 2_000)).toBeUndefined();
    expect(leaseTimingProblem(10_000, 5_000)).toMatch(/half the lease/);
    expect(leaseTimingProblem(10_000, 0)).toMatch(/positive/);
    // Renewals every 100 ms at the least: a 150 ms lease with a 60 ms margin leaves 90 ms.
    expect(leaseTimingProblem(150, 60)).toMatch(/no time to renew/);
    for (const ttl of [200, 1500, 2000, 5000, 10_000, 60_000]) expect(leaseTimingProblem(ttl, defaultSafetyMarginMs(ttl))).toBeUndefined();
    expect(defaultSafetyMarginMs(10_000)).toBe(2000);
    expect(defaultSafetyMarginMs(5000)).toBe(1000);
    expect(() => new RoomOwnership(new StubCoordinator(), { ttlMs: 10_000, safetyMarginMs: 6000 }, log)).toThrow(/half the lease/);
  });

  it('the configuration reads the margin and refuses one that cannot work', () => {
    expect(loadConfig({ PLENUM_ROOM_LEASE_TTL_MS: '10000' }).cluster.roomLeaseSafetyMarginMs).toBe(2000);
    expect(loadConfig({ PLENUM_ROOM_LEASE_TTL_MS: '10000', PLENUM_ROOM_LEASE_SAFETY_MARGIN_MS: '3000' }).cluster.roomLeaseSafetyMarginMs).toBe(3000);
    expect(() => loadConfig({ PLENUM_ROOM_LEASE_TTL_MS: '10000', PLENUM_ROOM_LEASE_SAFETY_MARGIN_MS: '5000' })).toThrow(/PLENUM_ROOM_LEASE_SAFETY_MARGIN_MS/);
  });
});

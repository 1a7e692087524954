import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseFloorStore } from '../../server/conduct/floor-store.js';
import { OwnerWrites } from '../../server/cluster/owner-writes.js';
import { openStore } from '../../store/open-store.js';
import { StaleOwnerError } from '../../store/room-fence.js';
import { CoordinatorUnavailableError, pickNode, type Coordinator, type RoomLease } from '../../server/cluster/coordinator.js';
import { LocalCoordinator } from '../../server/cluster/local-coordinator.js';
import { RedisCoordinator } from '../../server/cluster/redis-coordinator.js';
import { testLog } from '../helpers/media.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { waitFor } from '../helpers/wait.js';

let redis: RedisProcess;
const coordinators: RedisCoordinator[] = [];

async function node(id: string, staleAfterMs = 5000): Promise<RedisCoordinator> {
  const c = new RedisCoordinator(id, { kind: 'url', url: redis.url }, testLog, staleAfterMs, `test-${process.pid}:`);
  coordinators.push(c);
  await c.ready();
  return c;
}

const stats = (consumers: number, draining = false) => ({ url: 'http://x', workers: 2, consumers, cpu: 0.1, draining });

beforeAll(async () => {
  redis = await RedisProcess.start();
});
afterAll(async () => {
  for (const c of coordinators) await c.close();
  await redis?.kill();
});

describe('cluster coordination on a real redis-server', () => {
  it('room ownership: one lease at a time; after it expires another node takes the room with a larger fencing token', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const leaseA = await a.acquireRoom('plenary', 300);
    expect(leaseA).toMatchObject({ nodeId: 'node-a', token: expect.any(Number) });
    expect(await b.acquireRoom('plenary', 300)).toBeNull();
    expect(await a.acquireRoom('plenary', 300)).toEqual(leaseA); // renewing keeps the token
    expect(await a.renewRoom(leaseA!, 300)).toBe(true);
    expect((await b.roomOwner('plenary'))?.nodeId).toBe('node-a');

    // Node A stops renewing (a pause, a partition): the lease expires and B takes the room.
    const leaseB = await waitFor(() => b.acquireRoom('plenary', 5000), { what: 'the lease to expire' });
    expect(leaseB.token).toBeGreaterThan(leaseA!.token);
    expect(await a.renewRoom(leaseA!, 300)).toBe(false); // A learns it lost the room
  });

  it('fencing: once a new owner has taken the room, a stale owner’s write is refused, even before the new owner writes', async () => {
    const a = await node('node-a2');
    const b = await node('node-b2');
    const stale = (await a.acquireRoom('fenced', 200))!;
    expect(await a.writeRoomState(stale, 'speakers', '["ke"]')).toBe(true);
    const fresh = await waitFor(() => b.acquireRoom('fenced', 5000), { what: 'the lease to expire' });
    expect(await a.writeRoomState(stale, 'speakers', '["ke","jp"]')).toBe(false);
    expect(await b.readRoomState('fenced', 'speakers')).toBe('["ke"]');
    expect(await b.writeRoomState(fresh, 'speakers', '["br"]')).toBe(true);
    expect(await a.writeRoomState(stale, 'speakers', '["ke","fr"]')).toBe(false);
    expect(await a.readRoomState('fenced', 'speakers')).toBe('["br"]');
  });

  it("a room's speakers list (in the database, fenced by the Redis lease tokens) is rebuilt by the node that takes the room over; the stale owner cannot overwrite it", async () => {
    const a = await node('floor-a');
    const b = await node('floor-b');
    const db = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'plenum-floor-')) });
    try {
      const leases = new Map<string, RoomLease>();
      const floorsOf = (id: string) =>
        new DatabaseFloorStore(
          new OwnerWrites(db.db, (room) => {
            const lease = leases.get(id);
            return lease?.roomId === room ? { roomId: room, nodeId: lease.nodeId, epoch: lease.token } : undefined;
          }),
        );
      const storeA = floorsOf('a');
      const storeB = floorsOf('b');
      const entry = (id: string) => ({ id, name: id, entity: id, kind: 'speaker' as const, requestedAt: 1 });
      leases.set('a', (await a.acquireRoom('council', 200))!);
      await storeA.save('council', { queue: [entry('ke'), entry('br')], speaker: null });
      leases.set('b', await waitFor(() => b.acquireRoom('council', 5000), { what: 'the lease to expire' }));
      expect((await storeB.load('council'))?.queue.map((e) => e.id)).toEqual(['ke', 'br']);
      await storeB.save('council', { queue: [entry('br')], speaker: null });
      // After the new owner's first write, the old owner's is refused and nothing of it lands.
      await expect(storeA.save('council', { queue: [], speaker: null })).rejects.toBeInstanceOf(StaleOwnerError);
      expect((await storeA.load('council'))?.queue.map((e) => e.id)).toEqual(['br']);
      // A node without the lease writes nothing.
      await expect(storeA.save('other-room', { queue: [], speaker: null })).rejects.toBeInstanceOf(StaleOwnerError);
    } finally {
      await db.close();
    }
  });

  it('node registry: heartbeats carry load; stale nodes drop out; placement skips draining nodes', async () => {
    const a = await node('reg-a', 400);
    const b = await node('reg-b', 400);
    const c = await node('reg-c', 400);
    await a.heartbeat(stats(900));
    await b.heartbeat(stats(100));
    await c.heartbeat(stats(10, true));
    const live = await a.liveNodes();
    expect(live.map((n) => n.nodeId).sort()).toEqual(['reg-a', 'reg-b', 'reg-c']);
    expect(pickNode(live)?.nodeId).toBe('reg-b');
    // B stops heartbeating: after 400 ms its stats are stale and it is no longer live.
    await waitFor(
      async () => {
        await a.heartbeat(stats(900));
        await c.heartbeat(stats(10, true));
        return !(await a.liveNodes()).some((n) => n.nodeId === 'reg-b');
      },
      { what: 'reg-b to go stale' },
    );
    expect(pickNode(await a.liveNodes())?.nodeId).toBe('reg-a');
  });

  it('join tokens are single use across the whole cluster', async () => {
    const a = await node('jti-a');
    const b = await node('jti-b');
    const exp = Math.floor(Date.now() / 1000) + 60;
    expect(await a.claimJti('token-1', exp)).toBe(true);
    expect(await b.claimJti('token-1', exp)).toBe(false);
    expect(await b.claimJti('token-2', exp)).toBe(true);
  });

  it('a Redis restart: calls fail clearly while it is down, then the node reconnects and re-registers', async () => {
    const a = await node('restart-a');
    const b = await node('restart-b');
    await a.heartbeat(stats(1));
    const held = (await a.acquireRoom('live-room', 60_000))!;
    const before = (await b.acquireRoom('moving-room', 60_000))!;
    await redis.kill();
    await expect(a.acquireRoom('during-outage', 1000)).rejects.toBeInstanceOf(CoordinatorUnavailableError);
    await expect(a.claimJti('during-outage', Math.floor(Date.now() / 1000) + 60)).rejects.toBeInstanceOf(CoordinatorUnavailableError);
    await redis.restart();
    // The data died with the process (no persistence): the next heartbeat registers the node again.
    await waitFor(async () => {
      try {
        await a.heartbeat(stats(1));
        return (await a.liveNodes()).some((n) => n.nodeId === 'restart-a');
      } catch {
        return false;
      }
    }, { what: 'the node to re-register after the restart' });
    expect(await a.acquireRoom('after-restart', 1000)).toMatchObject({ nodeId: 'restart-a' });
    // Redis forgot the lease; its owner takes it back at the next renewal and nobody else can have it.
    expect(await a.renewRoom(held, 60_000)).toBe(true);
    expect(await b.acquireRoom('live-room', 60_000)).toBeNull();
    expect(await a.roomOwner('live-room')).toEqual(held);
    // Tokens keep growing across the data loss, whoever takes a room next.
    expect((await a.acquireRoom('moving-room', 60_000))!.token).toBeGreaterThan(before.token);
    await a.releaseRoom(held);
    const next = (await b.acquireRoom('live-room', 60_000))!;
    expect(next.token).toBeGreaterThan(held.token);
    expect(await a.writeRoomState(held, 'floor', 'stale')).toBe(false);
  });
});

describe('the single-node coordinator follows the same rules', () => {
  it('leases, fencing, jti', async () => {
    let now = 1000;
    const c: Coordinator = new LocalCoordinator('solo', 5000, () => now);
    const first = (await c.acquireRoom('r', 100))!;
    expect(await c.writeRoomState(first, 'k', 'v1')).toBe(true);
    now += 200;
    // Lapsed, but nobody took the room since: the owner takes it back with the same token.
    expect(await c.renewRoom(first, 100)).toBe(true);
    now += 200;
    const second = (await c.acquireRoom('r', 100))!;
    expect(await c.renewRoom(first, 100)).toBe(false);
    expect(second.token).toBeGreaterThan(first.token);
    expect(await c.writeRoomState(second, 'k', 'v2')).toBe(true);
    expect(await c.writeRoomState(first, 'k', 'stale')).toBe(false);
    expect(await c.readRoomState('r', 'k')).toBe('v2');
    expect(await c.claimJti('j', 99999)).toBe(true);
    expect(await c.claimJti('j', 99999)).toBe(false);
  });
});

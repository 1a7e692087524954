import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerPool } from '../../media/index.js';
import { RoomRegistry } from '../../server/rooms/room-registry.js';
import type { RoomUpstream } from '../../server/rooms/room.js';
import { startPool, testLimits, testLog } from '../helpers/media.js';
import { waitFor } from '../helpers/wait.js';

// An edge room is registered before its upstream (the pipe to the origin) has attached. A second join in
// that window must wait for the room being opened, not get a room that is not an edge yet (its delegate
// would not be seated at the origin). Real mediasoup worker; the upstream is a stand-in whose attach the
// test holds (the attach itself is tested on real nodes in plenary-edge-delegates).

let pool: WorkerPool | undefined;
afterEach(() => {
  pool?.close();
  pool = undefined;
});

const upstream: RoomUpstream = {
  producer: async () => undefined,
  view: () => ({ peers: [], producers: [], channels: [], floor: { controlled: false, speaker: null, queue: [] } }),
  channels: () => [],
  seat: async () => undefined,
  publish: async () => undefined,
  forward: async () => ({}),
  setView: () => undefined,
  close: () => undefined,
};

describe('plenary: an edge room is ready before anyone joins it', () => {
  it('a join while the edge room attaches waits for it, and finds an edge', async () => {
    pool = await startPool();
    const options = { idleCloseMs: 60_000, languages: [], handoverTakeAfterMs: 10_000, floor: { controlled: true, speakingTimeLimitMs: 180_000, speakingTimeWarningMs: 30_000 } };
    const registry = new RoomRegistry(pool, { ...testLimits, maxConsumersPerRouter: 100 }, async () => options, testLog);
    let attach!: () => void;
    const attached = new Promise<void>((resolve) => (attach = resolve));
    registry.upstreams = async () => {
      await attached;
      return upstream;
    };
    const owner = { roomId: 'r-edge', nodeId: 'origin-node', token: 7 };
    const first = registry.getOrCreateEdge('r-edge', owner);
    // The room exists on this node, its upstream not attached yet.
    await waitFor(() => registry.get('r-edge') !== undefined, { what: 'the edge room registered' });
    expect(registry.get('r-edge')!.isEdge).toBe(false);
    const second = registry.getOrCreateEdge('r-edge', owner).then((room) => ({ room, isEdge: room.isEdge }));
    attach();
    const [a, b] = await Promise.all([first, second]);
    expect(b.room).toBe(a);
    expect(b.isEdge).toBe(true);
    registry.closeAll();
  });
});

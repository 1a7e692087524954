import { mkdtempSync } from 'node:fs';
import { createServer, connect, type Server, type Socket as NetSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { afterAll, describe, expect, it } from 'vitest';
import type { MeetingServer } from '../../server/meeting-server.js';
import { openStore, type Store } from '../../store/open-store.js';
import { fencedWrite, StaleOwnerError } from '../../store/room-fence.js';
import { requestJoinAs } from '../helpers/accreditation-client.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { clusterNodeEnv } from '../helpers/cluster-env.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { call, connectSignaling } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

// Two real server nodes in this process share a real redis-server and a real PostgreSQL. Node A reaches
// Redis only through a TCP proxy that the test turns into a black hole: A is cut off from Redis, not from
// its clients, and Redis' commands to it neither fail nor answer. A must stop serving its room (clients told,
// media closed) while its lease is still in Redis, so before B can take the room; and once B has written
// for the room, no write under A's epoch lands in the database.

const ROOM = 'demo-plenary';
const AMINA = 'amina.odhiambo@demo.ke';
const BRIAN = 'brian.kamau@demo.ke';
const TTL_MS = 3000;

/** A TCP relay to Redis that can stop carrying bytes both ways while keeping the connections open. */
class BlackHoleProxy {
  private blackholed = false;
  private readonly sockets = new Set<NetSocket>();

  private constructor(private readonly server: Server) {}

  static async start(targetPort: number): Promise<BlackHoleProxy> {
    const server = createServer();
    const proxy = new BlackHoleProxy(server);
    server.on('connection', (client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      for (const [from, to] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        proxy.sockets.add(from);
        from.on('data', (chunk) => {
          if (!proxy.blackholed) to.write(chunk);
        });
        from.on('error', () => to.destroy());
        from.on('close', () => {
          proxy.sockets.delete(from);
          to.destroy();
        });
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  /** Bytes are dropped from now on; connections stay up (a cut link, not a refused one). */
  blackhole(): void {
    this.blackholed = true;
  }

  /** The link is back: connections cut meanwhile are closed, so their clients reconnect. */
  heal(): void {
    this.blackholed = false;
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

const nodeEnv = (id: string, redisUrl: string, databaseUrl: string) =>
  clusterNodeEnv(id, { redisUrl, databaseUrl }, {
    PLENUM_NODE_STALE_AFTER_MS: '1000',
    PLENUM_ROOM_LEASE_TTL_MS: String(TTL_MS),
    // Nobody leaves an empty room open for long, but not while the test looks at it.
    PLENUM_ROOM_IDLE_CLOSE_MS: '60000',
  });

async function joinRoom(node: MeetingServer, email: string): Promise<{ socket: Socket; events: string[] }> {
  const answer = await requestJoinAs(node.url, email, ROOM);
  if (answer.status !== 200) throw new Error(`join ${email} on ${node.url}: ${answer.status} ${JSON.stringify(answer.body)}`);
  const socket = await connectSignaling(node.url, answer.body.joinToken);
  cleanup.push(() => socket.close());
  const events: string[] = [];
  socket.onAny((event: string, data: { reason?: string }) => events.push(data?.reason ? `${event}:${data.reason}` : event));
  const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
  if (!caps.ok) throw new Error(caps.error.code);
  const joined = await call(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities });
  if (!joined.ok) throw new Error(joined.error.code);
  return { socket, events };
}

describe('cluster: a node cut off from Redis', () => {
  it('stops serving its room before another node takes it, and none of its writes lands after the new owner wrote', async () => {
    const redis = await RedisProcess.start();
    cleanup.push(() => redis.kill());
    const postgres = await PostgresProcess.start();
    cleanup.push(() => postgres.stop());
    const proxy = await BlackHoleProxy.start(redis.port);
    cleanup.push(() => proxy.close());
    const observer = new Redis(redis.url);
    cleanup.push(() => observer.disconnect());
    const store: Store = await openStore({ databaseUrl: postgres.url, dataDir: mkdtempSync(join(tmpdir(), 'plenum-partition-')), poolSize: 2 });
    cleanup.push(() => store.close());

    // A alone at first, so the room is placed there; then B.
    const a = await startTestServer(nodeEnv('node-a', proxy.url, postgres.url));
    cleanup.push(() => a.close());
    // A shuts down (after the test) with its link to Redis back, as after a partition.
    cleanup.push(() => proxy.heal());
    const amina = await joinRoom(a, AMINA);
    const roomA = a.rooms.get(ROOM)!;
    expect(roomA.isEdge).toBe(false);
    const epochA = a.ownership.leaseOf(ROOM)!.token;
    const b = await startTestServer(nodeEnv('node-b', redis.url, postgres.url));
    cleanup.push(() => b.close());
    // A's durable record of the room carries its epoch.
    await waitFor(async () => (await store.db.selectFrom('attendance').selectAll().where('session_id', '=', ROOM).where('node_id', '=', 'node-a').execute()).length > 0, {
      what: "A's attendance row",
    });

    // When A's room closes, Redis must still hold A's lease, with time left on it: nobody else can have the room.
    const atClose = new Promise<{ holder: string | null; token: string | null; pttl: number; mediaClosed: boolean }>((resolve) => {
      roomA.once('close', () => {
        const mediaClosed = roomA.media.router.closed;
        void Promise.all([observer.hget(`plenum:lease:${ROOM}`, 'node'), observer.hget(`plenum:lease:${ROOM}`, 'token'), observer.pttl(`plenum:lease:${ROOM}`)]).then(([holder, token, pttl]) =>
          resolve({ holder, token, pttl, mediaClosed }),
        );
      });
    });
    proxy.blackhole();
    let deadline: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      atClose,
      new Promise<never>((_, reject) => {
        deadline = setTimeout(() => reject(new Error('A kept serving its room long past its lease')), 4 * TTL_MS);
      }),
    ]).finally(() => clearTimeout(deadline));
    expect(closed).toMatchObject({ holder: 'node-a', token: String(epochA), mediaClosed: true });
    expect(closed.pttl).toBeGreaterThan(0);
    expect(a.ownership.leaseOf(ROOM)).toBeUndefined();
    // A's client was told (the room closed under it), while its connection to A itself never broke.
    await waitFor(() => amina.events.includes('roomClosed:SERVER_SHUTDOWN'), { what: 'roomClosed on A' });

    // B takes the room once A's lease has run out in Redis, and seats Brian under a larger epoch.
    const brian = await waitFor(
      async () => {
        try {
          return await joinRoom(b, BRIAN);
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'B to take the room' },
    );
    expect(brian.socket.connected).toBe(true);
    const epochB = b.ownership.leaseOf(ROOM)!.token;
    expect(epochB).toBeGreaterThan(epochA);
    const fence = await waitFor(async () => {
      const row = await store.db.selectFrom('room_fences').selectAll().where('room_id', '=', ROOM).executeTakeFirst();
      return row?.epoch === epochB ? row : undefined;
    }, { what: "B's fence on the room" });
    expect(fence.node_id).toBe('node-b');
    const firstB = await waitFor(async () => {
      const rows = await store.db.selectFrom('attendance').selectAll().where('session_id', '=', ROOM).where('epoch', '=', epochB).orderBy('joined_at').execute();
      return rows[0];
    }, { what: "B's attendance row" });

    // A wakes up late with its old epoch and writes for the room (as a paused owner would): the fence refuses it.
    const late = fencedWrite(store.db, { roomId: ROOM, nodeId: 'node-a', epoch: epochA }, (tx) =>
      tx
        .insertInto('attendance')
        .values({ event_id: 'late', session_id: ROOM, person_id: 'late-write', name: 'late', entity: 'late', entity_type: 'other', role: 'delegate', presence: 'participant', node_id: 'node-a', epoch: epochA, joined_at: new Date() })
        .execute(),
    );
    await expect(late).rejects.toBeInstanceOf(StaleOwnerError);

    // Everything under A's epoch was written before B's first write; what closed A's interval is B's takeover.
    const rowsA = await store.db.selectFrom('attendance').selectAll().where('session_id', '=', ROOM).where('epoch', '<', epochB).execute();
    expect(rowsA.length).toBeGreaterThan(0);
    for (const row of rowsA) {
      expect(row.epoch).toBe(epochA);
      expect(row.person_id).not.toBe('late-write');
      expect(row.joined_at.getTime()).toBeLessThanOrEqual(firstB.joined_at.getTime());
      if (row.left_at) expect(row.closed_by).toBe('takeover');
    }
    const floorRows = await store.db.selectFrom('floor_state').selectAll().where('session_id', '=', ROOM).execute();
    for (const row of floorRows) if (row.epoch === epochA) expect(row.updated_at.getTime()).toBeLessThanOrEqual(firstB.joined_at.getTime());
    expect((await store.db.selectFrom('room_fences').select('epoch').where('room_id', '=', ROOM).executeTakeFirst())?.epoch).toBe(epochB);
  });
});

import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCoordinator } from '../../server/cluster/redis-coordinator.js';
import { requestJoinAs } from '../helpers/accreditation-client.js';
import { testLog } from '../helpers/media.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { CLUSTER_SECRET, RedisProcess } from '../helpers/redis-process.js';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { call, connectFollowing } from '../helpers/signaling-client.js';
import { waitFor } from '../helpers/wait.js';

// Three server processes and a real redis-server. The origin of a moderated session (with a speakers list
// and a listener on an edge node) is killed with SIGKILL. Once its lease expires, a surviving node takes the
// room and rebuilds the speakers list from Redis; the delegates and the listener come back with their resume
// credentials, as the SDK does, without signing in again.

const ROOM = 'demo-council';
const env = (id: string, redisUrl: string, databaseUrl: string) => ({
  PLENUM_NODE_ID: id,
  PLENUM_REDIS_URL: redisUrl,
  PLENUM_DATABASE_URL: databaseUrl,
  PLENUM_DEV_MODE: 'false',
  PLENUM_JOIN_TOKEN_SECRET: 'a-join-token-secret-shared-by-the-cluster-0123',
  PLENUM_CLUSTER_SECRET: CLUSTER_SECRET,
  PLENUM_EMBEDDED_IDP_SECRET: 'an-embedded-idp-secret-shared-0123456789',
  PLENUM_ROOM_LEASE_TTL_MS: '2000',
  PLENUM_HEARTBEAT_INTERVAL_MS: '300',
  PLENUM_NODE_STALE_AFTER_MS: '1500',
  PLENUM_CASCADE_AFTER_LISTENERS: '0',
});

let redis: RedisProcess;
let observer: RedisCoordinator;
const nodes: ServerProcess[] = [];
const sockets: Socket[] = [];

interface Joined {
  socket: Socket;
  url: string;
  resumeToken: string;
  floor: { queue: Array<{ id: string }> };
  events: Array<{ event: string; data: unknown }>;
}

async function joinWith(startAt: string, token: unknown): Promise<Joined> {
  const { socket, url } = await connectFollowing(startAt, token);
  sockets.push(socket);
  const events: Joined['events'] = [];
  socket.onAny((event: string, data: unknown) => events.push({ event, data }));
  const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
  if (!caps.ok) throw new Error(caps.error.code);
  const joined = await call<{ resumeToken: string; floor: Joined['floor'] }>(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities });
  if (!joined.ok) throw new Error(joined.error.code);
  return { socket, url, resumeToken: joined.data.resumeToken, floor: joined.data.floor, events };
}

async function signInAndJoin(startAt: string, email: string): Promise<Joined> {
  const answer = await requestJoinAs(startAt, email, ROOM);
  expect(answer.status).toBe(200);
  return joinWith(startAt, answer.body.joinToken);
}

let postgres: PostgresProcess | undefined;
beforeAll(async () => {
  redis = await RedisProcess.start();
  postgres = await PostgresProcess.start();
  for (const id of ['node-a', 'node-b', 'node-c']) nodes.push(await spawnServer(env(id, redis.url, postgres.url)));
  observer = new RedisCoordinator('observer', { kind: 'url', url: redis.url }, testLog);
  await observer.ready();
  await waitFor(async () => (await observer.liveNodes()).length === 3, { what: 'three live nodes' });
}, 150_000);
afterAll(async () => {
  for (const s of sockets) s.close();
  await observer?.close();
  for (const n of nodes) n.child.kill('SIGKILL');
  await redis?.kill();
  await postgres?.stop();
});

describe('cluster: three server processes; the origin of a cascading room is killed (SIGKILL)', () => {
  it('another node takes the room with its speakers list from Redis; delegates and the edge listener come back with resume credentials', async () => {
    const brian = await signInAndJoin(nodes[0]!.url, 'brian.kamau@demo.ke');
    const owner = nodes.find((n) => n.url === brian.url)!;
    expect(await call(brian.socket, 'requestFloor', { kind: 'speaker' })).toMatchObject({ ok: true });
    const amina = await signInAndJoin(owner.url, 'amina.odhiambo@demo.ke');
    expect(await call(amina.socket, 'requestFloor', { kind: 'point_of_order' })).toMatchObject({ ok: true });
    const omar = await signInAndJoin(owner.url, 'omar.haddad@openaccess.example');
    expect(omar.url).not.toBe(owner.url); // served by an edge node
    expect(omar.floor.queue.map((e) => e.id)).toEqual(['p-ke-1', 'p-ke-2']);

    const lease = (await observer.roomOwner(ROOM))!;
    owner.child.kill('SIGKILL');
    await owner.exited;
    const survivors = nodes.filter((n) => n !== owner);

    // Brian's client sees the connection drop and comes back with his resume credential at a survivor.
    await waitFor(() => !brian.socket.connected, { what: "Brian's connection to drop" });
    const back = await waitFor(() => joinWith(survivors[0]!.url, brian.resumeToken), { timeoutMs: 20_000, what: 'Brian to rejoin after the lease expires' });
    const moved = (await observer.roomOwner(ROOM))!;
    expect(moved.token).toBeGreaterThan(lease.token);
    expect(survivors.map((n) => n.url)).toContain(back.url);
    // The new owner read the speakers list back from Redis: nobody lost their place.
    expect(back.floor.queue.map((e) => e.id)).toEqual(['p-ke-1', 'p-ke-2']);

    // The edge notices its origin is gone and closes the room for its listener, who comes back too.
    await waitFor(() => omar.events.some((e) => e.event === 'roomClosed') || !omar.socket.connected, { what: "the listener's edge to close" });
    const omarBack = await waitFor(() => joinWith(survivors[1]!.url, omar.resumeToken), { timeoutMs: 20_000, what: 'the listener to rejoin' });
    expect(omarBack.floor.queue.map((e) => e.id)).toEqual(['p-ke-1', 'p-ke-2']);
    const aminaBack = await waitFor(() => joinWith(survivors[1]!.url, amina.resumeToken), { timeoutMs: 20_000, what: 'Amina to rejoin' });
    expect(aminaBack.url).toBe(back.url);
    // The listener is on an edge of the new owner's room again (the room cascades): Amina's return is relayed to it.
    expect(omarBack.url).not.toBe(back.url);
    await waitFor(() => omarBack.events.some((e) => e.event === 'peersChanged'), { what: 'the roster batch relayed to the edge' });

    // Attendance is one record in the shared database: the dead owner's open intervals were closed by the
    // node that took the room over, and each delegate's presence continues in a new interval there.
    const deadNode = lease.nodeId;
    type Row = { person_id: string; node_id: string; epoch: string; left_at: Date | null; closed_by: string | null; presence: string };
    const participantRows = async (person: string) =>
      postgres!.withClient(async (c) =>
        (
          await c.query<Row>(`select person_id, node_id, epoch, left_at, closed_by, presence from attendance where session_id = $1 and person_id = $2 and presence = 'participant' order by joined_at, id`, [
            ROOM,
            person,
          ])
        ).rows,
      );
    for (const person of ['p-ke-2', 'p-ke-1']) {
      // The new interval is written just after the rejoin: wait for it.
      const mine = await waitFor(async () => {
        const rows = await participantRows(person);
        return rows.length === 2 ? rows : undefined;
      }, { what: `two attendance intervals of ${person}` });
      expect(mine.map((r) => r.node_id)).toEqual([deadNode, moved.nodeId]);
      expect(mine[0]).toMatchObject({ closed_by: 'takeover' });
      expect(mine[0]!.left_at).not.toBeNull();
      expect(Number(mine[0]!.epoch)).toBe(lease.token);
      expect(mine[1]).toMatchObject({ left_at: null, closed_by: null });
      expect(Number(mine[1]!.epoch)).toBe(moved.token);
    }
    // Nothing of the dead owner's is left open.
    const open = await postgres!.withClient(async (c) => (await c.query(`select id from attendance where session_id = $1 and node_id = $2 and presence = 'participant' and left_at is null`, [ROOM, deadNode])).rows);
    expect(open).toEqual([]);
  });
});

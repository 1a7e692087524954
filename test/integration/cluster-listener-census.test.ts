import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { ListenerCensus, QuorumView } from '../../protocol/signaling.js';
import { CENSUS_TOP_ENTITIES } from '../../server/conduct/listener-census.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { requestJoinAs } from '../helpers/accreditation-client.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { clusterNodeEnv } from '../helpers/cluster-env.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { call, connectFollowing } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

// Two real nodes (in this process) on one real redis-server and one real PostgreSQL. Every listener goes to
// the edge node (PLENUM_CASCADE_AFTER_LISTENERS=0); the secretariat on the origin must see them in its live
// view: the `listeners` census and the `quorum` notice's `edgeListeners`, counted from the attendance.

const ROOM = 'demo-plenary';
const SOFIA = 'sofia.rossi@secretariat.example';
const KWAME = 'kwame.mensah@demo.gh';
const OMAR = 'omar.haddad@openaccess.example';
let redis: RedisProcess;
let postgres: PostgresProcess | undefined;
const nodes: MeetingServer[] = [];
const sockets: Socket[] = [];

const nodeAt = (url: string): MeetingServer => nodes.find((n) => n.url === url)!;

type Event = { event: string; data: unknown };
function record(socket: Socket): Event[] {
  const events: Event[] = [];
  socket.onAny((event: string, data: unknown) => events.push({ event, data }));
  return events;
}
const censuses = (events: Event[]): ListenerCensus[] => events.filter((e) => e.event === 'listeners').map((e) => e.data as ListenerCensus);
const quorums = (events: Event[]): QuorumView[] => events.filter((e) => e.event === 'quorum').map((e) => e.data as QuorumView);
/** The newest census received, once it satisfies `ok`. */
const latestCensus = (events: Event[], ok: (c: ListenerCensus) => boolean): ListenerCensus | undefined => {
  const last = censuses(events).at(-1);
  return last && ok(last) ? last : undefined;
};

async function connectAs(email: string, startAt: string): Promise<{ socket: Socket; url: string; redirects: string[]; events: Event[] }> {
  const answer = await requestJoinAs(startAt, email, ROOM);
  expect(answer.status).toBe(200);
  const connected = await connectFollowing(startAt, answer.body.joinToken);
  sockets.push(connected.socket);
  // Recorded from the first moment: the census may arrive right after the join answer.
  return { ...connected, events: record(connected.socket) };
}

async function join(socket: Socket): Promise<void> {
  const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
  if (!caps.ok) throw new Error(caps.error.code);
  const joined = await call(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities });
  if (!joined.ok) throw new Error(joined.error.code);
}

beforeAll(async () => {
  redis = await RedisProcess.start();
  postgres = await PostgresProcess.start();
  for (const id of ['census-a', 'census-b']) {
    nodes.push(
      await startTestServer(
        clusterNodeEnv(id, { redisUrl: redis.url, databaseUrl: postgres.url }, { PLENUM_ROOM_LEASE_TTL_MS: '1500', PLENUM_CASCADE_AFTER_LISTENERS: '0', PLENUM_LISTENER_CENSUS_MS: '200' }),
      ),
    );
  }
  await waitFor(async () => (await nodes[0]!.membership.coordinator.liveNodes()).length === 2, { what: 'two live nodes' });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  for (const n of nodes) await n.close();
  await redis?.kill();
  await postgres?.stop();
});

let origin: MeetingServer;
let edge: MeetingServer;
let sofia: Awaited<ReturnType<typeof connectAs>>;
let omar: Awaited<ReturnType<typeof connectAs>>;

describe('cluster: the secretariat on the origin sees the listeners served by edge nodes, live', () => {
  it('a listener on the edge is counted in the `listeners` census and in the quorum notice', async () => {
    sofia = await connectAs(SOFIA, nodes[0]!.url);
    origin = nodeAt(sofia.url);
    await join(sofia.socket);
    // A moderator joining gets a census at once, even with nobody on an edge.
    expect(await waitFor(() => latestCensus(sofia.events, (c) => c.total === 0), { what: 'the first census' })).toMatchObject({ byEntity: [], others: 0 });

    omar = await connectAs(OMAR, origin.url);
    expect(omar.url).not.toBe(origin.url);
    edge = nodeAt(omar.url);
    await join(omar.socket);
    expect(edge.rooms.get(ROOM)?.isEdge).toBe(true);
    // Omar is on the edge, not in the origin's room: only the census can tell Sofia about him.
    expect(origin.rooms.get(ROOM)!.participants.has('p-ngo-1')).toBe(false);

    const counted = await waitFor(() => latestCensus(sofia.events, (c) => c.total === 1), { what: 'the census to count the edge listener' });
    expect(counted).toMatchObject({
      total: 1,
      byEntityType: { non_governmental_organization: 1 },
      byEntity: [{ entity: 'Open Access Network', entityType: 'non_governmental_organization', count: 1 }],
      others: 0,
      entities: 1,
    });
    expect(typeof counted.at).toBe('number');
    await waitFor(() => quorums(sofia.events).some((q) => q.edgeListeners === 1), { what: 'the quorum notice to carry the edge listeners' });
    // The roster's quorum carries it too.
    const roster = await call<{ quorum: QuorumView }>(sofia.socket, 'getRoster', {});
    expect(roster).toMatchObject({ ok: true, data: { quorum: { edgeListeners: 1 } } });
  });

  it('a moderator joining later gets the latest census right after joining, though nothing changed', async () => {
    const kwame = await connectAs(KWAME, nodes[1]!.url);
    expect(kwame.url).toBe(origin.url);
    await join(kwame.socket);
    const seen = await waitFor(() => latestCensus(kwame.events, () => true), { what: 'the census for the late moderator' });
    expect(seen).toMatchObject({ total: 1, byEntity: [{ entity: 'Open Access Network', count: 1 }] });
    kwame.socket.close();
  });

  it('thousands or thirty: the census names the largest entities and folds the rest into one number', async () => {
    const epoch = origin.ownership.leaseOf(ROOM)!.token;
    const nodeId = edge.membership.coordinator.nodeId;
    // 30 more listeners recorded by the edge node in 25 entities: entity 0 has 6 people, the others one each.
    const ids: number[] = [];
    for (let i = 0; i < 30; i++) {
      const entity = i < 6 ? 0 : i - 5;
      const who = { eventId: DEMO_EVENT_ID, personId: `p-census-${i}`, name: `Listener ${i}`, entity: `Entity ${String(entity).padStart(2, '0')}`, entityType: entity % 2 ? 'sector_member' : 'member_state', role: 'observer' };
      ids.push(await edge.conduct.attendance.openListener(nodeId, epoch, ROOM, who));
    }
    const big = await waitFor(() => latestCensus(sofia.events, (c) => c.total === 31), { what: 'the census of 31 edge listeners' });
    expect(big.byEntity).toHaveLength(CENSUS_TOP_ENTITIES);
    expect(big.byEntity[0]).toEqual({ entity: 'Entity 00', entityType: 'member_state', count: 6 });
    expect(big.entities).toBe(26);
    expect(big.byEntity.reduce((n, e) => n + e.count, 0) + big.others).toBe(31);
    expect(big.others).toBe(31 - 6 - (CENSUS_TOP_ENTITIES - 1));
    expect(big.byEntityType).toEqual({ member_state: 6 + 12, sector_member: 12, non_governmental_organization: 1 });

    for (const id of ids) await edge.conduct.attendance.closeListener(id);
    await waitFor(() => latestCensus(sofia.events, (c) => c.total === 1), { what: 'the census back to one listener' });
  });

  it('the count drops when the edge listener leaves', async () => {
    expect(await call(omar.socket, 'leave', {})).toMatchObject({ ok: true });
    const after = await waitFor(() => latestCensus(sofia.events, (c) => c.total === 0), { what: 'the census to drop to zero' });
    expect(after).toMatchObject({ byEntityType: {}, byEntity: [], others: 0, entities: 0 });
    await waitFor(() => quorums(sofia.events).at(-1)?.edgeListeners === 0, { what: 'the quorum notice to drop the edge listener' });
  });
});

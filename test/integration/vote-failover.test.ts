import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { VoteState, VoteView } from '../../protocol/signaling.js';
import { RedisCoordinator } from '../../server/cluster/redis-coordinator.js';
import { clusterNodeEnv } from '../helpers/cluster-env.js';
import { IDP_AUDIENCE, IDP_ISSUER, idToken, JwksServer, rsaKey, type SigningKey } from '../helpers/jwks-server.js';
import { testLog } from '../helpers/media.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { connectAndJoin as connectAndJoinAs, signInAndJoin as signInAndJoinAs, type SessionClient } from '../helpers/session-clients.js';
import { call } from '../helpers/signaling-client.js';
import { waitFor } from '../helpers/wait.js';

// A node failover in the middle of a vote loses no cast vote, and the vote goes on at the new owner. Server
// processes sharing a real redis-server and a real PostgreSQL; a chair and 20 heads of delegation in the
// room's owner. Half the entities cast, the owner is killed (SIGKILL), everyone comes back at the surviving
// node with their resume credential (as the SDK does), finds their entity's vote cast, and the other half
// casts there. A recorded vote, a secret ballot (sealed on one node, opened and counted on another), and a
// vote whose timer runs out on the new owner with nobody closing it. After each failover a fresh node joins,
// so the next case has a node to fail over to.

const ADMIN_KEY = 'admin-api-key-for-vote-failover-0123456789';
const SESSION = 'demo-plenary';
const N = 20;
const entity = (i: number) => `Failovia ${String(i).padStart(2, '0')}`;
const email = (i: number) => `head${i}@failover.example`;
const CSV_HEADER = 'event_id,person_id,name,email,entity_name,entity_type,country_code,role,languages,status,sessions,access_code';
const CHAIR = 'kwame.mensah@demo.gh';

let redis: RedisProcess;
let postgres: PostgresProcess;
let key: SigningKey;
let jwks: JwksServer;
let observer: RedisCoordinator;
/** The live nodes. */
const nodes: ServerProcess[] = [];
let nextNode = 0;
const spawned: ServerProcess[] = [];

type Client = SessionClient;
const allSockets: Socket[] = [];
let chair: Client;
const heads: Client[] = [];

async function spawnNode(): Promise<ServerProcess> {
  const node = await spawnServer(
    clusterNodeEnv(`node-${nextNode++}`, { redisUrl: redis.url, databaseUrl: postgres.url }, {
      PLENUM_DEMO: 'true',
      PLENUM_ADMIN_API_KEY: ADMIN_KEY,
      PLENUM_IDENTITY_ISSUER: IDP_ISSUER,
      PLENUM_IDENTITY_AUDIENCE: IDP_AUDIENCE,
      PLENUM_IDENTITY_JWKS_URL: jwks.url,
      PLENUM_ROOM_LEASE_TTL_MS: '2000',
      PLENUM_HEARTBEAT_INTERVAL_MS: '300',
      PLENUM_NODE_STALE_AFTER_MS: '1500',
      PLENUM_SIGNALING_RATE_PER_SECOND: '1000',
      PLENUM_SIGNALING_RATE_BURST: '1000',
    }),
  );
  spawned.push(node);
  nodes.push(node);
  return node;
}

const connectAndJoin = (startAt: string, who: string, token: string): Promise<Client> => connectAndJoinAs(startAt, who, token, allSockets);
const signInAndJoin = (startAt: string, address: string): Promise<Client> => signInAndJoinAs(startAt, address, key, SESSION, allSockets);

/** Back at `at` with the resume credential, as the SDK reconnects; the client's socket and events are the new ones. */
async function comeBack(client: Client, at: string): Promise<void> {
  const back = await connectAndJoin(at, client.email, client.resumeToken);
  Object.assign(client, back);
}

const received = (c: Client, event: string) => c.events.filter((e) => e.event === event).map((e) => e.data);
const nodeAt = (url: string) => nodes.find((n) => n.url === url);

async function expectCode(c: Client, method: string, data: unknown, code: string): Promise<void> {
  const answer = await call(c.socket, method, data);
  expect(answer.ok ? 'ok' : answer.error.code, `${c.email} ${method}`).toBe(code);
}

async function castOk(c: Client, voteId: string, ballot: unknown): Promise<void> {
  const answer = await call(c.socket, 'castVote', { voteId, ballot });
  if (!answer.ok) throw new Error(`${c.email} castVote: ${answer.error.code} ${answer.error.message}`);
}

async function open(input: Record<string, unknown>): Promise<VoteView> {
  const answer = await call<{ vote: VoteView }>(chair.socket, 'openVote', input);
  if (!answer.ok) throw new Error(`openVote: ${answer.error.code} ${answer.error.message}`);
  return answer.data.vote;
}

/**
 * Kills the room's owner (SIGKILL) and brings everyone back at a surviving node once the lease has expired.
 * Answers the dead owner and the new one.
 */
async function failover(): Promise<{ dead: ServerProcess; owner: ServerProcess }> {
  const dead = nodeAt(chair.url)!;
  expect(heads.every((h) => h.url === dead.url)).toBe(true);
  const lease = (await observer.roomOwner(SESSION))!;
  dead.child.kill('SIGKILL');
  await dead.exited;
  nodes.splice(nodes.indexOf(dead), 1);
  return comeBackAll(dead, lease.token);
}

/** After `dead` was killed: everyone back at a surviving node, which took the room. */
async function comeBackAll(dead: ServerProcess, deadToken: number): Promise<{ dead: ServerProcess; owner: ServerProcess }> {
  await waitFor(() => [chair, ...heads].every((c) => !c.socket.connected), { what: 'every connection to the dead owner to drop' });
  // The first to come back waits for the lease to expire; the room is then a survivor's.
  await waitFor(() => comeBack(chair, nodes[0]!.url).then(() => true), { timeoutMs: 30_000, what: 'the chair back after the lease expired' });
  const owner = nodeAt(chair.url)!;
  expect(owner).toBeDefined();
  for (let i = 0; i < N; i += 10) await Promise.all(heads.slice(i, i + 10).map((h) => comeBack(h, owner.url)));
  const moved = (await observer.roomOwner(SESSION))!;
  expect(moved.token).toBeGreaterThan(deadToken);
  expect(heads.every((h) => h.url === owner.url)).toBe(true);
  return { dead, owner };
}

/** Each delegate back in the room is told its entity's vote: cast (with its position unless secret), or not. */
async function expectOwnVotesAfterFailover(voteId: string, castBefore: number, own: (i: number) => VoteState['ownEntity']): Promise<void> {
  await waitFor(() => heads.every((h) => received(h, 'voteState').length > 0), { what: 'every delegate told the vote state on coming back' });
  heads.forEach((h, i) => {
    const state = received(h, 'voteState')[0] as VoteState;
    expect(state.vote, h.email).toMatchObject({ voteId, status: 'open', cast: castBefore, entitled: N });
    expect(state.ownEntity, h.email).toEqual(own(i));
  });
}

/** The vote was closed by `node` (its log says so; stdout is read as it comes). */
const closedBy = (node: ServerProcess, voteId: string) => waitFor(() => node.logs.some((l) => l.msg === 'vote closed' && l.voteId === voteId), { what: `${voteId} closed by the new owner` });

const castRows = (voteId: string) =>
  postgres.withClient(async (c) => (await c.query<{ entity: string }>('select entity from vote_casts where vote_id = $1 order by entity', [voteId])).rows.map((r) => r.entity));

beforeAll(async () => {
  [redis, postgres] = await Promise.all([RedisProcess.start(), PostgresProcess.start()]);
  key = rsaKey('vote-failover');
  jwks = await JwksServer.start([key]);
  // One after the other: the first migrates and seeds the demo event, the second finds it done.
  await spawnNode();
  await spawnNode();
  observer = new RedisCoordinator('observer', { kind: 'url', url: redis.url }, testLog);
  await observer.ready();
  await waitFor(async () => (await observer.liveNodes()).length === 2, { what: 'two live nodes' });

  const rows = Array.from({ length: N }, (_, i) => `${DEMO_EVENT_ID},fh-${i},Head ${i},${email(i)},${entity(i)},member_state,,head_of_delegation,,approved,,`);
  const imported = await fetch(`${nodes[0]!.url}/api/admin/events/${DEMO_EVENT_ID}/registrations/import`, {
    method: 'POST',
    headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'text/csv' },
    body: [CSV_HEADER, ...rows].join('\n'),
  });
  expect(imported.status).toBe(200);
  // The other node admits them too once the registry's change reached it.
  await waitFor(
    async () => {
      const res = await fetch(`${nodes[1]!.url}/api/join`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ identityToken: idToken(key, { email: email(N - 1), name: 'x' }), sessionId: SESSION }),
      });
      return res.status === 200;
    },
    { what: 'the imported registrations admitted on the second node' },
  );

  chair = await signInAndJoin(nodes[0]!.url, CHAIR);
  for (let i = 0; i < N; i += 10) heads.push(...(await Promise.all(Array.from({ length: 10 }, (_, k) => signInAndJoin(nodes[0]!.url, email(i + k))))));
  expect(heads.every((h) => h.url === chair.url)).toBe(true);
}, 180_000);

afterAll(async () => {
  for (const s of allSockets) s.close();
  await observer?.close();
  for (const n of spawned) n.child.kill('SIGKILL');
  await Promise.all(spawned.map((n) => n.exited));
  await jwks?.close();
  await redis?.kill();
  await postgres?.stop();
});

describe('votes: the room owner is killed (SIGKILL) in the middle of a vote', () => {
  it('a recorded vote: every vote cast before the failover is kept, told to its delegate, and counted with those cast after', async () => {
    const positions = ['yes', 'no', 'abstain'] as const;
    const position = (i: number) => positions[i % 3]!;
    const vote = await open({ question: 'Adopt the report?', kind: 'recorded', durationSeconds: 3600 });
    expect(vote).toMatchObject({ entitled: N, cast: 0 });
    for (let i = 0; i < N / 2; i++) await castOk(heads[i]!, vote.voteId, { position: position(i) });
    expect(await castRows(vote.voteId)).toHaveLength(N / 2);

    const { owner } = await failover();
    await expectOwnVotesAfterFailover(vote.voteId, N / 2, (i) => (i < N / 2 ? { voted: true, position: position(i) } : { voted: false }));
    const asked = await call<VoteState>(heads[4]!.socket, 'getVoteState', {});
    expect(asked.ok && asked.data.ownEntity).toEqual({ voted: true, position: position(4) });
    // An entity that voted before the failover cannot vote again at the new owner.
    await expectCode(heads[3]!, 'castVote', { voteId: vote.voteId, ballot: { position: 'yes' } }, 'VOTE_ALREADY_CAST');
    for (let i = N / 2; i < N; i++) await castOk(heads[i]!, vote.voteId, { position: position(i) });
    await expectCode(heads[N - 1]!, 'castVote', { voteId: vote.voteId, ballot: { position: 'no' } }, 'VOTE_ALREADY_CAST');

    const closed = await call<{ vote: VoteView }>(chair.socket, 'closeVote', { voteId: vote.voteId });
    if (!closed.ok) throw new Error(closed.error.code);
    const result = closed.data.vote.result;
    if (result?.kind !== 'recorded') throw new Error(`not a recorded result: ${JSON.stringify(result)}`);
    expect(result.totals).toEqual({ yes: 7, no: 7, abstain: 6 });
    expect(result.notVoting).toEqual([]);
    expect(Object.fromEntries(result.byEntity.map((v) => [v.entity, v.position]))).toEqual(Object.fromEntries(heads.map((_, i) => [entity(i), position(i)])));
    await waitFor(() => heads.every((h) => received(h, 'voteClosed').length === 1), { what: 'every delegate told the result by the new owner' });
    expect(await castRows(vote.voteId)).toEqual(heads.map((_, i) => entity(i)).sort());
    await closedBy(owner, vote.voteId);
  }, 180_000);

  it('a secret ballot: ballots sealed at the dead owner are opened and counted at the new one, with those cast there', async () => {
    await spawnNode();
    await waitFor(async () => (await observer.liveNodes()).length === nodes.length, { what: 'a fresh node live' });
    const candidates = ['Candidate Arborea', 'Candidate Borealis', 'Candidate Caldera'];
    const choice = (i: number) => (i % 4 === 0 ? [candidates[0]!, candidates[1]!] : i % 4 === 1 ? [candidates[1]!] : i % 4 === 2 ? [candidates[2]!, candidates[0]!] : []);
    const vote = await open({ question: 'Election of two Vice-Chairs', kind: 'secret', candidates, seats: 2, durationSeconds: 3600 });
    for (let i = 0; i < N / 2; i++) await castOk(heads[i]!, vote.voteId, { candidates: choice(i) });
    const sealed = await postgres.withClient(async (c) => (await c.query('select 1 from vote_ballots where vote_id = $1', [vote.voteId])).rowCount);
    expect(sealed).toBe(N / 2);

    // The first half was sealed by the owner killed now (every head is connected to it), the count is the next's.
    const { owner } = await failover();
    // Secret: the delegate learns that the entity voted, never how.
    await expectOwnVotesAfterFailover(vote.voteId, N / 2, (i) => ({ voted: i < N / 2 }));
    await expectCode(heads[0]!, 'castVote', { voteId: vote.voteId, ballot: { candidates: [candidates[2]!] } }, 'VOTE_ALREADY_CAST');
    for (let i = N / 2; i < N; i++) await castOk(heads[i]!, vote.voteId, { candidates: choice(i) });

    const closed = await call<{ vote: VoteView }>(chair.socket, 'closeVote', { voteId: vote.voteId });
    if (!closed.ok) throw new Error(`${closed.error.code} ${closed.error.message}`);
    // i % 4 over 0..19: five of each ballot.
    expect(closed.data.vote.result).toEqual({
      kind: 'secret',
      ballots: N,
      abstentions: 5,
      byCandidate: [
        { candidate: candidates[0], votes: 10 },
        { candidate: candidates[1], votes: 10 },
        { candidate: candidates[2], votes: 5 },
      ],
      elected: [candidates[0], candidates[1]],
      tied: [],
    });
    await closedBy(owner, vote.voteId);
    // Counted, the sealed ballots are gone.
    expect(await postgres.withClient(async (c) => (await c.query('select 1 from vote_ballots where vote_id = $1', [vote.voteId])).rowCount)).toBe(0);
  }, 180_000);

  it("the vote's timer runs out at the new owner: it closes the vote with nobody closing it, counting the votes cast before the failover", async () => {
    await spawnNode();
    await waitFor(async () => (await observer.liveNodes()).length === nodes.length, { what: 'a fresh node live' });
    // The shortest timer the protocol admits.
    const vote = await open({ question: 'Close the list of speakers?', kind: 'recorded', durationSeconds: 10 });
    const cast = 5;
    for (let i = 0; i < cast; i++) await castOk(heads[i]!, vote.voteId, { position: 'yes' });

    const { owner } = await failover();
    // Back before its time ran out (a failover takes a few seconds, the timer ten): the vote is still open here.
    await waitFor(() => received(chair, 'voteState').length > 0, { what: 'the chair told the open vote on coming back' });
    expect(received(chair, 'voteState')[0]).toMatchObject({ vote: { voteId: vote.voteId, status: 'open', cast } });
    // Nobody closes it: the new owner's timer does, and tells everyone now connected to it.
    const closedEvent = await waitFor(() => received(chair, 'voteClosed')[0] as VoteView | undefined, { timeoutMs: 30_000, what: 'voteClosed from the new owner' });
    expect(closedEvent).toMatchObject({ voteId: vote.voteId, status: 'closed', cast });
    await waitFor(() => heads.every((h) => received(h, 'voteClosed').length === 1), { what: 'every delegate told the result' });
    const result = closedEvent.result;
    if (result?.kind !== 'recorded') throw new Error(`not a recorded result: ${JSON.stringify(result)}`);
    expect(result.totals).toEqual({ yes: cast, no: 0, abstain: 0 });
    expect(result.byEntity.map((v) => v.entity).sort()).toEqual(heads.slice(0, cast).map((_, i) => entity(i)));
    expect([...result.notVoting].sort()).toEqual(heads.slice(cast).map((_, i) => entity(cast + i)));
    await closedBy(owner, vote.voteId);
    await expectCode(heads[cast]!, 'castVote', { voteId: vote.voteId, ballot: { position: 'no' } }, 'VOTE_CLOSED');
  }, 180_000);

  it("a timer that runs out while no node owns the room: the new owner closes the vote on taking the room, and whoever comes back is told the result", async () => {
    await spawnNode();
    await waitFor(async () => (await observer.liveNodes()).length === nodes.length, { what: 'a fresh node live' });
    const vote = await open({ question: 'Suspend the meeting?', kind: 'recorded', durationSeconds: 10 });
    const cast = 7;
    for (let i = 0; i < cast; i++) await castOk(heads[i]!, vote.voteId, { position: i % 2 ? 'no' : 'yes' });
    const dead = nodeAt(chair.url)!;
    const lease = (await observer.roomOwner(SESSION))!;
    dead.child.kill('SIGKILL');
    await dead.exited;
    // Nobody comes back before the vote's time is up: no node serves the room when its timer runs out.
    await waitFor(() => Date.now() > vote.closesAt! + 500, { timeoutMs: 20_000, what: "the vote's time to run out" });
    nodes.splice(nodes.indexOf(dead), 1);
    const { owner } = await comeBackAll(dead, lease.token);
    for (const c of [chair, ...heads]) {
      const told = await waitFor(() => [...received(c, 'voteClosed'), ...received(c, 'voteState').map((s) => (s as VoteState).vote)].find((v) => (v as VoteView | null)?.voteId === vote.voteId && (v as VoteView).status === 'closed') as VoteView | undefined, {
        what: `${c.email} told the result`,
      });
      expect(told, c.email).toMatchObject({ status: 'closed', cast, result: { kind: 'recorded', totals: { yes: 4, no: 3, abstain: 0 } } });
    }
    await closedBy(owner, vote.voteId);
    // The session takes its next vote.
    const next = await open({ question: 'Resume the meeting?', kind: 'recorded' });
    expect(next).toMatchObject({ status: 'open', cast: 0 });
  }, 180_000);
});

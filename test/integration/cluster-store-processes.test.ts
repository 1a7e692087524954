import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import { post, requestJoinAs, signInAs } from '../helpers/accreditation-client.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { clusterNodeEnv } from '../helpers/cluster-env.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { call, connectFollowing } from '../helpers/signaling-client.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

// Two server processes, each with its own data directory, sharing one real PostgreSQL and one real
// redis-server: nothing but the database and the bus connects them. Black box only: HTTP, socket.io, and SQL
// on the shared database for the audit. The deadlines are the (one second for a change, two for a
// revocation); the periodic resynchronisation is far beyond them, so only the change notices can meet them.

const ADMIN_KEY = 'admin-api-key-for-the-process-cluster-0123456789';
const admin = { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY };
let redis: RedisProcess;
let postgres: PostgresProcess;
let a: ServerProcess;
let b: ServerProcess;
const sockets: Socket[] = [];

const env = (id: string) => clusterNodeEnv(id, { redisUrl: redis.url, databaseUrl: postgres.url }, { PLENUM_ADMIN_API_KEY: ADMIN_KEY, PLENUM_DEMO: 'true' });

beforeAll(async () => {
  [redis, postgres] = await Promise.all([RedisProcess.start(), PostgresProcess.start()]);
  // One after the other: the first migrates and seeds the demo, the second finds it done.
  a = await spawnServer(env('node-a'));
  b = await spawnServer(env('node-b'));
}, 90_000);
afterAll(async () => {
  for (const s of sockets) s.close();
  for (const n of [a, b]) n?.child.kill('SIGKILL');
  await Promise.all([a?.exited, b?.exited]);
  await redis?.kill();
  await postgres?.stop();
});

async function api(node: ServerProcess, method: string, path: string, body?: unknown) {
  const res = await fetch(`${node.url}/api/admin/events/${DEMO_EVENT_ID}${path}`, { method, headers: admin, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Creates a session through `node` and waits (one second) until `other` admits to it. */
async function createSession(node: ServerProcess, other: ServerProcess, sessionId: string): Promise<void> {
  expect((await api(node, 'PUT', `/sessions/${sessionId}`, { title: sessionId, lobby: false })).status).toBe(200);
  const identity = await signInAs(other.url, 'sofia.rossi@secretariat.example');
  await waitFor(async () => (await post(`${other.url}/api/join`, { identityToken: identity, sessionId })).body.decision === 'allow', {
    timeoutMs: 1000,
    what: `${sessionId} admitted to on the other node`,
  });
}

/**
 * Admitted through `startAt`, connects wherever the cluster places the room (following redirects) and joins
 * the media room. `owner` serves the room; `other` is the node the change is then made through.
 */
async function join(startAt: ServerProcess, email: string, sessionId: string): Promise<{ socket: Socket; owner: ServerProcess; other: ServerProcess }> {
  const answer = await requestJoinAs(startAt.url, email, sessionId);
  expect(answer.status).toBe(200);
  const { socket, url } = await connectFollowing(startAt.url, answer.body.joinToken);
  sockets.push(socket);
  const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
  if (!caps.ok) throw new Error(caps.error.code);
  const joined = await call(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities });
  if (!joined.ok) throw new Error(joined.error.code);
  const owner = [a, b].find((n) => n.url === url);
  if (!owner) throw new Error(`the room is served at ${url}, which is neither node`);
  return { socket, owner, other: owner === a ? b : a };
}

describe('cluster: two server processes with their own data directories, sharing PostgreSQL and Redis', () => {
  it('a session created through A is joined through B', async () => {
    const identity = await signInAs(b.url, 'brian.kamau@demo.ke');
    // Unknown everywhere before: refused.
    expect((await post(`${b.url}/api/join`, { identityToken: identity, sessionId: 'sp-created' })).body).toMatchObject({ decision: 'deny', reasons: ['SESSION_NOT_FOUND'] });
    expect((await api(a, 'PUT', '/sessions/sp-created', { title: 'Created on A', lobby: false })).status).toBe(200);
    const admitted = await waitFor(
      async () => {
        const res = await post(`${b.url}/api/join`, { identityToken: identity, sessionId: 'sp-created' });
        return res.status === 200 && res.body.decision === 'allow' ? res.body : undefined;
      },
      { timeoutMs: 1000, what: 'B to admit to the session created on A' },
    );
    // The join token B issued opens the room (wherever the cluster serves it).
    const { socket } = await connectFollowing(b.url, admitted.joinToken);
    sockets.push(socket);
    const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
    expect(caps.ok).toBe(true);
    const joined = await call<{ resumeToken: string }>(socket, 'join', { rtpCapabilities: caps.ok ? caps.data.rtpCapabilities : {} });
    expect(joined).toMatchObject({ ok: true });
  });

  it('a revocation through one node removes the person connected to the other (the room\'s node) within two seconds', async () => {
    await createSession(a, b, 'sp-revoke');
    // The cluster places a new room on the least loaded node: the change goes through the node that does not serve it.
    const { socket, owner, other } = await join(b, 'lena.vogel@acme-telecom.example', 'sp-revoke');
    expect(other.url).not.toBe(owner.url);
    const removed = nextEvent<[{ reason: string }]>(socket, 'removed', 2000);
    const res = await api(other, 'POST', '/registrations/p-sm-1/revoke', { status: 'revoked' });
    expect(res).toMatchObject({ status: 200, body: { registration: { status: 'revoked' } } });
    expect((await removed)[0]).toMatchObject({ reason: 'ACCREDITATION_REVOKED' });
    await waitFor(() => !socket.connected, { timeoutMs: 2000, what: 'the revoked person disconnected' });
    // And the owner no longer admits her.
    expect((await requestJoinAs(owner.url, 'lena.vogel@acme-telecom.example', 'sp-revoke').catch((e: Error) => ({ status: 0, body: { error: e.message } }))).body).not.toMatchObject({ decision: 'allow' });
  });

  it('a session closed through one node closes the room on the other (the room\'s node) within one second', async () => {
    await createSession(b, a, 'sp-close');
    const { socket, owner, other } = await join(a, 'amina.odhiambo@demo.ke', 'sp-close');
    expect(other.url).not.toBe(owner.url);
    const closed = nextEvent<[{ reason: string }]>(socket, 'roomClosed', 1000);
    const res = await api(other, 'POST', '/sessions/sp-close/lifecycle', { action: 'close' });
    expect(res).toMatchObject({ status: 200, body: { status: 'closed' } });
    expect((await closed)[0]).toEqual({ reason: 'SESSION_CLOSED' });
  });

  it('the audit records of joins through either node are in the one database, and either node pages all of them', async () => {
    const throughA = await requestJoinAs(a.url, 'beatriz.souza@demo.br', 'demo-plenary');
    const throughB = await requestJoinAs(b.url, 'haruto.sato@demo.jp', 'demo-plenary');
    expect([throughA.body.decision, throughB.body.decision]).toEqual(['allow', 'allow']);
    const rows = await waitFor(
      () =>
        postgres.withClient(async (c) => {
          const { rows } = await c.query<{ person_id: string; decision: string }>(
            `select person_id, decision from audit where event_id = $1 and session_id = 'demo-plenary' and person_id = any($2) order by id`,
            [DEMO_EVENT_ID, ['p-br-1', 'p-jp-1']],
          );
          return rows.length >= 2 ? rows : undefined;
        }),
      { timeoutMs: 2000, what: 'both join decisions in the shared audit table' },
    );
    expect(rows).toEqual([
      { person_id: 'p-br-1', decision: 'allow' },
      { person_id: 'p-jp-1', decision: 'allow' },
    ]);
    // Each node's audit API reads the one trail: both joins, whichever node decided them.
    for (const node of [a, b]) {
      const page = await api(node, 'GET', '/audit?sessionId=demo-plenary&decision=allow&limit=1000');
      const people = (page.body.records as Array<{ personId?: string }>).map((r) => r.personId);
      expect(people).toEqual(expect.arrayContaining(['p-br-1', 'p-jp-1']));
    }
  });
});

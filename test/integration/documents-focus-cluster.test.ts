import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { ServerEvents } from '../../protocol/signaling.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { requestJoinAs } from '../helpers/accreditation-client.js';
import { clusterNodeEnv } from '../helpers/cluster-env.js';
import { minimalPdf } from '../helpers/documents-fixtures.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { call, connectFollowing } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

// The live document focus in a cluster: two real nodes in this process sharing a real redis-server, a real
// PostgreSQL and one storage directory. The secretariat's POST …/documents/focus reaches the node that does
// NOT serve the room: it stores the focus and forwards the notice over the signed bus to the room's owner,
// whose clients get `documentFocus`. A session whose room is open nowhere answers all the same.

const ADMIN_KEY = 'admin-api-key-documents-focus-0123456789';
const admin = { 'x-api-key': ADMIN_KEY };
let redis: RedisProcess;
let postgres: PostgresProcess;
let a: MeetingServer;
let b: MeetingServer;
const sockets: Socket[] = [];

const documentsUrl = (server: MeetingServer, sessionId: string) => `${server.url}/api/admin/events/${DEMO_EVENT_ID}/sessions/${sessionId}/documents`;

beforeAll(async () => {
  [redis, postgres] = await Promise.all([RedisProcess.start(), PostgresProcess.start()]);
  const storage = mkdtempSync(joinPath(tmpdir(), 'plenum-focus-cluster-'));
  const env = (id: string) => clusterNodeEnv(id, { redisUrl: redis.url, databaseUrl: postgres.url }, { PLENUM_ADMIN_API_KEY: ADMIN_KEY, PLENUM_STORAGE_DIR: storage });
  a = await startTestServer(env('node-a'));
  b = await startTestServer(env('node-b'));
}, 120_000);
afterAll(async () => {
  for (const s of sockets) s.close();
  await a?.close();
  await b?.close();
  await redis?.kill();
  await postgres?.stop();
});

async function uploadThrough(server: MeetingServer, sessionId: string, title: string): Promise<string> {
  const res = await fetch(`${documentsUrl(server, sessionId)}?${new URLSearchParams({ title, language: 'en' })}`, { method: 'POST', headers: { ...admin, 'content-type': 'application/pdf' }, body: minimalPdf(title) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { document: { documentId: string } }).document.documentId;
}

async function focusThrough(server: MeetingServer, sessionId: string, documentId: string | null) {
  const res = await fetch(`${documentsUrl(server, sessionId)}/focus`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ documentId }) });
  return { status: res.status, body: (await res.json()) as { focus?: string | null } };
}

describe('cluster: the document focus reaches the node serving the room', () => {
  it('set through the other node, heard by the room on its owner', async () => {
    const session = 'demo-plenary';
    const answer = await requestJoinAs(a.url, 'camille.durand@demo.fr', session);
    expect(answer.status).toBe(200);
    const { socket, url } = await connectFollowing(a.url, answer.body.joinToken);
    sockets.push(socket);
    const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
    if (!caps.ok) throw new Error(caps.error.code);
    expect((await call(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities })).ok).toBe(true);
    const owner = url === a.url ? a : b;
    const other = owner === a ? b : a;
    expect(other.rooms.get(session)).toBeUndefined();

    const documentId = await uploadThrough(other, session, 'Cluster draft');
    const heard = nextEvent<[ServerEvents['documentFocus']]>(socket, 'documentFocus', 5000);
    const res = await focusThrough(other, session, documentId);
    expect(res).toMatchObject({ status: 200, body: { focus: documentId } });
    expect((await heard)[0].documentId).toBe(documentId);
    // Stored once, read by either node.
    await waitFor(async () => ((await (await fetch(documentsUrl(owner, session), { headers: admin })).json()) as { focus: string | null }).focus === documentId, { what: 'the focus on the owner' });
  });

  it('a session whose room is open nowhere: the focus is stored and answered', async () => {
    const session = 'demo-with-lobby';
    expect(a.rooms.get(session) ?? b.rooms.get(session)).toBeUndefined();
    const documentId = await uploadThrough(b, session, 'Nobody here yet');
    expect(await focusThrough(b, session, documentId)).toMatchObject({ status: 200, body: { focus: documentId } });
  });
});

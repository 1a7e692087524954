import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import { RedisCoordinator } from '../../server/cluster/redis-coordinator.js';
import { clusterNodeEnv } from '../helpers/cluster-env.js';
import { IDP_AUDIENCE, IDP_ISSUER, JwksServer, rsaKey, type SigningKey } from '../helpers/jwks-server.js';
import { testLog } from '../helpers/media.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { decodeAudio, discoveredDurationMs } from '../helpers/recorded-audio.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { connectAndJoin as connectAndJoinAs, signInAndJoin as signInAndJoinAs, type SessionClient } from '../helpers/session-clients.js';
import { call } from '../helpers/signaling-client.js';
import { waitFor } from '../helpers/wait.js';

// After a node failover the new owner continues the same recording. Two server processes share a real
// redis-server, a real PostgreSQL and one storage directory (as nodes share a volume). The secretariat
// starts recording through the API; the owner records the floor and the session's four language channels
// and marks a floor turn; the owner is killed (SIGKILL); the chair and the speaker come back at the other
// node, which takes the room and continues the same files. The secretariat stops the recording through the
// API of either node and downloads each channel: one file per channel, as long as the recording, with the
// failover as a gap in the index.

const ADMIN_KEY = 'admin-api-key-for-recording-failover-0123456';
const SESSION = 'demo-plenary';
const CHAIR = 'kwame.mensah@demo.gh';
const SPEAKER = 'amina.odhiambo@demo.ke';
const CHANNELS = ['ar', 'en', 'es', 'floor', 'fr'];

let redis: RedisProcess;
let postgres: PostgresProcess;
let key: SigningKey;
let jwks: JwksServer;
let observer: RedisCoordinator;
let storageDir: string;
const nodes: ServerProcess[] = [];
const nodeIds = new Map<ServerProcess, string>();
const sockets: Socket[] = [];

type Client = SessionClient;

const recordingStates = (c: Client) => c.events.filter((e) => e.event === 'recordingState').map((e) => e.data as { recording: boolean; since: number | null });

async function spawnNode(id: string): Promise<ServerProcess> {
  const node = await spawnServer(
    clusterNodeEnv(id, { redisUrl: redis.url, databaseUrl: postgres.url }, {
      PLENUM_DEMO: 'true',
      PLENUM_ADMIN_API_KEY: ADMIN_KEY,
      PLENUM_IDENTITY_ISSUER: IDP_ISSUER,
      PLENUM_IDENTITY_AUDIENCE: IDP_AUDIENCE,
      PLENUM_IDENTITY_JWKS_URL: jwks.url,
      PLENUM_STORAGE_DIR: storageDir,
      PLENUM_ROOM_LEASE_TTL_MS: '2000',
      PLENUM_HEARTBEAT_INTERVAL_MS: '300',
      PLENUM_NODE_STALE_AFTER_MS: '1500',
    }),
  );
  nodes.push(node);
  nodeIds.set(node, id);
  return node;
}

const connectAndJoin = (startAt: string, who: string, token: string): Promise<Client> => connectAndJoinAs(startAt, who, token, sockets);
const signInAndJoin = (startAt: string, address: string): Promise<Client> => signInAndJoinAs(startAt, address, key, SESSION, sockets);

const admin = (node: ServerProcess, path: string, init: RequestInit = {}) =>
  fetch(`${node.url}/api/admin/events/${DEMO_EVENT_ID}/sessions/${SESSION}${path}`, { ...init, headers: { 'x-api-key': ADMIN_KEY, ...init.headers } });

interface IndexEntry {
  kind: string;
  [key: string]: unknown;
}

beforeAll(async () => {
  storageDir = mkdtempSync(join(tmpdir(), 'plenum-recording-failover-'));
  [redis, postgres] = await Promise.all([RedisProcess.start(), PostgresProcess.start()]);
  key = rsaKey('recording-failover');
  jwks = await JwksServer.start([key]);
  await spawnNode('node-a');
  await spawnNode('node-b');
  observer = new RedisCoordinator('observer', { kind: 'url', url: redis.url }, testLog);
  await observer.ready();
  await waitFor(async () => (await observer.liveNodes()).length === 2, { what: 'two live nodes' });
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await observer?.close();
  for (const n of nodes) n.child.kill('SIGKILL');
  await Promise.all(nodes.map((n) => n.exited));
  await jwks?.close();
  await redis?.kill();
  await postgres?.stop();
  rmSync(storageDir, { recursive: true, force: true });
});

describe('recording across a node failover', () => {
  it('continues the same recording at the new owner, with the failover as a gap, and serves one file per channel', async () => {
    const chair = await signInAndJoin(nodes[0]!.url, CHAIR);
    const speaker = await signInAndJoin(chair.url, SPEAKER);
    const first = nodes.find((n) => n.url === chair.url)!;
    const survivor = nodes.find((n) => n !== first)!;

    // Started through the node that does NOT serve the room: the owner hears of it over the bus.
    const started = await admin(survivor, '/recording/start', { method: 'POST' });
    expect(started.status).toBe(201);
    const { recording } = (await started.json()) as { recording: { recordingId: string } };
    const id = recording.recordingId;
    await waitFor(() => first.logs.some((l) => l.msg === 'recording started' && l.recording === id), { what: 'the owner recording' });
    // Everyone in the room is told it is being recorded.
    for (const c of [chair, speaker]) await waitFor(() => recordingStates(c).some((s) => s.recording && s.since !== null), { what: `${c.email} told of the recording` });

    expect((await call(speaker.socket, 'requestFloor', {})).ok).toBe(true);
    const given = await call(chair.socket, 'giveFloor', { participantId: 'p-ke-1' });
    expect(given.ok).toBe(true);
    // Files on disk and in the store, growing (their rows are written every few seconds).
    await waitFor(
      async () => {
        const rows = (await postgres.withClient((c) => c.query<{ n: string }>('select count(*) as n from recording_files where recording_id = $1 and bytes > 0', [id]))).rows;
        return Number(rows[0]!.n) === CHANNELS.length;
      },
      { timeoutMs: 20_000, what: 'every channel written' },
    );

    const lease = (await observer.roomOwner(SESSION))!;
    first.child.kill('SIGKILL');
    await first.exited;
    await waitFor(() => !chair.socket.connected && !speaker.socket.connected, { what: 'both connections dropped' });
    let chairBack: Client | undefined;
    await waitFor(async () => (chairBack = await connectAndJoin(survivor.url, CHAIR, chair.resumeToken)), { timeoutMs: 30_000, what: 'the chair back after the lease expired' });
    const speakerBack = await connectAndJoin(survivor.url, SPEAKER, speaker.resumeToken);
    expect((await observer.roomOwner(SESSION))!.token).toBeGreaterThan(lease.token);
    await waitFor(() => survivor.logs.some((l) => l.msg === 'recording continued' && l.recording === id), { what: 'the new owner continuing the recording' });

    // The new owner's recorders write on (their file rows grow past the takeover), then the secretariat stops it.
    const continuedAt = Date.now() - (await postgres.withClient((c) => c.query<{ started_at: Date }>('select started_at from recordings where recording_id = $1', [id]))).rows[0]!.started_at.getTime();
    await waitFor(
      async () => {
        const rows = (await postgres.withClient((c) => c.query<{ end_ms: string }>("select end_ms from recording_files where recording_id = $1 and channel = 'floor'", [id]))).rows;
        return Number(rows[0]?.end_ms ?? 0) > continuedAt + 2000;
      },
      { timeoutMs: 20_000, what: "the new owner's files growing" },
    );
    // Whoever comes back is told again, by the new owner.
    await waitFor(() => recordingStates(speakerBack).some((s) => s.recording), { what: 'the speaker told of the recording at the new owner' });
    const stopped = await admin(survivor, '/recording/stop', { method: 'POST' });
    expect(stopped.status).toBe(200);
    for (const c of [chairBack!, speakerBack]) await waitFor(() => recordingStates(c).some((s) => !s.recording), { what: `${c.email} told the recording stopped` });
    const row = (await postgres.withClient((c) => c.query<{ started_at: Date; stopped_at: Date }>('select started_at, stopped_at from recordings where recording_id = $1', [id]))).rows[0]!;
    const recordedMs = row.stopped_at.getTime() - row.started_at.getTime();

    const index = await waitFor(
      async () => {
        const res = await admin(survivor, `/recordings/${id}`);
        const body = (await res.json()) as { files: Array<{ channel: string; part: number; startMs: number; endMs: number }>; entries: IndexEntry[] };
        return body.entries.some((e) => e.kind === 'recording' && e.action === 'stopped') ? body : undefined;
      },
      { what: 'the recording stopped at its owner' },
    );
    // One part per channel: the new owner went on in the same files.
    expect(index.files.map((f) => `${f.channel}/${f.part}`).sort()).toEqual(CHANNELS.map((c) => `${c}/1`));
    const gaps = index.entries.filter((e) => e.kind === 'gap');
    expect(new Set(gaps.map((g) => g.channel))).toEqual(new Set(CHANNELS));
    expect(gaps.every((g) => g.reason === 'failover')).toBe(true);
    const turn = index.entries.find((e) => e.kind === 'floor');
    expect(turn).toMatchObject({ personId: 'p-ke-1' });
    expect(index.entries.filter((e) => e.kind === 'recording').map((e) => [e.action, e.node])).toEqual([
      ['started', nodeIds.get(first)],
      ['continued', nodeIds.get(survivor)],
      ['stopped', nodeIds.get(survivor)],
    ]);

    for (const channel of CHANNELS) {
      const res = await admin(survivor, `/recordings/${id}/files/${channel}/1`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('audio/ogg');
      const path = join(storageDir, `download-${channel}.ogg`);
      writeFileSync(path, Buffer.from(await res.arrayBuffer()));
      const decodedMs = (await decodeAudio(path)).length / 48;
      const file = index.files.find((f) => f.channel === channel)!;
      // The file spans the whole recording, both nodes' parts and the failover between them.
      expect(Math.abs(decodedMs - (recordedMs - file.startMs)) / recordedMs, channel).toBeLessThan(0.02);
      expect(Math.abs((await discoveredDurationMs(path)) - decodedMs), channel).toBeLessThan(100);
    }
  });
});

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { VoteView } from '../../protocol/signaling.js';
import { IDP_AUDIENCE, IDP_ISSUER, JwksServer, rsaKey, type SigningKey } from '../helpers/jwks-server.js';
import { decodeAudio } from '../helpers/recorded-audio.js';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { connectAndJoin as connectAndJoinAs, signInAndJoin as signInAndJoinAs, type SessionClient } from '../helpers/session-clients.js';
import { call } from '../helpers/signaling-client.js';
import { waitFor } from '../helpers/wait.js';

// One server process on its embedded defaults. The session is set to record whenever it is open; the chair
// and a head of delegation join, a recorded vote is taken, then the media worker is killed (SIGKILL): the
// room closes, both come back, and the recording continues in the same files with the worker's death as a
// gap. The secretariat suspends and closes the session through the API; closing ends the recording. The
// meeting index holds the vote with its result, the lifecycle, the gap and the recording's own events.

const ADMIN_KEY = 'admin-api-key-for-recording-worker-01234567';
const SESSION = 'demo-plenary';
const CHAIR = 'kwame.mensah@demo.gh';
const HEAD = 'amina.odhiambo@demo.ke';
const AUDIO = ['ar', 'en', 'es', 'floor', 'fr'];

let key: SigningKey;
let jwks: JwksServer;
let server: ServerProcess;
let dataDir: string;
const sockets: Socket[] = [];

const connectAndJoin = (token: string): Promise<SessionClient> => connectAndJoinAs(server.url, 'rejoining', token, sockets);
const signInAndJoin = (address: string): Promise<SessionClient> => signInAndJoinAs(server.url, address, key, SESSION, sockets);

const admin = (path: string, init: RequestInit = {}) =>
  fetch(`${server.url}/api/admin/events/${DEMO_EVENT_ID}${path}`, { ...init, headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json', ...init.headers } });

/** The mediasoup workers of the server process (its children named mediasoup-worker). */
async function workerPids(): Promise<number[]> {
  const { stdout } = await promisify(execFile)('pgrep', ['-P', String(server.child.pid)]).catch(() => ({ stdout: '' }));
  return stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('mediasoup-work');
      } catch {
        return false;
      }
    });
}

interface Index {
  recording: { recordingId: string; startedBy: string; status: string; startedAt: string; stoppedAt: string | null };
  files: Array<{ channel: string; part: number; kind: string; startMs: number; endMs: number }>;
  entries: Array<{ kind: string; atMs: number; endMs: number | null; [key: string]: unknown }>;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'plenum-recording-worker-'));
  key = rsaKey('recording-worker');
  jwks = await JwksServer.start([key]);
  server = await spawnServer({
    PLENUM_DEV_MODE: 'false',
    PLENUM_DEMO: 'true',
    PLENUM_DATA_DIR: dataDir,
    PLENUM_ADMIN_API_KEY: ADMIN_KEY,
    PLENUM_IDENTITY_ISSUER: IDP_ISSUER,
    PLENUM_IDENTITY_AUDIENCE: IDP_AUDIENCE,
    PLENUM_IDENTITY_JWKS_URL: jwks.url,
    PLENUM_MEDIA_WORKERS: '1',
  });
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  server?.child.kill('SIGKILL');
  await server?.exited;
  await jwks?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a session that records whenever it is open', () => {
  it('records from the first join, survives a dead media worker in the same files, stays stopped when the secretariat stops it, and records again when the session reopens', async () => {
    // The secretariat sets the session to record whenever it is open, with a retention of 30 days.
    const sessions = (await (await admin('/sessions')).json()) as { sessions: Array<Record<string, unknown>> };
    const rules = { ...sessions.sessions.find((s) => s.sessionId === SESSION)! };
    delete rules.sessionId;
    delete rules.eventId;
    const saved = await admin(`/sessions/${SESSION}`, { method: 'PUT', body: JSON.stringify({ ...rules, recording: { auto: true, retentionDays: 30 } }) });
    expect(saved.status).toBe(200);

    const chair = await signInAndJoin(CHAIR);
    const head = await signInAndJoin(HEAD);
    await waitFor(() => server.logs.some((l) => l.msg === 'recording started'), { what: 'the recording started with the room' });

    // A recorded vote: its opening and its result go into the meeting index.
    const opened = await call<{ vote: VoteView }>(chair.socket, 'openVote', { question: 'Adopt the agenda?', kind: 'recorded', durationSeconds: 600 });
    if (!opened.ok) throw new Error(`openVote: ${opened.error.code} ${opened.error.message}`);
    const voteId = opened.data.vote.voteId;
    expect((await call(head.socket, 'castVote', { voteId, ballot: { position: 'yes' } })).ok).toBe(true);
    expect((await call(chair.socket, 'closeVote', { voteId })).ok).toBe(true);

    // Every channel's file is under way before the worker dies.
    const recordingsPath = `/sessions/${SESSION}/recordings`;
    await waitFor(
      async () => {
        const list = (await (await admin(recordingsPath)).json()) as { recordings: Array<{ files: Array<{ bytes: number }> }> };
        return list.recordings[0]?.files.filter((f) => f.bytes > 0).length === AUDIO.length;
      },
      { timeoutMs: 20_000, what: 'every channel written' },
    );

    const workers = await workerPids();
    expect(workers.length).toBe(1);
    process.kill(workers[0]!, 'SIGKILL');
    await waitFor(() => chair.events.some((e) => e.event === 'roomClosed') && head.events.some((e) => e.event === 'roomClosed'), { what: 'the room closed by the dead worker' });
    // Back as the SDK comes back, with the resume credential, once the pool has replaced the worker.
    await waitFor(() => server.logs.some((l) => l.msg === 'mediasoup worker started' && l.pid !== workers[0]), { timeoutMs: 20_000, what: 'a new worker' });
    await connectAndJoin(chair.resumeToken);
    await connectAndJoin(head.resumeToken);
    await waitFor(() => server.logs.some((l) => l.msg === 'recording continued' && l.resumed === 'worker-died'), { what: 'the recording continued after the worker died' });

    // The files grow on in the rebuilt room (their rows are written every few seconds) before the lifecycle moves.
    const listedFiles = async () => ((await (await admin(recordingsPath)).json()) as { recordings: Array<{ startedAt: string; files: Array<{ channel: string; endMs: number | null }> }> }).recordings[0]!;
    const first = await listedFiles();
    const continuedAt = Date.now() - Date.parse(first.startedAt);
    await waitFor(async () => ((await listedFiles()).files.find((f) => f.channel === 'floor')?.endMs ?? 0) > continuedAt + 1000, { timeoutMs: 20_000, what: 'the files growing after the worker died' });
    const lifecycle = async (action: string) => expect((await admin(`/sessions/${SESSION}/lifecycle`, { method: 'POST', body: JSON.stringify({ action }) })).status).toBe(200);
    type Listed = { recordingId: string; status: string; startedBy: string; stoppedBy: string | null };
    const listed = async () => ((await (await admin(recordingsPath)).json()) as { recordings: Listed[] }).recordings;
    const indexOf = async (id: string) => (await (await admin(`${recordingsPath}/${id}`)).json()) as Index;
    const ended = (i: Index) => i.entries.some((e) => e.kind === 'recording' && e.action === 'stopped');
    await lifecycle('suspend');

    // The secretariat stops it: a decision that holds, although the session records whenever open. The stop
    // answers once the room's owner has followed it, so no recording may be under way now.
    expect((await admin(`/sessions/${SESSION}/recording/stop`, { method: 'POST' })).status).toBe(200);
    const afterStop = await listed();
    expect(afterStop.map((r) => [r.status, r.stoppedBy])).toEqual([['stopped', 'admin-api-key']]);
    const index = await waitFor(async () => {
      const i = await indexOf(afterStop[0]!.recordingId);
      return ended(i) ? i : undefined;
    }, { what: 'the first recording finished at its owner' });

    // The session opens again: it records again, by itself; closing the session ends that recording.
    await lifecycle('resume');
    const second = await waitFor(async () => (await listed()).find((r) => r.status === 'recording'), { what: 'a new recording when the session opened again' });
    expect(second.startedBy).toBe('auto');
    await waitFor(() => server.logs.some((l) => l.msg === 'recording started' && l.recording === second.recordingId), { what: 'the second recording under way in the room' });
    await lifecycle('close');
    const secondIndex = await waitFor(async () => {
      const i = await indexOf(second.recordingId);
      return ended(i) ? i : undefined;
    }, { what: 'the second recording stopped with the session' });
    expect(secondIndex.recording).toMatchObject({ status: 'stopped', stoppedBy: 'session-closed' });
    expect(secondIndex.entries.map((e) => e.kind === 'session' ? `session ${String(e.status)}` : e.kind === 'recording' ? `recording ${String(e.action)}` : e.kind)).toEqual([
      'recording started',
      'session closed',
      'recording stopped',
    ]);

    expect(index.recording.startedBy).toBe('auto');
    const kinds = index.entries.map((e) => (e.kind === 'recording' ? `recording ${String(e.action)}` : e.kind === 'session' ? `session ${String(e.status)}` : e.kind));
    // In time order: started, the vote, the worker's gap and the continuation, the lifecycle, the end.
    expect(kinds.filter((k) => k !== 'gap')).toEqual(['recording started', 'vote-opened', 'vote-closed', 'recording continued', 'session suspended', 'recording stopped']);
    const closed = index.entries.find((e) => e.kind === 'vote-closed')!;
    expect(closed).toMatchObject({ voteId, question: 'Adopt the agenda?' });
    expect(JSON.stringify(closed.result)).toContain('Kenya');
    const gaps = index.entries.filter((e) => e.kind === 'gap');
    expect(new Set(gaps.map((g) => g.channel))).toEqual(new Set(AUDIO));
    expect(gaps.every((g) => g.reason === 'worker-died' && (g.endMs ?? 0) > g.atMs)).toBe(true);

    // One part per channel: the same files went on after the worker died, as long as the recording.
    const audio = index.files.filter((f) => f.kind === 'audio');
    expect(audio.map((f) => `${f.channel}/${f.part}`).sort()).toEqual(AUDIO.map((c) => `${c}/1`));
    const recordedMs = new Date(index.recording.stoppedAt!).getTime() - new Date(index.recording.startedAt).getTime();
    for (const file of audio) {
      const res = await admin(`${recordingsPath}/${index.recording.recordingId}/files/${file.channel}/1`);
      expect(res.status).toBe(200);
      const path = join(dataDir, `download-${file.channel}.ogg`);
      writeFileSync(path, Buffer.from(await res.arrayBuffer()));
      const decodedMs = (await decodeAudio(path)).length / 48;
      expect(Math.abs(decodedMs - (recordedMs - file.startMs)) / recordedMs, file.channel).toBeLessThan(0.02);
    }
  });
});

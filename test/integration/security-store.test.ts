// An attacker's review of the system of record's surfaces (issue 11): the conduct routes on the database
// (attendance pages and CSV, summary, quorum, floor, speakers), floor commands forwarded over the bus,
// change notices between nodes, the webhook outbox, and the store itself. Real in-process servers, real
// signed tokens and sockets, the real embedded engine and a real PostgreSQL server.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { FloorState } from '../../protocol/signaling.js';
import { BusRequestError } from '../../server/cluster/cluster-bus.js';
import { OwnerWrites } from '../../server/cluster/owner-writes.js';
import { WebhookOutbox } from '../../server/conduct/webhook-outbox.js';
import { TranscriptStore } from '../../server/interpretation/transcript-store.js';
import { createLogger } from '../../server/logger.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { EmbeddedEngine } from '../../store/embedded-engine.js';
import { isTransient } from '../../store/transient.js';
import { joinedSocket, post, signInAs } from '../helpers/accreditation-client.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { call, connectSignaling } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { httpRequest } from '../helpers/http-client.js';

const ADMIN_KEY = 'admin-api-key-admin-api-key-0123456789';
const SOFIA = 'sofia.rossi@secretariat.example';
const BRIAN = 'brian.kamau@demo.ke';
const EVENT_B = 'event-b';
const B_CODE = 'event-b-code-12345';
const apiKey = { 'x-api-key': ADMIN_KEY };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const silent = createLogger('silent');

interface Answer {
  status: number;
  text: string;
  body: Record<string, unknown>;
  headers: Headers;
}

async function http(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = apiKey): Promise<Answer> {
  const res = await httpRequest(method, `${base}${path}`, body, headers);
  return { status: res.status, text: res.text, body: res.json ?? {}, headers: res.headers };
}

/** What every refusal must look like: a stable code and a short message, nothing else (no stack, no SQL). */
function expectCleanError(res: Answer, status: number, code: string): void {
  expect([res.status, res.body.error && (res.body.error as { code: string }).code]).toEqual([status, code]);
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(Object.keys(res.body.error as object).sort()).toEqual(['code', 'message']);
  expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+|SQLSTATE|ECONNREFUSED|relation|attendance\b.*\bwhere|select |insert |postgres|pglite|kysely/i);
}

describe('security: the system of record (issue 11)', () => {
  let server: MeetingServer;
  const sockets: Socket[] = [];
  const demo = `/api/admin/events/${DEMO_EVENT_ID}`;
  const eventB = `/api/admin/events/${EVENT_B}`;
  const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => http(server.url, method, path, body, headers);

  /** A person of event B, signed in with B's code, joined to B's room. */
  async function joinB(email: string): Promise<Socket> {
    const signIn = await post(`${server.url}/api/auth/sign-in`, { email, accessCode: B_CODE, eventId: EVENT_B });
    expect(signIn.status).toBe(200);
    const answer = await post(`${server.url}/api/join`, { identityToken: signIn.body.identityToken, sessionId: 'b-room' });
    expect(answer.status).toBe(200);
    const socket = await connectSignaling(server.url, answer.body.joinToken);
    sockets.push(socket);
    const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
    expect((await call(socket, 'join', { rtpCapabilities: caps.ok ? caps.data.rtpCapabilities : {} })).ok).toBe(true);
    return socket;
  }
  const joinDemo = async (email: string, sessionId: string) => {
    const s = await joinedSocket(server.url, email, sessionId);
    sockets.push(s);
    return s;
  };
  const registration = (email: string, role: string) => ({ name: email, email, entity: { name: 'Event B people', type: 'other' }, role, status: 'approved', accessCode: B_CODE });

  beforeAll(async () => {
    server = await startTestServer({ PLENUM_DEV_MODE: 'false', PLENUM_ADMIN_API_KEY: ADMIN_KEY, PLENUM_REVALIDATE_INTERVAL_SECONDS: '0' });
    expect((await api('PUT', `${eventB}/sessions/b-room`, { title: 'B room', lobby: false })).status).toBe(200);
    expect((await api('PUT', `${eventB}/registrations/b-sec`, registration('sec@event-b.example', 'secretariat'))).status).toBe(200);
    expect((await api('PUT', `${eventB}/registrations/b-del`, registration('del@event-b.example', 'delegate'))).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await server?.close();
  });

  it('store 1: every new route refuses malformed params, query and bodies with BAD_REQUEST, and a speaker id must have the id format', async () => {
    const attendance = `${demo}/sessions/demo-plenary/attendance`;
    for (const query of ['cursor=abc', 'cursor=-1', 'cursor=1e5', `cursor=${'9'.repeat(40)}`, 'cursor[a]=1', 'limit=-1', 'limit=0', 'limit=1.5', 'limit=100000000', 'limit=abc', 'limit=1&limit=2', 'presence=ghost', 'presence[]=listener', 'format=xml', 'extra=1']) {
      const res = await api('GET', `${attendance}?${query}`);
      expect.soft([query, res.status]).toEqual([query, 400]);
      expectCleanError(res, 400, 'BAD_REQUEST');
    }
    for (const path of [`${demo}/sessions/bad%20id/attendance`, `${demo}/sessions/${'x'.repeat(65)}/attendance/summary`, `${demo}/sessions/..%2F/quorum`]) expectCleanError(await api('GET', path), 400, 'BAD_REQUEST');
    const speakers = `${demo}/sessions/demo-plenary/speakers`;
    for (const body of [{}, { personId: 5 }, { personId: 'p-ke-2', kind: 'filibuster' }, { personId: 'p-ke-2', extra: true }, ['p-ke-2'], { personId: '' }, { personId: 'x'.repeat(129) }, { personId: '<script>alert(1)</script>' }, { personId: 'a\nb' }]) {
      const res = await api('POST', speakers, body);
      expect.soft([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 400]);
      expectCleanError(res, 400, 'BAD_REQUEST');
    }
    expectCleanError(await api('POST', speakers, '{"personId":', { ...apiKey, 'content-type': 'application/json' }), 400, 'BAD_REQUEST');
    expectCleanError(await api('POST', speakers, JSON.stringify({ personId: 'x'.repeat(20_000) }), { ...apiKey, 'content-type': 'application/json' }), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('store 2: a secretariat of another event reads and changes nothing of this one (attendance, CSV, summary, quorum, floor, speakers); a cursor never reaches another session', async () => {
    await joinB('del@event-b.example');
    await waitFor(async () => ((await api('GET', `${eventB}/sessions/b-room/attendance`)).body.attendance as unknown[]).length === 1, { timeoutMs: 5000 });
    const sofia = bearer(await signInAs(server.url, SOFIA));
    const bSecretariat = bearer((await post(`${server.url}/api/auth/sign-in`, { email: 'sec@event-b.example', accessCode: B_CODE, eventId: EVENT_B })).body.identityToken as string);
    const reads: Array<[string, string, unknown?]> = [
      ['GET', '/attendance'],
      ['GET', '/attendance?format=csv'],
      ['GET', '/attendance?presence=listener&limit=5'],
      ['GET', '/attendance/summary'],
      ['GET', '/quorum'],
      ['GET', '/floor'],
      ['POST', '/speakers', { personId: 'b-del' }],
    ];
    for (const [method, path, body] of reads) {
      expectCleanError(await api(method, `${demo}/sessions/b-room${path}`, body, sofia), 404, 'NOT_FOUND');
      expectCleanError(await api(method, `${demo}/sessions/b-room${path}`, body, apiKey), 404, 'NOT_FOUND');
      expectCleanError(await api(method, `${eventB}/sessions/demo-plenary${path}`, body, bSecretariat), 404, 'NOT_FOUND');
      expectCleanError(await api(method, `${eventB}/sessions/b-room${path}`, body, sofia), 403, 'FORBIDDEN');
    }
    // B's own secretariat sees B's row; a cursor below it, used on A's session, shows none of B's rows.
    const own = await api('GET', `${eventB}/sessions/b-room/attendance?limit=1`, undefined, bSecretariat);
    expect(own.body.attendance).toEqual([expect.objectContaining({ personId: 'b-del' })]);
    const page = await api('GET', `${demo}/sessions/demo-plenary/attendance?cursor=0&limit=10000`, undefined, sofia);
    expect(page.status).toBe(200);
    expect(JSON.stringify(page.body)).not.toContain('b-del');
    expect((await api('GET', `${eventB}/sessions/b-room/floor`)).body).toMatchObject({ queue: [] });
  });

  it('store 3: only the secretariat adds speakers, only people present in that room, and never someone removed', async () => {
    const brian = await joinDemo(BRIAN, 'demo-plenary');
    await joinDemo(SOFIA, 'demo-plenary').then(async (sofiaSocket) => {
      const delegate = bearer(await signInAs(server.url, BRIAN));
      expectCleanError(await api('POST', `${demo}/sessions/demo-plenary/speakers`, { personId: 'p-ke-2' }, delegate), 403, 'FORBIDDEN');
      // Someone of another room (B's delegate is in b-room) is not a participant here.
      expectCleanError(await api('POST', `${demo}/sessions/demo-plenary/speakers`, { personId: 'b-del' }), 404, 'NOT_FOUND');
      // The positive control: present, added.
      const added = await api('POST', `${demo}/sessions/demo-plenary/speakers`, { personId: 'p-ke-2' }, bearer(await signInAs(server.url, SOFIA)));
      expect(added.status).toBe(200);
      expect((added.body.floor as FloorState).queue.map((e) => e.id)).toEqual(['p-ke-2']);
      // Removed: gone from the room, and not to be put back on the list through the API.
      const removed = new Promise((resolve) => brian.once('removed', resolve));
      expect((await call(sofiaSocket, 'removeParticipant', { participantId: 'p-ke-2' })).ok).toBe(true);
      await removed;
      await waitFor(() => !server.rooms.get('demo-plenary')?.participants.has('p-ke-2'), { timeoutMs: 5000 });
      expectCleanError(await api('POST', `${demo}/sessions/demo-plenary/speakers`, { personId: 'p-ke-2', kind: 'point_of_order' }), 404, 'NOT_FOUND');
    });
  });

  it('store 4: the owner re-validates a forwarded speaker request: event of the session, person in the room, strict params', async () => {
    const self = server.bus.nodeId;
    const refusal = (params: unknown) =>
      server.bus.request(self, 'floor.addSpeaker', params).then(
        () => 'accepted',
        (error: unknown) => (error instanceof BusRequestError ? error.code : String(error)),
      );
    // A crafted request naming event A for B's session (whose delegate is present there): refused.
    expect(await refusal({ sessionId: 'b-room', personId: 'b-del', kind: 'speaker', eventId: DEMO_EVENT_ID })).toBe('NOT_FOUND');
    // One that names no event at all (or junk) is malformed.
    expect(await refusal({ sessionId: 'b-room', personId: 'b-del', kind: 'speaker' })).toBe('BAD_REQUEST');
    expect(await refusal({ sessionId: 'b-room', personId: 'b-del', kind: 'speaker', eventId: EVENT_B, extra: 1 })).toBe('BAD_REQUEST');
    expect(await refusal({ sessionId: 'b-room', personId: '../../x', kind: 'speaker', eventId: EVENT_B })).toBe('BAD_REQUEST');
    expect(server.rooms.get('b-room')!.floor.state().queue).toEqual([]);
    // The request as the HTTP route makes it, for the right event, is applied.
    expect(await refusal({ sessionId: 'b-room', personId: 'b-del', kind: 'speaker', eventId: EVENT_B })).toBe('accepted');
    expect(server.rooms.get('b-room')!.floor.state().queue.map((e) => e.id)).toEqual(['b-del']);
  });

  it('store 5: a flood of change notices re-reads each session at most twice at a time, and too many distinct ones become one resync', async () => {
    const sessions = server.accreditation.service.sessions;
    // Every database read the notices cause, to wait for them all to settle.
    const reads: Array<Promise<unknown>> = [];
    const originalReload = sessions.reload.bind(sessions);
    const originalReloadAll = sessions.reloadAll.bind(sessions);
    const reload = vi.spyOn(sessions, 'reload').mockImplementation((id: string) => {
      const p = originalReload(id);
      reads.push(p);
      return p;
    });
    const reloadAll = vi.spyOn(sessions, 'reloadAll').mockImplementation(() => {
      const p = originalReloadAll();
      reads.push(p);
      return p;
    });
    const settled = async () => {
      const n = reads.length;
      await Promise.allSettled(reads);
      return reads.length === n;
    };
    let seen = 0;
    const unsubscribe = await server.bus.subscribe('store-changes', () => (seen += 1));
    try {
      // Malformed and oversized notices: dropped, no read.
      const junk = [{ kind: 'session', from: 'forged', sessionId: 'x'.repeat(10_000) }, { kind: 'drop-table' }, { kind: 'session', from: 'forged', sessionId: 'demo-plenary', sql: 'x' }, 'session', null];
      for (const j of junk) await server.bus.publish('store-changes', j);
      await waitFor(() => seen === junk.length, { timeoutMs: 5000 });
      expect(reload).not.toHaveBeenCalled();

      const same = 300;
      for (let i = 0; i < same; i++) await server.bus.publish('store-changes', { kind: 'session', from: 'node-x', sessionId: 'demo-plenary' });
      await waitFor(() => seen === junk.length + same, { timeoutMs: 10_000 });
      await waitFor(settled, { timeoutMs: 10_000 });
      expect(reload.mock.calls.length).toBeGreaterThanOrEqual(1);
      expect(reload.mock.calls.length).toBeLessThanOrEqual(2);

      reload.mockClear();
      const distinct = 2000;
      for (let i = 0; i < distinct; i++) await server.bus.publish('store-changes', { kind: 'session', from: 'node-x', sessionId: `ghost-${i}` });
      await waitFor(() => seen === junk.length + same + distinct, { timeoutMs: 20_000 });
      await waitFor(settled, { timeoutMs: 20_000 });
      expect(reload.mock.calls.length).toBeLessThanOrEqual(200);
      expect(reloadAll).toHaveBeenCalled();
    } finally {
      await unsubscribe();
      reload.mockRestore();
      reloadAll.mockRestore();
    }
  });

  it('store 6: the attendance CSV of a huge session is streamed page by page, not built in memory', async () => {
    const rows = 12_000;
    const values = Array.from({ length: rows }, (_, i) => ({
      event_id: DEMO_EVENT_ID,
      session_id: 'demo-with-lobby',
      person_id: `bulk-${i}`,
      name: `Bulk ${i}`,
      entity: 'Kenya',
      entity_type: 'member_state',
      role: 'delegate',
      presence: 'participant',
      node_id: 'bulk',
      epoch: 0,
      joined_at: new Date(),
    }));
    for (let i = 0; i < rows; i += 2000) await server.store.db.insertInto('attendance').values(values.slice(i, i + 2000)).execute();
    const res = await fetch(`${server.url}${demo}/sessions/demo-with-lobby/attendance?format=csv`, { headers: apiKey });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    // Streamed: chunked, no length known up front.
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    const lines = (await res.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('personId,name,entity,entityType,role,from,to');
    expect(lines.length).toBe(rows + 1);
    expect(lines[1]).toMatch(/^bulk-0,Bulk 0,/);
    expect(lines[rows]).toMatch(new RegExp(`^bulk-${rows - 1},`));
  });

  it('store 7: an outgoing webhook body is bounded: an oversized event is not queued', async () => {
    const outbox = new WebhookOutbox(server.store.db, 'test-node', { url: 'http://127.0.0.1:9/', secret: 's'.repeat(32), attempts: 1, backoffMs: 10, timeoutMs: 100, pollMs: 60_000, retentionMs: 3_600_000, queueRetryMs: 0 }, silent);
    outbox.send('participant.joined', { sessionId: 'demo-plenary', name: 'n'.repeat(2_000_000) });
    outbox.send('participant.left', { sessionId: 'demo-plenary', name: 'ordinary' });
    await outbox.drain();
    const bodies = await server.store.db.selectFrom('webhook_outbox').select(['type', 'body']).execute();
    expect(Math.max(...bodies.map((b) => b.body.length))).toBeLessThan(70_000);
    expect(bodies.map((b) => b.type)).toContain('participant.left');
    expect(bodies.map((b) => b.type)).not.toContain('participant.joined');
  });

  it('store 8: the transcript byte cap holds under parallel caption writes', async () => {
    const owners = new OwnerWrites(server.store.db, (roomId) => ({ roomId, nodeId: 'caption-node', epoch: 1 }));
    const maxBytes = 4000;
    const transcripts = new TranscriptStore(owners, maxBytes);
    const line = { at: Date.now(), by: 'p-cap-1', text: 'x'.repeat(60) };
    const outcomes = await Promise.allSettled(Array.from({ length: 300 }, () => transcripts.append('cap-room', 'en', line)));
    const written = outcomes.filter((o) => o.status === 'fulfilled').length;
    expect(outcomes.filter((o) => o.status === 'rejected').every((o) => (o as PromiseRejectedResult).reason.code === 'LIMIT_REACHED')).toBe(true);
    const stored = await server.store.db.selectFrom('transcripts').select(['text', 'by_person']).where('session_id', '=', 'cap-room').execute();
    expect(stored.length).toBe(written);
    expect(stored.reduce((n, r) => n + r.text.length + r.by_person.length + 32, 0)).toBeLessThanOrEqual(maxBytes);
    expect(written).toBeGreaterThan(0);
  });

  it('store 9: a stopped embedded engine answers with a retryable "unavailable" error, not an opaque one', async () => {
    const engine = await EmbeddedEngine.start(mkdtempSync(join(tmpdir(), 'plenum-engine-')));
    expect((await engine.query('select 1 as one', [])).rows).toEqual([{ one: 1 }]);
    await engine.close();
    const error = await engine.query('select 1', []).catch((e: unknown) => e);
    expect(isTransient(error)).toBe(true);
  });
});

describe('security: the system of record when the database is down', () => {
  let postgres: PostgresProcess;
  let server: MeetingServer;
  beforeAll(async () => {
    postgres = await PostgresProcess.start();
    server = await startTestServer({ PLENUM_DEV_MODE: 'false', PLENUM_ADMIN_API_KEY: ADMIN_KEY, PLENUM_DATABASE_URL: postgres.url, PLENUM_REVALIDATE_INTERVAL_SECONDS: '0' });
  }, 60_000);
  afterAll(async () => {
    await server?.close().catch(() => undefined);
    await postgres?.stop();
  });

  it('store 10: with PostgreSQL gone, the record routes answer 503 UNAVAILABLE with a generic message, and the process serves on', async () => {
    const demo = `/api/admin/events/${DEMO_EVENT_ID}`;
    const sofia = bearer(await signInAs(server.url, SOFIA));
    expect((await http(server.url, 'GET', `${demo}/sessions/demo-plenary/attendance`, undefined, sofia)).status).toBe(200);
    await postgres.kill('SIGKILL');
    for (const path of ['/attendance', '/attendance?format=csv', '/attendance?presence=listener&limit=2&cursor=5', '/attendance/summary', '/quorum', '/floor', '/transcripts/en']) {
      for (const auth of [apiKey, sofia]) {
        const res = await http(server.url, 'GET', `${demo}/sessions/demo-plenary${path}`, undefined, auth);
        expect.soft([path, res.status]).toEqual([path, 503]);
        expectCleanError(res, 503, 'UNAVAILABLE');
      }
    }
    // Sign-in, the join decision and the other admin routes answer the same way (the registry is away: the
    // outage policy refuses; a record that cannot be written is not a 500).
    const signIn = await http(server.url, 'POST', '/api/auth/sign-in', { email: SOFIA, accessCode: 'plenum-demo' });
    expectCleanError(signIn, 503, 'UNAVAILABLE');
    const join = await http(server.url, 'POST', '/api/join', { identityToken: sofia.authorization.slice('Bearer '.length), sessionId: 'demo-plenary' });
    expect.soft(join.status).toBe(503);
    expect(JSON.stringify(join.body)).not.toMatch(/ECONNREFUSED|SQLSTATE|registrations|postgres|\bat \w+ \(/i);
    for (const path of ['/registrations', '/audit']) {
      const res = await http(server.url, 'GET', `${demo}${path}`, undefined, apiKey);
      expect.soft([path, res.status]).toEqual([path, 503]);
      expectCleanError(res, 503, 'UNAVAILABLE');
    }
    // Still up: the health endpoint answers and a malformed request is still judged without the database.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expectCleanError(await http(server.url, 'GET', `${demo}/sessions/demo-plenary/attendance?limit=0`), 400, 'BAD_REQUEST');
  }, 60_000);
});

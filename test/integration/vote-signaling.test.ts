import { pino } from 'pino';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { VoteState, VoteView } from '../../protocol/signaling.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { IDP_AUDIENCE, IDP_ISSUER, idToken, JwksServer, rsaKey, type SigningKey } from '../helpers/jwks-server.js';
import { call, connectSignaling } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

// Votes by entity through the real server: 100 Member States as Node signaling clients (identity tokens
// signed by a real key, registrations in the embedded registry), the chair of the demo event conducting.
// A recorded vote, a roll-call and a secret ballot; a double vote, an entity without the right to vote, a
// delegate who is neither head of delegation nor designated; a reconnecting delegate; and the secrecy
// inspection: after a secret ballot, no database row, audit record, log line or webhook links a voter to a choice.

const ADMIN_KEY = 'admin-api-key-for-votes-0123456789abcdef';
const HOOK_SECRET = 'outgoing-webhook-secret-for-votes-0123456789';
const SESSION = 'demo-plenary';
const N = 100;
const entity = (i: number) => `Votania ${String(i).padStart(3, '0')}`;
const email = (i: number) => `head${i}@votes.example`;
const CSV_HEADER = 'event_id,person_id,name,email,entity_name,entity_type,country_code,role,languages,status,sessions,access_code';

let key: SigningKey;
let jwks: JwksServer;
let hooks: WebhookReceiver;
let server: MeetingServer;
const logLines: string[] = [];
let chair: Socket;
const heads: Socket[] = [];
const events = new Map<Socket, Array<{ event: string; data: unknown }>>();

async function joinAs(address: string): Promise<Socket> {
  const res = await fetch(`${server.url}/api/join`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identityToken: idToken(key, { email: address, name: address }), sessionId: SESSION }),
  });
  const body = (await res.json()) as { joinToken?: string };
  if (!body.joinToken) throw new Error(`${address}: ${JSON.stringify(body)}`);
  const socket = await connectSignaling(server.url, body.joinToken);
  const seen: Array<{ event: string; data: unknown }> = [];
  events.set(socket, seen);
  socket.onAny((event: string, data: unknown) => seen.push({ event, data }));
  const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
  if (!caps.ok) throw new Error(caps.error.code);
  const joined = await call(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities });
  if (!joined.ok) throw new Error(`${address}: ${joined.error.code}`);
  return socket;
}

const admin = (path: string, init: RequestInit = {}) =>
  fetch(`${server.url}/api/admin/events/${DEMO_EVENT_ID}${path}`, { ...init, headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json', ...(init.headers ?? {}) } });

async function expectCode(socket: Socket, method: string, data: unknown, code: string): Promise<void> {
  const answer = await call(socket, method, data);
  expect(answer.ok ? 'ok' : answer.error.code, method).toBe(code);
}

async function castOk(socket: Socket, voteId: string, ballot: unknown): Promise<void> {
  const answer = await call(socket, 'castVote', { voteId, ballot });
  if (!answer.ok) throw new Error(`castVote: ${answer.error.code} ${answer.error.message}`);
}

async function open(input: Record<string, unknown>): Promise<VoteView> {
  const answer = await call<{ vote: VoteView }>(chair, 'openVote', input);
  if (!answer.ok) throw new Error(`openVote: ${answer.error.code} ${answer.error.message}`);
  return answer.data.vote;
}

const received = (socket: Socket, event: string) => (events.get(socket) ?? []).filter((e) => e.event === event).map((e) => e.data);

beforeAll(async () => {
  key = rsaKey('votes');
  jwks = await JwksServer.start([key]);
  hooks = await WebhookReceiver.start(HOOK_SECRET);
  const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
  server = await startTestServer(
    {
      PLENUM_DEV_MODE: 'false',
      PLENUM_ADMIN_API_KEY: ADMIN_KEY,
      PLENUM_IDENTITY_ISSUER: IDP_ISSUER,
      PLENUM_IDENTITY_AUDIENCE: IDP_AUDIENCE,
      PLENUM_IDENTITY_JWKS_URL: jwks.url,
      PLENUM_WEBHOOK_URL: hooks.url,
      PLENUM_WEBHOOK_SECRET: HOOK_SECRET,
      PLENUM_WEBHOOK_BACKOFF_MS: '20',
      PLENUM_SIGNALING_RATE_PER_SECOND: '1000',
      PLENUM_SIGNALING_RATE_BURST: '1000',
    },
    log,
  );
  const rows = Array.from({ length: N }, (_, i) => `${DEMO_EVENT_ID},vh-${i},Head ${i},${email(i)},${entity(i)},member_state,,head_of_delegation,,approved,,`);
  rows.push(`${DEMO_EVENT_ID},vngo-1,NGO Head,head@ngo.example,Open Voices,non_governmental_organization,,head_of_delegation,,approved,,`);
  rows.push(`${DEMO_EVENT_ID},vh-0-b,Second of 0,second0@votes.example,${entity(0)},member_state,,delegate,,approved,,`);
  const imported = await admin('/registrations/import', { method: 'POST', body: [CSV_HEADER, ...rows].join('\n'), headers: { 'content-type': 'text/csv' } });
  expect(imported.status).toBe(200);
  chair = await joinAs('kwame.mensah@demo.gh');
  for (let i = 0; i < N; i += 10) heads.push(...(await Promise.all(Array.from({ length: 10 }, (_, k) => joinAs(email(i + k))))));
}, 180_000);

afterAll(async () => {
  for (const s of [chair, ...heads]) s?.disconnect();
  await server?.close();
  await hooks?.close();
  await jwks?.close();
});

describe('votes by entity', () => {
  it('a recorded vote: the quorum check, one vote per entity, who may cast it, the count while open, results by entity', async () => {
    await expectCode(chair, 'openVote', { question: 'Adopt the agenda?', kind: 'recorded', quorum: N + 1 }, 'QUORUM_NOT_MET');
    const delegate = heads[0]!;
    await expectCode(delegate, 'openVote', { question: 'Adopt the agenda?', kind: 'recorded' }, 'FORBIDDEN');
    const vote = await open({ question: 'Adopt the agenda?', kind: 'recorded', quorum: N });
    expect(vote).toMatchObject({ kind: 'recorded', status: 'open', entitled: N, cast: 0 });
    await expectCode(chair, 'openVote', { question: 'Another?', kind: 'recorded' }, 'VOTE_ALREADY_OPEN');
    await waitFor(() => heads.every((h) => received(h, 'voteOpened').length === 1), { what: 'every delegate told of the vote' });

    // An NGO may not vote on it; a delegate of Votania 000 who is not its head may not cast its vote.
    const ngo = await joinAs('head@ngo.example');
    await expectCode(ngo, 'castVote', { voteId: vote.voteId, ballot: { position: 'yes' } }, 'VOTE_NOT_ENTITLED');
    const second = await joinAs('second0@votes.example');
    await expectCode(second, 'castVote', { voteId: vote.voteId, ballot: { position: 'yes' } }, 'VOTE_NOT_ENTITLED');
    await expectCode(heads[1]!, 'castVote', { voteId: vote.voteId, ballot: { candidates: [] } }, 'BAD_REQUEST');

    const positions = ['yes', 'no', 'abstain'] as const;
    for (let i = 0; i < N; i += 10) await Promise.all(heads.slice(i, i + 10).map((h, k) => castOk(h, vote.voteId, { position: positions[(i + k) % 3] })));
    // A second vote of the same entity is refused, whoever casts it.
    await expectCode(heads[5]!, 'castVote', { voteId: vote.voteId, ballot: { position: 'no' } }, 'VOTE_ALREADY_CAST');
    // The entity's other delegate is told its vote is in, with its position.
    await waitFor(() => received(second, 'voteCast').length === 1, { what: 'the second delegate told' });
    expect(received(second, 'voteCast')[0]).toMatchObject({ entity: entity(0), position: 'yes' });
    // Progress says how many, never how.
    await waitFor(() => received(chair, 'voteProgress').some((p) => (p as { cast: number }).cast === N), { what: 'progress reaches 100' });
    expect(JSON.stringify(received(chair, 'voteProgress'))).not.toMatch(/yes|abstain|"no"/);

    const closed = await call<{ vote: VoteView }>(chair, 'closeVote', { voteId: vote.voteId });
    expect(closed.ok).toBe(true);
    const result = closed.ok ? closed.data.vote.result : null;
    expect(result).toMatchObject({ kind: 'recorded', totals: { yes: 34, no: 33, abstain: 33 }, notVoting: [] });
    expect(result?.kind === 'recorded' && result.byEntity.find((v) => v.entity === entity(4))?.position).toBe('no');
    await waitFor(() => heads.every((h) => received(h, 'voteClosed').length === 1), { what: 'every delegate told the result' });
    await expectCode(heads[7]!, 'castVote', { voteId: vote.voteId, ballot: { position: 'no' } }, 'VOTE_CLOSED');

    // The export: CSV by entity, JSON; another session's id finds nothing.
    const csv = await (await admin(`/sessions/${SESSION}/votes/${vote.voteId}/results?format=csv`)).text();
    expect(csv.split(/\r?\n/)[0]).toBe('entity,entityType,position');
    expect(csv).toContain(`${entity(4)},member_state,no`);
    expect((await admin(`/sessions/demo-council/votes/${vote.voteId}/results`)).status).toBe(404);
    const hook = await waitFor(() => hooks.events.find((e) => e.type === 'vote.closed' && (e.data as { voteId: string }).voteId === vote.voteId), { what: 'the vote.closed webhook' });
    expect(hook.validSignature).toBe(true);
    ngo.disconnect();
    second.disconnect();
  });

  it('a designated delegate casts the entity\'s vote; a reconnecting delegate finds the vote cast', async () => {
    const designated = await admin('/vote-designations', { method: 'PUT', body: JSON.stringify({ entity: entity(0), personId: 'vh-0-b' }) });
    expect(designated.status).toBe(200);
    // Only a delegate of that entity may be designated for it.
    expect((await admin('/vote-designations', { method: 'PUT', body: JSON.stringify({ entity: entity(1), personId: 'vh-0-b' }) })).status).toBe(400);
    const vote = await open({ question: 'Adjourn the debate?', kind: 'recorded' });
    const second = await joinAs('second0@votes.example');
    await castOk(second, vote.voteId, { position: 'abstain' });
    await expectCode(heads[0]!, 'castVote', { voteId: vote.voteId, ballot: { position: 'yes' } }, 'VOTE_ALREADY_CAST');
    second.disconnect();
    const back = await joinAs('second0@votes.example');
    await waitFor(() => received(back, 'voteState').length === 1, { what: 'the vote state on joining' });
    expect(received(back, 'voteState')[0]).toMatchObject({ vote: { voteId: vote.voteId, status: 'open' }, ownEntity: { voted: true, position: 'abstain' } });
    const state = await call<VoteState>(back, 'getVoteState', {});
    expect(state.ok && state.data.ownEntity).toEqual({ voted: true, position: 'abstain' });
    // Away over the close: back, the delegate learns the result, and so does an asking client.
    back.disconnect();
    expect((await call(chair, 'closeVote', { voteId: vote.voteId })).ok).toBe(true);
    const after = await joinAs('second0@votes.example');
    await waitFor(() => received(after, 'voteState').length === 1, { what: 'the closed vote told on joining' });
    const told = received(after, 'voteState')[0] as VoteState;
    expect(told).toMatchObject({ vote: { voteId: vote.voteId, status: 'closed' }, ownEntity: { voted: true, position: 'abstain' } });
    expect(told.vote?.result).not.toBeNull();
    const asked = await call<VoteState>(after, 'getVoteState', {});
    expect(asked.ok && asked.data.vote?.status).toBe('closed');
    after.disconnect();
  });

  it('a roll-call: entities called in turn from one drawn by lot; out of turn is refused; a pass is called again last', async () => {
    const vote = await open({ question: 'Roll-call on the amendment', kind: 'roll_call' });
    const order = vote.order!;
    expect(order).toHaveLength(N);
    expect([...order].sort()).toEqual(Array.from({ length: N }, (_, i) => entity(i)));
    // The calling order is alphabetical, starting from the entity drawn by lot and wrapping round.
    const sorted = [...order].sort();
    const drawn = sorted.indexOf(order[0]!);
    expect(order).toEqual([...sorted.slice(drawn), ...sorted.slice(0, drawn)]);
    const socketOf = (name: string) => heads[Number(name.slice(-3))]!;
    expect(vote.called).toBe(order[0]);
    await expectCode(socketOf(order[1]!), 'castVote', { voteId: vote.voteId, ballot: { position: 'yes' } }, 'VOTE_NOT_CALLED');
    // The first entity called passes; the others vote in turn; then the first is called again.
    const passed = await call<{ vote: VoteView }>(chair, 'passRollCall', { voteId: vote.voteId });
    expect(passed.ok && passed.data.vote.called).toBe(order[1]);
    for (const name of order.slice(1)) await castOk(socketOf(name), vote.voteId, { position: 'yes' });
    const state = await call<VoteState>(chair, 'getVoteState', {});
    expect(state.ok && state.data.vote?.called).toBe(order[0]);
    await castOk(socketOf(order[0]!), vote.voteId, { position: 'no' });
    const closed = await call<{ vote: VoteView }>(chair, 'closeVote', { voteId: vote.voteId });
    const result = closed.ok ? closed.data.vote.result : null;
    expect(result?.kind === 'roll_call' && result.byEntity.map((v) => v.entity)).toEqual(order);
    expect(result).toMatchObject({ totals: { yes: N - 1, no: 1, abstain: 0 } });
  });

  it('a secret ballot: totals only, and nothing stored, audited, logged or sent links a voter to a choice', async () => {
    const candidates = ['Candidate Arborea', 'Candidate Borealis', 'Candidate Caldera'];
    const vote = await open({ question: 'Election of two Vice-Chairs', kind: 'secret', candidates, seats: 2 });
    const choice = (i: number) => (i % 4 === 0 ? [candidates[0]!, candidates[1]!] : i % 4 === 1 ? [candidates[1]!] : i % 4 === 2 ? [candidates[2]!, candidates[0]!] : []);
    for (let i = 0; i < N; i += 10) await Promise.all(heads.slice(i, i + 10).map((h, k) => castOk(h, vote.voteId, { candidates: choice(i + k) })));
    await expectCode(heads[3]!, 'castVote', { voteId: vote.voteId, ballot: { candidates: [candidates[0]!] } }, 'VOTE_ALREADY_CAST');
    // No one is told how their entity voted in a secret ballot.
    expect(received(heads[0]!, 'voteCast').filter((c) => (c as { voteId: string }).voteId === vote.voteId)).toEqual([{ voteId: vote.voteId, entity: entity(0) }]);
    const closed = await call<{ vote: VoteView }>(chair, 'closeVote', { voteId: vote.voteId });
    expect(closed.ok && closed.data.vote.result).toEqual({
      kind: 'secret',
      ballots: N,
      abstentions: 25,
      byCandidate: [
        { candidate: candidates[0], votes: 50 },
        { candidate: candidates[1], votes: 50 },
        { candidate: candidates[2], votes: 25 },
      ],
      elected: [candidates[0], candidates[1]],
      tied: [],
    });
    await waitFor(() => hooks.events.find((e) => e.type === 'vote.closed' && (e.data as { voteId: string }).voteId === vote.voteId), { what: 'the vote.closed webhook' });
    await server.conduct.flush();

    // The inspection: every record that names a voter (entity or person) must name no candidate.
    const voters = [...Array.from({ length: N }, (_, i) => entity(i)), ...Array.from({ length: N }, (_, i) => `vh-${i}`), ...Array.from({ length: N }, (_, i) => email(i))];
    const linking = (text: string) => voters.some((v) => text.includes(v)) && candidates.some((c) => text.includes(c));
    const db = server.store.db;
    const tables = await db.introspection.getTables();
    for (const t of tables) {
      const rows = (await db.selectFrom(t.name as 'votes').selectAll().execute()) as Array<Record<string, unknown>>;
      for (const row of rows) {
        // A vote's own row lists the candidates and the entities entitled; its result must name no voter.
        const text = t.name === 'votes' ? JSON.stringify(row.result) : JSON.stringify(row);
        expect(linking(text), `${t.name}: ${text.slice(0, 300)}`).toBe(false);
      }
    }
    for (const record of (await server.accreditation.service.audit.query({ eventId: DEMO_EVENT_ID, limit: 1000 })).records) expect(linking(JSON.stringify(record))).toBe(false);
    for (const line of logLines) expect(linking(line), line.slice(0, 300)).toBe(false);
    for (const hook of hooks.events) expect(linking(JSON.stringify(hook))).toBe(false);
    for (const socket of heads) for (const e of events.get(socket) ?? []) expect(linking(JSON.stringify(e.data))).toBe(false);
    // The inspection would see a link if there were one: the casts are logged with their entity.
    expect(logLines.some((l) => l.includes('vote cast') && l.includes(entity(7)))).toBe(true);
    expect(hooks.events.some((h) => JSON.stringify(h).includes(candidates[2]!))).toBe(true);
  });
});

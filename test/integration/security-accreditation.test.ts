// Regression tests for issue 10, part 2 (accreditation holes): items 1, 2, 3, 6, 7 and 9, each on a real
// server (in-process or its own process), with real signed tokens and real HTTP.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCESS_CODE, DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import { hashAccessCodeSync } from '../../accreditation/registry/embedded-registry.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { projectRoot } from '../../server/project-paths.js';
import { post, signInAs } from '../helpers/accreditation-client.js';
import { CrmProcess, registrant } from '../helpers/crm-process.js';
import { IDP_AUDIENCE, IDP_ISSUER, idToken, JwksServer, rsaKey, type SigningKey } from '../helpers/jwks-server.js';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { httpRequest } from '../helpers/http-client.js';

const ADMIN_KEY = 'admin-api-key-admin-api-key-0123456789';
const SECRETARIAT_A = 'sofia.rossi@secretariat.example';
const KENYA = 'amina.odhiambo@demo.ke';
const EVENT_B = 'event-b';
const VICTIM = 'victim@event-b.example';
const VICTIM_CODE = 'victim-code-12345';
const mappingFile = join(import.meta.dirname, '../../docs/registry-mappings/indico.json');

const servers: MeetingServer[] = [];
const processes: ServerProcess[] = [];
let key: SigningKey;
let jwks: JwksServer;

beforeAll(async () => {
  key = rsaKey('security-key');
  jwks = await JwksServer.start([key]);
});
afterAll(async () => {
  for (const p of processes) p.child.kill('SIGKILL');
  await Promise.all(servers.map((s) => s.close()));
  await jwks?.close();
});

async function server(env: Record<string, string> = {}): Promise<MeetingServer> {
  const s = await startTestServer({ PLENUM_DEV_MODE: 'false', PLENUM_ADMIN_API_KEY: ADMIN_KEY, PLENUM_REVALIDATE_INTERVAL_SECONDS: '0', ...env });
  servers.push(s);
  return s;
}

async function spawned(env: Record<string, string>): Promise<ServerProcess> {
  const p = await spawnServer({ PLENUM_DEV_MODE: 'false', PLENUM_ADMIN_API_KEY: ADMIN_KEY, ...env });
  processes.push(p);
  return p;
}

async function stop(p: ServerProcess): Promise<void> {
  p.child.kill('SIGTERM');
  await p.exited;
}

async function http(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await httpRequest(method, url, body, headers);
  return { status: res.status, body: res.json ?? { text: res.text }, headers: res.headers };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const apiKey = { 'x-api-key': ADMIN_KEY };
const claims = (token: string) => jwt.decode(token) as Record<string, unknown>;
const registrationBody = (email: string, extra: Record<string, unknown> = {}) => ({
  name: 'Someone',
  email,
  entity: { name: 'Secretariat B', type: 'secretariat' },
  role: 'secretariat',
  status: 'approved',
  ...extra,
});
const CSV_HEADER = 'event_id,person_id,name,email,entity_name,entity_type,country_code,role,languages,status,sessions,access_code';

/** Event B, made by automation: one session and its secretariat (the victim), with their own access code. */
async function createEventB(base: string): Promise<void> {
  expect((await http('PUT', `${base}/api/admin/events/${EVENT_B}/sessions/b-room`, { title: 'B room', lobby: false }, apiKey)).status).toBe(200);
  expect((await http('PUT', `${base}/api/admin/events/${EVENT_B}/registrations/b-sec`, registrationBody(VICTIM, { accessCode: VICTIM_CODE }), apiKey)).status).toBe(200);
}

describe('security: accreditation (issue 10, part 2)', () => {
  it('2.1 access codes belong to one registration: no secretariat can take over another event\'s e-mail, and tokens are bound to their event', async () => {
    const s = await server();
    await createEventB(s.url);
    const sofia = await signInAs(s.url, SECRETARIAT_A);
    expect(claims(sofia)).toMatchObject({ event: DEMO_EVENT_ID, pid: 'p-sec-1' });

    // The attack: event A's secretariat gives the victim's e-mail an access code of their choosing.
    const put = await http('PUT', `${s.url}/api/admin/events/${DEMO_EVENT_ID}/registrations/evil`, registrationBody(VICTIM, { accessCode: 'attacker-code-1' }), bearer(sofia));
    expect(put.status).toBe(409);
    expect(put.body).toMatchObject({ error: { code: 'EMAIL_IN_USE' } });
    const csv = `${CSV_HEADER}\n${DEMO_EVENT_ID},evil-2,Evil,${VICTIM},Kenya,member_state,KE,secretariat,,approved,,attacker-code-2`;
    const imported = await http('POST', `${s.url}/api/admin/events/${DEMO_EVENT_ID}/registrations/import`, csv, { ...bearer(sofia), 'content-type': 'text/csv' });
    expect(imported.status).toBe(409);
    expect(imported.body).toMatchObject({ error: { code: 'EMAIL_IN_USE' }, lines: [{ line: 2 }] });
    const listed = (await http('GET', `${s.url}/api/admin/events/${DEMO_EVENT_ID}/registrations`, undefined, bearer(sofia))).body.registrations as Array<{ personId: string }>;
    expect(listed.map((r) => r.personId)).not.toContain('evil');
    expect(listed.map((r) => r.personId)).not.toContain('evil-2');
    for (const code of ['attacker-code-1', 'attacker-code-2']) {
      expect((await post(`${s.url}/api/auth/sign-in`, { email: VICTIM, accessCode: code })).status).toBe(401);
    }
    // The victim is not locked out, and their token names their event.
    const victim = await post(`${s.url}/api/auth/sign-in`, { email: VICTIM, accessCode: VICTIM_CODE });
    expect(victim.status).toBe(200);
    expect(claims(victim.body.identityToken as string)).toMatchObject({ event: EVENT_B, pid: 'b-sec' });

    // Event A's token does not reach event B: not its admin API, not its sessions, not its join tokens.
    expect((await http('GET', `${s.url}/api/admin/events/${EVENT_B}/registrations`, undefined, bearer(sofia))).status).toBe(403);
    expect((await http('GET', `${s.url}/api/admin/events/${EVENT_B}/audit`, undefined, bearer(sofia))).status).toBe(403);
    const join = await post(`${s.url}/api/join`, { identityToken: sofia, sessionId: 'b-room' });
    expect(join.status).toBe(403);
    expect(join.body).toMatchObject({ error: { code: 'NOT_ACCREDITED' }, reasons: ['IDENTITY_OTHER_EVENT'] });
    // Not even B's existence or title: the answer is the one for an unknown event.
    const bListing = await http('GET', `${s.url}/api/events/${EVENT_B}/sessions`, undefined, bearer(sofia));
    expect([bListing.status, bListing.body]).toEqual([404, { error: { code: 'NOT_FOUND', message: `no event ${EVENT_B}` } }]);
    expect(((await http('GET', `${s.url}/api/events`, undefined, bearer(sofia))).body.events as Array<{ eventId: string }>).map((e) => e.eventId)).toEqual([DEMO_EVENT_ID]);

    // Automation (the admin API key) may register the same person in a second event, with a second code;
    // each code signs in to its own event only.
    expect((await http('PUT', `${s.url}/api/admin/events/${DEMO_EVENT_ID}/registrations/dual`, registrationBody(VICTIM, { accessCode: 'second-code-99' }), apiKey)).status).toBe(200);
    const second = await post(`${s.url}/api/auth/sign-in`, { email: VICTIM, accessCode: 'second-code-99' });
    expect(claims(second.body.identityToken as string)).toMatchObject({ event: DEMO_EVENT_ID, pid: 'dual' });
    expect((await http('GET', `${s.url}/api/admin/events/${EVENT_B}/registrations`, undefined, bearer(second.body.identityToken as string))).status).toBe(403);
    expect((await post(`${s.url}/api/auth/sign-in`, { email: VICTIM, accessCode: 'second-code-99', eventId: EVENT_B })).status).toBe(401);
    const own = await post(`${s.url}/api/auth/sign-in`, { email: VICTIM, accessCode: VICTIM_CODE, eventId: EVENT_B });
    expect(claims(own.body.identityToken as string)).toMatchObject({ event: EVENT_B });
    expect((await http('GET', `${s.url}/api/admin/events/${EVENT_B}/registrations`, undefined, bearer(own.body.identityToken as string))).status).toBe(200);
  });

  it('2.1 an old data file (codes by e-mail) is upgraded: unambiguous codes move to their registration, ambiguous ones are dropped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plenum-v1-'));
    const reg = (eventId: string, personId: string, email: string) => ({ eventId, personId, name: personId, email, entity: { name: 'X', type: 'other' }, role: 'delegate', status: 'approved' });
    writeFileSync(
      join(dir, 'registry.json'),
      JSON.stringify({
        version: 1,
        registrations: [reg('ev1', 'a', 'a@example.org'), reg('ev1', 'b', 'b@example.org'), reg('ev2', 'b2', 'b@example.org')],
        accessCodes: { 'a@example.org': hashAccessCodeSync('code-of-a-1'), 'b@example.org': hashAccessCodeSync('code-of-b-1') },
      }),
    );
    const s = await server({ PLENUM_DATA_DIR: dir, PLENUM_DEMO: 'false' });
    const a = await post(`${s.url}/api/auth/sign-in`, { email: 'a@example.org', accessCode: 'code-of-a-1' });
    expect(a.status).toBe(200);
    expect(claims(a.body.identityToken as string)).toMatchObject({ event: 'ev1', pid: 'a' });
    expect((await post(`${s.url}/api/auth/sign-in`, { email: 'b@example.org', accessCode: 'code-of-b-1' })).status).toBe(401);
  });

  it('2.2 a session id belongs to one event: another event cannot take it over, nor reach it through any route', async () => {
    const s = await server();
    await createEventB(s.url);
    const sofia = await signInAs(s.url, SECRETARIAT_A);
    const a = `${s.url}/api/admin/events/${DEMO_EVENT_ID}`;
    for (const headers of [bearer(sofia), apiKey]) {
      const moved = await http('PUT', `${a}/sessions/b-room`, { title: 'Mine now', lobby: false }, headers);
      expect(moved.status).toBe(409);
      expect(moved.body).toMatchObject({ error: { code: 'ID_IN_USE' } });
    }
    // Every conduct route of event A refuses B's session id, and changes nothing.
    const attempts: Array<[string, string, unknown?]> = [
      ['POST', `${a}/sessions/b-room/lifecycle`, { action: 'close' }],
      ['POST', `${a}/sessions/b-room/lock`, { locked: true }],
      ['GET', `${a}/sessions/b-room/floor`],
      ['GET', `${a}/sessions/b-room/attendance?format=csv`],
      ['GET', `${a}/sessions/b-room/quorum`],
      ['GET', `${a}/sessions/b-room/transcripts/fr`],
    ];
    for (const [method, url, body] of attempts) {
      const res = await http(method, url, body, bearer(sofia));
      expect([method, url, res.status, res.body.error]).toEqual([method, url, 404, expect.objectContaining({ code: 'NOT_FOUND' })]);
    }
    const bSessions = (await http('GET', `${s.url}/api/admin/events/${EVENT_B}/sessions`, undefined, apiKey)).body.sessions as Array<Record<string, unknown>>;
    expect(bSessions).toEqual([expect.objectContaining({ sessionId: 'b-room', eventId: EVENT_B, title: 'B room', status: 'open', locked: false })]);
    // A's people get no join token for B's room.
    const join = await post(`${s.url}/api/join`, { identityToken: await signInAs(s.url, KENYA), sessionId: 'b-room' });
    expect(join.status).toBe(403);
    // Nor can a registration of A be revoked through B's URL, or B's through A's.
    expect((await http('POST', `${s.url}/api/admin/events/${EVENT_B}/registrations/p-ke-1/revoke`, {}, apiKey)).status).toBe(404);
    expect((await http('POST', `${a}/registrations/b-sec/revoke`, {}, bearer(sofia))).status).toBe(404);
    expect((await post(`${s.url}/api/auth/sign-in`, { email: VICTIM, accessCode: VICTIM_CODE })).status).toBe(200);
  });

  it('2.3 without PLENUM_DEMO a first start has no demo event: one administrator with a random code, printed once, and a reset command', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'plenum-first-'));
    const env = { PLENUM_DEMO: 'false', PLENUM_DATA_DIR: dataDir };
    const first = await spawned(env);
    const printed = first.logs.filter((l) => (l.administrator as { accessCode?: string } | undefined)?.accessCode);
    expect(printed).toHaveLength(1);
    const admin = printed[0]!.administrator as { email: string; accessCode: string; eventId: string };
    expect(admin.email).toBe('admin@plenum.local');
    expect(admin.accessCode).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){4}$/);
    expect(String(printed[0]!.msg)).toContain('FIRST START');

    // The demo's public code opens nothing; the administrator's does, for their event.
    expect((await post(`${first.url}/api/auth/sign-in`, { email: SECRETARIAT_A, accessCode: DEMO_ACCESS_CODE })).status).toBe(401);
    const signedIn = await post(`${first.url}/api/auth/sign-in`, { email: admin.email, accessCode: admin.accessCode });
    expect(signedIn.status).toBe(200);
    const token = signedIn.body.identityToken as string;
    expect(((await http('GET', `${first.url}/api/events`, undefined, bearer(token))).body.events as Array<{ eventId: string }>).map((e) => e.eventId)).toEqual([admin.eventId]);
    const regs = await http('GET', `${first.url}/api/admin/events/${admin.eventId}/registrations`, undefined, bearer(token));
    expect(regs.body.registrations).toEqual([expect.objectContaining({ email: admin.email, role: 'secretariat', status: 'approved' })]);

    // The embedded database admits one process: the reset command says to stop the server first, and does nothing.
    const resetCode = () => promisify(execFile)(process.execPath, ['--import', 'tsx', 'server/cli/reset-admin-code.ts'], { cwd: projectRoot, env: { ...process.env, PLENUM_DATA_DIR: dataDir } });
    const refused = (await resetCode().catch((e: unknown) => e)) as { code?: number; stderr?: string };
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/in use by a running server .*stop the server first/);
    expect((await post(`${first.url}/api/auth/sign-in`, { email: admin.email, accessCode: admin.accessCode })).status).toBe(200);
    await stop(first);

    // Stopped, the reset works; a restart prints no code again, and only the new code signs in.
    const reset = await resetCode();
    const newCode = /: ([a-z2-9]{4}(?:-[a-z2-9]{4}){4})$/m.exec(reset.stdout)?.[1];
    expect(newCode).toBeDefined();
    expect(reset.stdout).toContain(admin.email);
    const again = await spawned(env);
    expect(again.logs.some((l) => l.administrator !== undefined || String(l.msg).includes('FIRST START'))).toBe(false);
    expect((await post(`${again.url}/api/auth/sign-in`, { email: admin.email, accessCode: admin.accessCode })).status).toBe(401);
    expect((await post(`${again.url}/api/auth/sign-in`, { email: admin.email, accessCode: newCode })).status).toBe(200);
    await stop(again);

    // An install seeded with the demo earlier refuses the demo's public code once PLENUM_DEMO is off.
    const demoDir = mkdtempSync(join(tmpdir(), 'plenum-demo-'));
    const demo = await spawned({ PLENUM_DEMO: 'true', PLENUM_DATA_DIR: demoDir });
    expect((await post(`${demo.url}/api/auth/sign-in`, { email: SECRETARIAT_A, accessCode: DEMO_ACCESS_CODE })).status).toBe(200);
    await stop(demo);
    const upgraded = await spawned({ PLENUM_DEMO: 'false', PLENUM_DATA_DIR: demoDir });
    expect((await post(`${upgraded.url}/api/auth/sign-in`, { email: SECRETARIAT_A, accessCode: DEMO_ACCESS_CODE })).status).toBe(401);
    await stop(upgraded);
  }, 180_000);

  it('2.6 sign-in hashes off the event loop: /healthz answers while 300 sign-ins and a CSV import queue for hashing; the per-address limit stops random e-mails', async () => {
    // Many sign-ins per e-mail at once here: the per-e-mail failure budget (taken before hashing) is not under test.
    const p = await spawned({ PLENUM_SIGN_IN_ATTEMPTS_PER_MINUTE: '100000', PLENUM_SIGN_IN_FAILURES_PER_MINUTE: '100000', PLENUM_SIGN_IN_MAX_CONCURRENT_HASHES: '2' });
    const hashGauge = async (name: 'waiting' | 'active'): Promise<number> =>
      Number(new RegExp(`^plenum_sign_in_hashes_${name} (\\d+)$`, 'm').exec(await (await fetch(`${p.url}/metrics`)).text())?.[1] ?? -1);
    const waitingHashes = (): Promise<number> => hashGauge('waiting');
    const people = ['amina.odhiambo@demo.ke', 'brian.kamau@demo.ke', 'beatriz.souza@demo.br', 'camille.durand@demo.fr', 'haruto.sato@demo.jp', SECRETARIAT_A];
    let done = 0;
    const signIns = Array.from({ length: 300 }, (_, i) =>
      post(`${p.url}/api/auth/sign-in`, { email: people[i % people.length], accessCode: DEMO_ACCESS_CODE }).finally(() => (done += 1)),
    );
    // The server answers other requests while sign-ins wait for a hashing slot...
    await waitFor(async () => (await waitingHashes()) > 0, { what: 'sign-ins waiting for a hash' });
    const health = await fetch(`${p.url}/healthz`);
    const doneAtHealth = done;
    expect(health.status).toBe(200);
    expect(doneAtHealth).toBeLessThan(300);
    const answers = await Promise.all(signIns);
    expect(answers.map((a) => a.status)).toEqual(Array(300).fill(200));

    // ...and while a CSV import hashes its access codes.
    const rows = Array.from({ length: 40 }, (_, i) => `${DEMO_EVENT_ID},csv-${i},Person ${i},person${i}@import.example,Kenya,member_state,KE,delegate,,approved,,code-number-${i}`);
    let importDone = false;
    const importing = http('POST', `${p.url}/api/admin/events/${DEMO_EVENT_ID}/registrations/import`, [CSV_HEADER, ...rows].join('\n'), { ...apiKey, 'content-type': 'text/csv' }).finally(() => (importDone = true));
    // An import hashes a few codes at a time (it never floods the queue): wait for one of its hashes to run.
    await waitFor(async () => (await hashGauge('active')) > 0, { what: 'import hashes running' });
    const healthDuringImport = await fetch(`${p.url}/healthz`);
    expect(healthDuringImport.status).toBe(200);
    expect(importDone).toBe(false);
    expect((await importing).body).toEqual({ imported: 40 });
    expect((await post(`${p.url}/api/auth/sign-in`, { email: 'person7@import.example', accessCode: 'code-number-7' })).status).toBe(200);
    await stop(p);

    // The per-address limit is checked before hashing, whatever the e-mail. A small budget (6 a minute)
    // keeps the refill during the run (one token every 10 s) small however slow a loaded machine is.
    const s = await server({ PLENUM_SIGN_IN_ATTEMPTS_PER_MINUTE: '6' });
    const codes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await post(`${s.url}/api/auth/sign-in`, { email: `random-${i}-${Math.random().toString(36).slice(2)}@nowhere.example`, accessCode: 'guess-guess' });
      codes.push((res.body.error as { code: string }).code);
    }
    expect(codes.slice(0, 6)).toEqual(Array(6).fill('UNAUTHENTICATED'));
    expect(codes.slice(6).filter((c) => c === 'RATE_LIMITED').length).toBeGreaterThanOrEqual(10);
    expect(new Set(codes)).toEqual(new Set(['UNAUTHENTICATED', 'RATE_LIMITED']));
    expect(s.accreditation.hasher.load).toEqual({ active: 0, waiting: 0 });
  }, 240_000);

  it('2.7 the admin API checks event and role before any registry lookup, validates ids, and the registry cache is bounded', async () => {
    const s = await server({
      PLENUM_IDENTITY_ISSUER: IDP_ISSUER,
      PLENUM_IDENTITY_AUDIENCE: IDP_AUDIENCE,
      PLENUM_IDENTITY_JWKS_URL: jwks.url,
      PLENUM_REGISTRY_CACHE_MAX_ENTRIES: '20',
    });
    const registry = s.accreditation.service.registry;
    const delegate = await signInAs(s.url, KENYA);
    const external = idToken(key, { email: 'someone@idp.example' });
    await http('GET', `${s.url}/api/admin/events/${DEMO_EVENT_ID}/sessions`, undefined, bearer(delegate)); // warm: the delegate's own lookup
    const callsBefore = registry.stats.calls;
    const sizeBefore = registry.size;
    for (let i = 0; i < 50; i++) {
      const id = `random-${i}-${Math.random().toString(36).slice(2)}`;
      for (const token of [delegate, external]) {
        const res = await http('GET', `${s.url}/api/admin/events/${id}/sessions`, undefined, bearer(token));
        expect(res.status).toBe(403);
      }
    }
    expect(registry.stats.calls).toBe(callsBefore);
    expect(registry.size).toBe(sizeBefore);

    // Ids that are not ids are refused before anything else.
    for (const bad of ['a%22b', 'a%2Fb', '.hidden', 'x'.repeat(200), 'a%0d%0ab']) {
      expect((await http('GET', `${s.url}/api/admin/events/${bad}/sessions`, undefined, apiKey)).body).toMatchObject({ error: { code: 'BAD_REQUEST' } });
      expect((await http('GET', `${s.url}/api/events/${bad}/sessions`, undefined, bearer(delegate))).body).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    }
    expect((await http('PUT', `${s.url}/api/admin/events/${DEMO_EVENT_ID}/registrations/a%20b`, registrationBody('x@y.example'), apiKey)).body).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    expect((await http('PUT', `${s.url}/api/admin/events/${DEMO_EVENT_ID}/sessions/a%2Fb`, { title: 'x', lobby: false }, apiKey)).body).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    expect(registry.stats.calls).toBe(callsBefore);

    // Lookups that do happen (joins by 60 different people) stay within the configured bound.
    for (let i = 0; i < 60; i++) {
      const res = await post(`${s.url}/api/join`, { identityToken: idToken(key, { email: `stranger${i}@idp.example` }), sessionId: 'demo-plenary' });
      expect(res.body).toMatchObject({ reasons: ['NOT_REGISTERED'] });
    }
    expect(registry.stats.calls).toBe(callsBefore + 60);
    expect(registry.size).toBeLessThanOrEqual(20);
  });

  it('2.9 a CRM answer about another person is refused, and an unverified e-mail is not accepted as identity', async () => {
    const crm = await CrmProcess.start();
    try {
      await crm.control({ reset: true, mode: 'ok', registrants: Array.from({ length: 10 }, (_, i) => registrant(i)) });
      const rest = (extra: Record<string, string> = {}) =>
        server({
          PLENUM_REGISTRY: 'rest',
          PLENUM_REGISTRY_URL: crm.url,
          PLENUM_REGISTRY_FIELD_MAPPING: mappingFile,
          PLENUM_REGISTRY_RETRIES: '0',
          PLENUM_REGISTRY_CACHE_TTL_SECONDS: '0',
          PLENUM_REGISTRY_NEGATIVE_CACHE_TTL_SECONDS: '0',
          PLENUM_IDENTITY_ISSUER: IDP_ISSUER,
          PLENUM_IDENTITY_AUDIENCE: IDP_AUDIENCE,
          PLENUM_IDENTITY_JWKS_URL: jwks.url,
          ...extra,
        }).then(async (s) => {
          await s.accreditation.service.sessions.upsert({ sessionId: 'crm-plenary', eventId: 'crm-event', title: 'Plenary', open: true, lobby: false });
          return s;
        });
      const s = await rest();
      const join = (claimsOf: Record<string, unknown>, target = s) => post(`${target.url}/api/join`, { identityToken: idToken(key, claimsOf), sessionId: 'crm-plenary' });

      expect((await join({ email: 'delegate5@example.org' })).body).toMatchObject({ decision: 'allow', participant: { personId: '5' } });
      // A CRM that answers with someone else's record (a search ignoring its filter) admits nobody as that someone.
      await crm.control({ mode: 'wrong-person' });
      const mismatch = await join({ email: 'delegate5@example.org' });
      expect(mismatch.status).toBe(503);
      expect(mismatch.body).toMatchObject({ error: { code: 'UNAVAILABLE' }, reasons: ['REGISTRY_UNAVAILABLE'] });
      const audit = (await s.accreditation.service.audit.query({ sessionId: 'crm-plenary' })).records;
      expect(audit[0]).toMatchObject({ decision: 'deny', source: 'unavailable', email: 'delegate5@example.org' });
      await crm.control({ mode: 'ok' });

      // email_verified: false is refused; true and absent are accepted; the check can be turned off.
      const unverified = await join({ email: 'delegate6@example.org', email_verified: false });
      expect(unverified.status).toBe(401);
      expect(unverified.body).toMatchObject({ error: { code: 'UNAUTHENTICATED' }, reasons: ['IDENTITY_INVALID'] });
      expect((await join({ email: 'delegate6@example.org', email_verified: 'false' })).status).toBe(401);
      expect((await join({ email: 'delegate6@example.org', email_verified: true })).status).toBe(200);
      expect((await join({ email: 'delegate6@example.org' })).status).toBe(200);
      const lenient = await rest({ PLENUM_IDENTITY_REQUIRE_EMAIL_VERIFIED: 'false' });
      expect((await join({ email: 'delegate6@example.org', email_verified: false }, lenient)).status).toBe(200);
    } finally {
      crm.stop();
    }
  });
});

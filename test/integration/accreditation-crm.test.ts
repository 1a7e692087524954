import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CachingRegistry, type OutagePolicy } from '../../accreditation/registry/caching-registry.js';
import { fieldMapping } from '../../accreditation/registry/field-mapping.js';
import { RegistryUnavailableError } from '../../accreditation/registry/registry.js';
import { RestRegistry, type RestAuth } from '../../accreditation/registry/rest-registry.js';
import { signWebhook } from '../../accreditation/webhook-signature.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { CrmProcess, registrant } from '../helpers/crm-process.js';
import { IDP_AUDIENCE, IDP_ISSUER, idToken, JwksServer, rsaKey, type SigningKey } from '../helpers/jwks-server.js';
import { call, connectSignaling, devToken } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

const mappingFile = join(import.meta.dirname, '../../docs/registry-mappings/indico.json');
const mapping = fieldMapping.parse(JSON.parse(readFileSync(mappingFile, 'utf8')));

let crm: CrmProcess;
beforeAll(async () => {
  crm = await CrmProcess.start();
});
afterAll(() => crm?.stop());
beforeEach(async () => {
  await crm.control({ reset: true, mode: 'ok', delayMs: 0, requireToken: false, registrants: Array.from({ length: 300 }, (_, i) => registrant(i)) });
});

function rest(overrides: { timeoutMs?: number; retries?: number; auth?: RestAuth } = {}): RestRegistry {
  return new RestRegistry({ baseUrl: crm.url, auth: overrides.auth ?? { kind: 'none' }, mapping, timeoutMs: overrides.timeoutMs ?? 1000, retries: overrides.retries ?? 1, backoffMs: 20 });
}

function cached(registry: RestRegistry, outage: OutagePolicy = { kind: 'fail-closed' }, maxConcurrency = 8): CachingRegistry {
  return new CachingRegistry(registry, { positiveTtlMs: 60_000, negativeTtlMs: 5_000, maxConcurrency, outage });
}

describe('accreditation against a real CRM process (REST registry)', () => {
  it('maps the CRM record, and answers null for a person it does not know', async () => {
    const r = rest();
    expect(await r.lookup({ eventId: 'crm-event', email: 'DELEGATE7@example.org' })).toMatchObject({
      personId: '7',
      entity: { name: 'Kenya', type: 'member_state', countryCode: 'KE' },
      role: 'delegate',
      status: 'approved',
    });
    expect(await r.lookup({ eventId: 'crm-event', email: 'stranger@example.org' })).toBeNull();
    expect(await r.lookup({ eventId: 'crm-event', personId: '9999' })).toBeNull();
  });

  it('reports 500s, malformed answers, unmappable records and hangs as unavailable, after retrying', async () => {
    for (const mode of ['error500', 'malformed', 'unmappable', 'hang']) {
      await crm.control({ reset: true, mode });
      const error = await rest({ timeoutMs: 300, retries: 2 })
        .lookup({ eventId: 'crm-event', email: 'delegate1@example.org' })
        .catch((e: unknown) => e);
      expect(error, mode).toBeInstanceOf(RegistryUnavailableError);
      expect((await crm.stats()).calls, mode).toBe(3);
    }
    await crm.control({ mode: 'ok' });
  });

  it('a slow CRM within the timeout still answers', async () => {
    await crm.control({ delayMs: 150 });
    expect((await rest({ timeoutMs: 1000 }).lookup({ eventId: 'crm-event', email: 'delegate2@example.org' }))?.name).toBe('Delegate 2');
  });

  it('coalesces concurrent lookups of one person into one CRM call, and caches', async () => {
    await crm.control({ delayMs: 50 });
    const registry = cached(rest());
    const answers = await Promise.all(Array.from({ length: 50 }, () => registry.lookup({ eventId: 'crm-event', email: 'delegate3@example.org' })));
    expect(new Set(answers.map((a) => a.registration?.personId))).toEqual(new Set(['3']));
    expect((await crm.stats()).calls).toBe(1);
    expect((await registry.lookup({ eventId: 'crm-event', email: 'delegate3@example.org' })).source).toBe('cache');
    expect((await crm.stats()).calls).toBe(1);
  });

  it('bounds the concurrency towards the CRM: 200 people at once never become more than the limit in parallel', async () => {
    await crm.control({ delayMs: 20 });
    const registry = cached(rest(), { kind: 'fail-closed' }, 4);
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => registry.lookup({ eventId: 'crm-event', email: `delegate${i}@example.org` })));
    expect(answers.every((a) => a.registration !== null)).toBe(true);
    const stats = await crm.stats();
    expect(stats.calls).toBe(200);
    expect(stats.peakConcurrent).toBeLessThanOrEqual(4);
    expect(registry.stats.peakConcurrent).toBeLessThanOrEqual(4);
  });

  it('outage policy: fail-closed refuses during an outage; grace admits on a recent positive answer, and says so', async () => {
    const closed = cached(rest({ retries: 0 }));
    const grace = cached(rest({ retries: 0 }), { kind: 'grace', graceMs: 60_000 });
    const q = { eventId: 'crm-event', email: 'delegate4@example.org' };
    await closed.lookup(q);
    await grace.lookup(q);
    await crm.control({ mode: 'error500' });
    await expect(closed.lookup(q, { fresh: true })).rejects.toBeInstanceOf(RegistryUnavailableError);
    expect(await grace.lookup(q, { fresh: true })).toMatchObject({ source: 'grace', registration: { personId: '4' } });
    // Grace never invents an admission: someone never seen before is still refused.
    await expect(grace.lookup({ eventId: 'crm-event', email: 'delegate5@example.org' })).rejects.toBeInstanceOf(RegistryUnavailableError);
  });

  it('OAuth2 client credentials: fetches one token for many calls, and a new one when the CRM rejects it', async () => {
    await crm.control({ requireToken: true, revokeTokens: true });
    const registry = rest({ auth: { kind: 'oauth2-client-credentials', tokenUrl: `${crm.url}/oauth/token`, clientId: 'plenum', clientSecret: 'crm-client-secret' } });
    await Promise.all(Array.from({ length: 10 }, (_, i) => registry.lookup({ eventId: 'crm-event', email: `delegate${i}@example.org` })));
    expect((await crm.stats()).tokenRequests).toBe(1);
    await crm.control({ revokeTokens: true });
    expect((await registry.lookup({ eventId: 'crm-event', email: 'delegate1@example.org' }))?.personId).toBe('1');
    expect((await crm.stats()).tokenRequests).toBe(2);
    const wrong = rest({ retries: 0, auth: { kind: 'oauth2-client-credentials', tokenUrl: `${crm.url}/oauth/token`, clientId: 'plenum', clientSecret: 'nope' } });
    await expect(wrong.lookup({ eventId: 'crm-event', email: 'delegate1@example.org' })).rejects.toBeInstanceOf(RegistryUnavailableError);
  });
});

describe('the server with a REST CRM: outage policy, audit source, webhook revocation', () => {
  let key: SigningKey;
  let jwks: JwksServer;
  const servers: MeetingServer[] = [];
  const webhookSecret = 'webhook-secret-webhook-secret-0123456789';

  beforeAll(async () => {
    key = rsaKey('k1');
    jwks = await JwksServer.start([key]);
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await jwks?.close();
  });

  async function server(outage: 'fail-closed' | 'grace', extra: Record<string, string> = {}): Promise<MeetingServer> {
    const s = await startTestServer({
      PLENUM_DEV_MODE: 'false',
      PLENUM_REGISTRY: 'rest',
      PLENUM_REGISTRY_URL: crm.url,
      PLENUM_REGISTRY_FIELD_MAPPING: mappingFile,
      PLENUM_REGISTRY_TIMEOUT_MS: '300',
      PLENUM_REGISTRY_RETRIES: '0',
      PLENUM_REGISTRY_OUTAGE_POLICY: outage,
      PLENUM_REGISTRY_CACHE_TTL_SECONDS: '0',
      PLENUM_REGISTRY_WEBHOOK_SECRET: webhookSecret,
      PLENUM_IDENTITY_ISSUER: IDP_ISSUER,
      PLENUM_IDENTITY_AUDIENCE: IDP_AUDIENCE,
      PLENUM_IDENTITY_JWKS_URL: jwks.url,
      ...extra,
    });
    servers.push(s);
    await s.accreditation.service.sessions.upsert({ sessionId: 'crm-plenary', eventId: 'crm-event', title: 'Plenary', open: true, lobby: false });
    return s;
  }

  async function join(s: MeetingServer, email: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${s.url}/api/join`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identityToken: idToken(key, { email }), sessionId: 'crm-plenary' }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('fail-closed: a CRM outage refuses joins with UNAVAILABLE; grace admits the recently approved, and the audit says which', async () => {
    const strict = await server('fail-closed');
    const lenient = await server('grace');
    expect((await join(strict, 'delegate10@example.org')).status).toBe(200);
    expect((await join(lenient, 'delegate10@example.org')).status).toBe(200);

    await crm.control({ mode: 'error500' });
    const refused = await join(strict, 'delegate10@example.org');
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: { code: 'UNAVAILABLE' }, reasons: ['REGISTRY_UNAVAILABLE'] });
    const admitted = await join(lenient, 'delegate10@example.org');
    expect(admitted.status).toBe(200);
    expect(admitted.body.decision).toBe('allow');
    await crm.control({ mode: 'ok' });

    const strictAudit = (await strict.accreditation.service.audit.query({ sessionId: 'crm-plenary' })).records.reverse();
    expect(strictAudit.map((r) => [r.decision, r.source])).toEqual([
      ['allow', 'live'],
      ['deny', 'unavailable'],
    ]);
    const lenientAudit = (await lenient.accreditation.service.audit.query({ sessionId: 'crm-plenary' })).records.reverse();
    expect(lenientAudit.map((r) => [r.decision, r.source])).toEqual([
      ['allow', 'live'],
      ['allow', 'grace'],
    ]);
  });

  it('a signed CRM webhook revokes a participant within seconds; an unsigned or stale one is refused', async () => {
    const s = await server('fail-closed');
    const joined = await join(s, 'delegate20@example.org');
    const socket = await connectSignaling(s.url, joined.body.joinToken);
    const caps = (await call(socket, 'getRouterRtpCapabilities', {})) as { ok: true; data: { rtpCapabilities: object } };
    expect((await call(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities })).ok).toBe(true);
    const removed = new Promise<{ reason: string; message: string }>((resolve) => socket.once('removed', resolve));

    const body = JSON.stringify({ eventId: 'crm-event', personId: '20' });
    const post = (signature?: string) =>
      fetch(`${s.url}/api/registry/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', ...(signature ? { 'x-plenum-signature': signature } : {}) }, body });
    expect((await post()).status).toBe(401);
    expect((await post(signWebhook('wrong-secret-wrong-secret-0123456789', body))).status).toBe(401);
    expect((await post(signWebhook(webhookSecret, body, Math.floor(Date.now() / 1000) - 3600))).status).toBe(401);
    // Still approved in the CRM: a valid webhook re-checks and keeps them.
    expect(await (await post(signWebhook(webhookSecret, body))).json()).toEqual({ accepted: true, removed: 0 });

    await crm.control({ registrants: Array.from({ length: 300 }, (_, i) => registrant(i, i === 20 ? { state: 'revoked' } : {})) });
    expect(await (await post(signWebhook(webhookSecret, body))).json()).toEqual({ accepted: true, removed: 1 });
    expect(await removed).toMatchObject({ reason: 'ACCREDITATION_REVOKED', message: expect.stringMatching(/revoked/) });
    const audit = (await s.accreditation.service.audit.query({ decision: 'revoke' })).records;
    expect(audit).toMatchObject([{ personId: '20', source: 'webhook', reasons: ['REGISTRATION_REVOKED'] }]);
    socket.close();
  });

  it('periodic revalidation removes a participant whose CRM status changed, with no webhook; a CRM outage removes nobody', async () => {
    const s = await server('fail-closed', { PLENUM_REVALIDATE_INTERVAL_SECONDS: '1', PLENUM_DEV_MODE: 'true' });
    // A dev-mode participant has no registration behind it; revalidation must leave it alone.
    const dev = await connectSignaling(s.url, await devToken(s.url, 'Dev', 'crm-plenary'));
    const devCaps = (await call(dev, 'getRouterRtpCapabilities', {})) as { ok: true; data: { rtpCapabilities: object } };
    expect((await call(dev, 'join', { rtpCapabilities: devCaps.data.rtpCapabilities })).ok).toBe(true);
    const joined = await join(s, 'delegate30@example.org');
    const socket = await connectSignaling(s.url, joined.body.joinToken);
    const caps = (await call(socket, 'getRouterRtpCapabilities', {})) as { ok: true; data: { rtpCapabilities: object } };
    expect((await call(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities })).ok).toBe(true);
    let removedAt = 0;
    socket.once('removed', () => (removedAt = Date.now()));

    // An outage: revalidation cannot get a definite answer, so it keeps the participant.
    await crm.control({ mode: 'error500', reset: true });
    await waitFor(async () => (await crm.stats()).calls >= 2, { what: 'two revalidation attempts during the outage' });
    expect(removedAt).toBe(0);
    expect(socket.connected).toBe(true);

    await crm.control({ mode: 'ok', registrants: Array.from({ length: 300 }, (_, i) => registrant(i, i === 30 ? { state: 'withdrawn' } : {})) });
    await waitFor(() => removedAt > 0, { what: 'removal by revalidation' });
    const audit = (await s.accreditation.service.audit.query({ decision: 'revoke' })).records;
    expect(audit).toMatchObject([{ personId: '30', source: 'revalidation', reasons: ['REGISTRATION_WITHDRAWN'] }]);
    expect(dev.connected).toBe(true);
    socket.close();
    dev.close();
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import { createLogger } from '../../server/logger.js';
import { WebhookOutbox } from '../../server/conduct/webhook-outbox.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { openStore, type Store } from '../../store/open-store.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { freePort } from '../helpers/redis-process.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

// The webhook outbox: events are rows in the system of record, delivered by whichever node is up.
const ADMIN_KEY = 'admin-api-key-admin-api-key-0123456789';
const HOOK_SECRET = 'outgoing-webhook-secret-0123456789abcdef';
const admin = { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY };
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

let postgres: PostgresProcess;
const servers: MeetingServer[] = [];
const receivers: WebhookReceiver[] = [];
const stores: Store[] = [];
const outboxes: WebhookOutbox[] = [];

beforeAll(async () => {
  postgres = await PostgresProcess.start();
});
afterEach(async () => {
  for (const o of outboxes.splice(0)) await o.stop();
  for (const s of stores.splice(0)) await s.close();
  for (const s of servers.splice(0)) await s.close();
  for (const r of receivers.splice(0)) await r.close();
});
afterAll(async () => {
  await postgres?.stop();
});

function serverEnv(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PLENUM_DEV_MODE: 'false',
    PLENUM_ADMIN_API_KEY: ADMIN_KEY,
    PLENUM_WEBHOOK_URL: url,
    PLENUM_WEBHOOK_SECRET: HOOK_SECRET,
    PLENUM_WEBHOOK_BACKOFF_MS: '20',
    PLENUM_WEBHOOK_ATTEMPTS: '30',
    ...extra,
  };
}

async function start(env: Record<string, string>): Promise<MeetingServer> {
  const server = await startTestServer(env);
  servers.push(server);
  return server;
}

async function receiver(port = 0): Promise<WebhookReceiver> {
  const r = await WebhookReceiver.start(HOOK_SECRET, port);
  receivers.push(r);
  return r;
}

/** Creates a scheduled session and opens it through the API: one `session.opened` event for that session. */
async function openNewSession(server: MeetingServer, sessionId: string): Promise<void> {
  const base = `${server.url}/api/admin/events/${DEMO_EVENT_ID}/sessions/${sessionId}`;
  const put = await fetch(base, { method: 'PUT', headers: admin, body: JSON.stringify({ title: sessionId, lobby: false, status: 'scheduled' }) });
  expect(put.status).toBe(200);
  const open = await fetch(`${base}/lifecycle`, { method: 'POST', headers: admin, body: JSON.stringify({ action: 'open' }) });
  expect(open.status).toBe(200);
}

const outboxRow = (store: Store, sessionId: string) =>
  store.db.selectFrom('webhook_outbox').selectAll().where('body', 'like', `%"sessionId":"${sessionId}"%`).executeTakeFirst();

describe('webhook outbox', () => {
  it('delivers an event sent while the receiver was down once it is back, signed, with its de-duplication id', async () => {
    const port = await freePort();
    const server = await start(serverEnv(`http://127.0.0.1:${port}/hooks`));
    await openNewSession(server, 'outbox-down');
    // Refused (nothing listens) at least twice: the row waits with its attempts counted.
    await waitFor(async () => ((await outboxRow(server.store, 'outbox-down'))?.attempts ?? 0) >= 2, { what: 'two failed attempts' });
    const row = (await outboxRow(server.store, 'outbox-down'))!;
    expect(row.delivered_at).toBeNull();
    expect(row.failed_at).toBeNull();

    const hooks = await receiver(port);
    await waitFor(() => hooks.events.some((e) => e.data.sessionId === 'outbox-down'), { what: 'the delivery after the receiver came back' });
    const delivered = hooks.events.filter((e) => e.data.sessionId === 'outbox-down');
    expect(delivered).toMatchObject([{ id: row.delivery_id, type: 'session.opened', validSignature: true }]);
    // The row is marked once the receiver's answer is back: a moment after the receiver saw the event.
    await waitFor(async () => (await outboxRow(server.store, 'outbox-down'))?.delivered_at instanceof Date, { what: 'the row marked delivered' });
    expect(hooks.events.filter((e) => e.data.sessionId === 'outbox-down')).toHaveLength(1);
  });

  it('gives up after the last attempt and says so in the row', async () => {
    const hooks = await receiver();
    hooks.failNext = 1000;
    const server = await start(serverEnv(hooks.url, { PLENUM_WEBHOOK_ATTEMPTS: '3' }));
    await openNewSession(server, 'outbox-give-up');
    const row = await waitFor(async () => {
      const r = await outboxRow(server.store, 'outbox-give-up');
      return r?.failed_at ? r : undefined;
    }, { what: 'the row given up' });
    expect(row).toMatchObject({ attempts: 3, delivered_at: null, last_error: 'HTTP 500' });
    expect(hooks.attempts).toBe(3);
  });

  for (const engine of ['embedded', 'postgres'] as const) {
    it(`a pending event survives a restart: a new server on the same ${engine} store delivers it`, async () => {
      const hooks = await receiver();
      hooks.failNext = 1_000_000; // refusing everything until the first server is gone
      const shared: Record<string, string> = engine === 'postgres' ? { PLENUM_DATABASE_URL: postgres.url } : { PLENUM_DATA_DIR: mkdtempSync(join(tmpdir(), 'plenum-outbox-')) };
      const sessionId = `outbox-restart-${engine}`;
      const first = await start(serverEnv(hooks.url, shared));
      await openNewSession(first, sessionId);
      await waitFor(async () => ((await outboxRow(first.store, sessionId))?.attempts ?? 0) >= 1, { what: 'a refused attempt' });
      await first.close();
      servers.splice(servers.indexOf(first), 1);
      expect(hooks.events.filter((e) => e.data.sessionId === sessionId)).toEqual([]);

      hooks.failNext = 0;
      const second = await start(serverEnv(hooks.url, shared));
      await waitFor(() => hooks.events.some((e) => e.data.sessionId === sessionId), { what: 'the delivery by the new server' });
      const row = await waitFor(async () => {
        const r = await outboxRow(second.store, sessionId);
        return r?.delivered_at instanceof Date ? r : undefined;
      }, { what: 'the row marked delivered' });
      expect(hooks.events.filter((e) => e.data.sessionId === sessionId)).toMatchObject([{ id: row.delivery_id, type: 'session.opened', validSignature: true }]);
    });
  }

  it('two nodes on one PostgreSQL deliver each event once', async () => {
    const hooks = await receiver();
    const options = { url: hooks.url, secret: HOOK_SECRET, attempts: 5, backoffMs: 20, timeoutMs: 5000, pollMs: 5, retentionMs: 3_600_000, queueRetryMs: 0 };
    for (const nodeId of ['outbox-a', 'outbox-b']) {
      const store = await openStore({ databaseUrl: postgres.url, dataDir: mkdtempSync(join(tmpdir(), 'plenum-outbox-')) });
      stores.push(store);
      const outbox = new WebhookOutbox(store.db, nodeId, options, log);
      outboxes.push(outbox);
      outbox.start();
    }
    const [a, b] = outboxes as [WebhookOutbox, WebhookOutbox];
    const total = 120;
    for (let i = 0; i < total; i++) (i % 2 ? a : b).send('floor.given', { sessionId: 'outbox-pair', n: i });
    await Promise.all([a.drain(), b.drain()]);
    await waitFor(async () => (await a.depth()) === 0, { what: 'every row delivered' });
    const ours = hooks.events.filter((e) => e.data.sessionId === 'outbox-pair');
    expect(ours).toHaveLength(total);
    expect(new Set(ours.map((e) => e.id)).size).toBe(total);
    expect(new Set(ours.map((e) => e.data.n)).size).toBe(total);
    // Both nodes took part (each polls every 5 ms while the other is delivering).
    const by = await stores[0]!.db.selectFrom('webhook_outbox').select('claimed_by').distinct().where('body', 'like', '%"outbox-pair"%').execute();
    expect(by.map((r) => r.claimed_by).sort()).toEqual(['outbox-a', 'outbox-b']);
  });
  it('rows delivered or given up longer ago than the retention are deleted; pending and recent ones stay', async () => {
    const hooks = await receiver();
    const store = await openStore({ databaseUrl: postgres.url, dataDir: mkdtempSync(join(tmpdir(), 'plenum-outbox-')) });
    stores.push(store);
    const old = new Date(Date.now() - 3 * 3_600_000);
    const row = (id: string, done: Partial<{ delivered_at: Date; failed_at: Date }>) => ({ delivery_id: id, type: 'floor.given', body: `{"id":"${id}","data":{"sessionId":"retention"}}`, ...done });
    await store.db
      .insertInto('webhook_outbox')
      .values([row('old-delivered', { delivered_at: old }), row('old-failed', { failed_at: old }), row('recent-delivered', { delivered_at: new Date() })])
      .execute();
    const outbox = new WebhookOutbox(store.db, 'retention-node', { url: hooks.url, secret: HOOK_SECRET, attempts: 2, backoffMs: 20, timeoutMs: 5000, pollMs: 20, retentionMs: 3_600_000, queueRetryMs: 0 }, log);
    outboxes.push(outbox);
    outbox.start();
    outbox.send('floor.given', { sessionId: 'retention' });
    await outbox.drain();
    const ids = async () => (await store.db.selectFrom('webhook_outbox').select('delivery_id').where('body', 'like', '%"retention"%').execute()).map((r) => r.delivery_id);
    await waitFor(async () => !(await ids()).includes('old-delivered'), { what: 'old rows to be deleted' });
    const left = await ids();
    expect(left).not.toContain('old-failed');
    expect(left).toContain('recent-delivered');
    expect(left).toHaveLength(2); // the recent one, and the event just sent
  });
});

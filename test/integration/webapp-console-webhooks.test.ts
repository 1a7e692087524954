import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { signInAs } from '../helpers/accreditation-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

// GET /api/admin/events/:eventId/webhooks, the secretariat console's view of the webhook outbox: counts by
// state and the latest deliveries of the event's own sessions, with a real receiver that refuses, then takes.
const ADMIN_KEY = 'admin-api-key-admin-api-key-0123456789';
const HOOK_SECRET = 'outgoing-webhook-secret-0123456789abcdef';
const OTHER_EVENT = 'other-event-2026';
const apiKey = { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY };

let server: MeetingServer;
let hooks: WebhookReceiver;
let chair: string;

interface Delivery {
  deliveryId: string;
  type: string;
  sessionId: string;
  state: string;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string | null;
}
interface Page {
  configured: boolean;
  counts: Record<string, number>;
  deliveries: Delivery[];
  nextCursor: number | null;
}

async function openSession(eventId: string, sessionId: string): Promise<void> {
  const base = `${server.url}/api/admin/events/${eventId}/sessions/${sessionId}`;
  expect((await fetch(base, { method: 'PUT', headers: apiKey, body: JSON.stringify({ title: sessionId, lobby: false, status: 'scheduled' }) })).status).toBe(200);
  expect((await fetch(`${base}/lifecycle`, { method: 'POST', headers: apiKey, body: JSON.stringify({ action: 'open' }) })).status).toBe(200);
}

async function get(eventId: string, query: string, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const res = await fetch(`${server.url}/api/admin/events/${eventId}/webhooks${query}`, { headers });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, text };
}

beforeAll(async () => {
  hooks = await WebhookReceiver.start(HOOK_SECRET);
  server = await startTestServer({
    PLENUM_ADMIN_API_KEY: ADMIN_KEY,
    PLENUM_WEBHOOK_URL: hooks.url,
    PLENUM_WEBHOOK_SECRET: HOOK_SECRET,
    PLENUM_WEBHOOK_BACKOFF_MS: '20',
    PLENUM_WEBHOOK_ATTEMPTS: '2',
  });
  chair = await signInAs(server.url, 'kwame.mensah@demo.gh');
  // The first event is refused twice: given up. The next ones are delivered; one belongs to another event.
  hooks.failNext = 2;
  await openSession(DEMO_EVENT_ID, 'hooks-given-up');
  await waitFor(() => hooks.attempts >= 2 && hooks.failNext === 0, { what: 'two refused attempts' });
  await openSession(DEMO_EVENT_ID, 'hooks-delivered');
  await openSession(OTHER_EVENT, 'hooks-other-event');
  await waitFor(() => hooks.events.some((e) => e.data.sessionId === 'hooks-other-event') && hooks.events.some((e) => e.data.sessionId === 'hooks-delivered'), { what: 'both deliveries' });
});

afterAll(async () => {
  await server?.close();
  await hooks?.close();
});

describe('GET /api/admin/events/:eventId/webhooks', () => {
  it("shows the event's deliveries by state, newest first, without bodies or signatures", async () => {
    const page = await waitFor(async () => {
      const res = await get(DEMO_EVENT_ID, '', { authorization: `Bearer ${chair}` });
      const body = res.body as unknown as Page;
      return res.status === 200 && (body.counts.delivered ?? 0) >= 1 && body.counts.failed === 1 ? { ...res, page: body } : undefined;
    }, { what: 'the delivered and the given-up rows' });
    expect(page.page.configured).toBe(true);
    const sessions = page.page.deliveries.map((d) => d.sessionId);
    expect(sessions).toContain('hooks-delivered');
    expect(sessions).toContain('hooks-given-up');
    expect(sessions).not.toContain('hooks-other-event');
    const given = page.page.deliveries.find((d) => d.sessionId === 'hooks-given-up')!;
    expect(given).toMatchObject({ type: 'session.opened', state: 'failed', attempts: 2, lastError: 'HTTP_500', nextAttemptAt: null });
    const delivered = page.page.deliveries.find((d) => d.sessionId === 'hooks-delivered')!;
    expect(delivered).toMatchObject({ type: 'session.opened', state: 'delivered', attempts: 1, lastError: null });
    // The receiver's de-duplication id is the row's: the secretariat can match what the CRM says it got.
    expect(hooks.events.find((e) => e.data.sessionId === 'hooks-delivered')!.id).toBe(delivered.deliveryId);
    // Newest first.
    expect(sessions.indexOf('hooks-delivered')).toBeLessThan(sessions.indexOf('hooks-given-up'));
    // Neither the secret, nor a signature, nor a body leaves the server.
    expect(page.text).not.toContain(HOOK_SECRET);
    expect(page.text).not.toMatch(/signature|"body"|v1=/i);
  });

  it('filters by state and session, and pages with the cursor', async () => {
    const failed = await get(DEMO_EVENT_ID, '?state=failed', { authorization: `Bearer ${chair}` });
    expect(failed.status).toBe(200);
    expect((failed.body as unknown as Page).deliveries.map((d) => d.sessionId)).toEqual(['hooks-given-up']);
    const one = await get(DEMO_EVENT_ID, '?sessionId=hooks-delivered', { authorization: `Bearer ${chair}` });
    expect((one.body as unknown as Page).deliveries.map((d) => d.sessionId)).toEqual(['hooks-delivered']);

    const first = (await get(DEMO_EVENT_ID, '?limit=1', { authorization: `Bearer ${chair}` })).body as unknown as Page;
    expect(first.deliveries).toHaveLength(1);
    expect(first.nextCursor).not.toBeNull();
    const second = (await get(DEMO_EVENT_ID, `?limit=1&cursor=${first.nextCursor}`, { authorization: `Bearer ${chair}` })).body as unknown as Page;
    expect(second.deliveries).toHaveLength(1);
    expect(second.deliveries[0]!.deliveryId).not.toBe(first.deliveries[0]!.deliveryId);
  });

  it("never lets one event's id reach another event's deliveries", async () => {
    // The other event's secretariat (here: the API key acting for it) sees its own session only.
    const other = await get(OTHER_EVENT, '', apiKey);
    expect(other.status).toBe(200);
    expect((other.body as unknown as Page).deliveries.map((d) => d.sessionId)).toEqual(['hooks-other-event']);
    // A session id of the demo event asked under the other event (and the reverse): NOT_FOUND, nothing read.
    for (const [eventId, sessionId] of [[OTHER_EVENT, 'hooks-delivered'], [DEMO_EVENT_ID, 'hooks-other-event']] as const) {
      const res = await get(eventId, `?sessionId=${sessionId}`, apiKey);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
    // The demo event's chair cannot look at the other event at all.
    const forbidden = await get(OTHER_EVENT, '', { authorization: `Bearer ${chair}` });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ error: { code: 'FORBIDDEN' } });
  });

  it('refuses a delegate, a missing token, and a bad query with stable codes', async () => {
    const delegate = await signInAs(server.url, 'amina.odhiambo@demo.ke');
    expect(await get(DEMO_EVENT_ID, '', { authorization: `Bearer ${delegate}` })).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(await get(DEMO_EVENT_ID, '', {})).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
    for (const query of ['?limit=0', '?limit=101', '?state=lost', '?cursor=-1', '?sessionId=../x', '?secret=1']) {
      const res = await get(DEMO_EVENT_ID, query, { authorization: `Bearer ${chair}` });
      expect(res.status, query).toBe(400);
      expect(res.body, query).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    }
  });
});

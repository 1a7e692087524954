// Regression tests for issue 10, part 2, item 11 (HTTP hardening): headers on the pages (and the pages
// still working under them in real Chromium), /metrics access, and download file names.
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_ACCESS_CODE, DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { launchChromium } from '../helpers/browser.js';
import { startTestServer } from '../helpers/test-server.js';

const ADMIN_KEY = 'admin-api-key-admin-api-key-0123456789';
const METRICS_TOKEN = 'metrics-token-metrics-token-0123456789';
const servers: MeetingServer[] = [];
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
});

async function server(env: Record<string, string> = {}): Promise<MeetingServer> {
  const s = await startTestServer({ PLENUM_DEV_MODE: 'false', PLENUM_ADMIN_API_KEY: ADMIN_KEY, PLENUM_REVALIDATE_INTERVAL_SECONDS: '0', ...env });
  servers.push(s);
  return s;
}

const SAFE_ATTACHMENT = /^attachment; filename="[A-Za-z0-9._-]+\.(csv|txt)"$/;

describe('security: HTTP hardening (issue 10, part 2, item 11)', () => {
  it('11 the pages carry a CSP with frame-ancestors, nosniff and Referrer-Policy, and still work under it in Chromium', async () => {
    const s = await server();
    for (const path of ['/', '/events', '/demo/', '/demo/booth.html', '/demo/demo.js', '/sdk/plenum-sdk.js', '/api/config']) {
      const res = await fetch(`${s.url}${path}`);
      expect([path, res.status]).toEqual([path, 200]);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
    // Nothing inline for the CSP to block: scripts come from files, no handler or style attributes.
    for (const page of ['/', '/events', '/demo/', '/demo/booth.html']) {
      const html = await (await fetch(`${s.url}${page}`)).text();
      expect(html.match(/<script(?![^>]*\bsrc=)[^>]*>/g) ?? []).toEqual([]);
      expect(html.match(/\son[a-z]+\s*=|\sstyle\s*=/gi) ?? []).toEqual([]);
    }

    // The delegate page signs in and lists sessions under the policy, with no violation reported.
    browser = await launchChromium();
    const context = await browser.newContext();
    await context.addInitScript(() => {
      const w = window as unknown as { cspViolations: string[] };
      w.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const page = await context.newPage();
    await page.goto(`${s.url}/demo/`);
    await page.fill('#email', 'amina.odhiambo@demo.ke');
    await page.fill('#access-code', DEMO_ACCESS_CODE);
    await page.click('#sign-in-button');
    await page.waitForSelector('li[data-session="demo-plenary"]', { timeout: 30_000 });
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
    await context.close();
  });

  it('11 /metrics is refused on a public bind unless protected: a bearer token, or its own listener', async () => {
    // Bound to every interface, with nothing configured: refused, saying what to set.
    const open = await server({ PLENUM_HOST: '0.0.0.0' });
    const refused = await fetch(`${open.url}/metrics`);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: 'FORBIDDEN', message: expect.stringContaining('PLENUM_METRICS_TOKEN') } });

    // With a token: only with it.
    const withToken = await server({ PLENUM_HOST: '0.0.0.0', PLENUM_METRICS_TOKEN: METRICS_TOKEN });
    expect((await fetch(`${withToken.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${withToken.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-wrong-token-wrong-token' } })).status).toBe(401);
    const scraped = await fetch(`${withToken.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toMatch(/^plenum_media_workers 1$/m);

    // On its own listener: not on the main port at all; there, with the token when one is set.
    const separate = await server({ PLENUM_HOST: '0.0.0.0', PLENUM_METRICS_PORT: '0', PLENUM_METRICS_TOKEN: METRICS_TOKEN });
    expect((await fetch(`${separate.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(404);
    const listener = separate.metricsListener!;
    expect(listener.url).not.toBe(separate.url);
    expect((await fetch(`${listener.url}/metrics`)).status).toBe(401);
    const own = await fetch(`${listener.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(own.status).toBe(200);
    expect(await own.text()).toMatch(/^plenum_sign_in_hashes_waiting 0$/m);
    expect((await fetch(`${listener.url}/api/config`)).status).toBe(404);
  });

  it('11 download file names are built from validated ids only, never from raw input', async () => {
    const s = await server();
    const admin = `${s.url}/api/admin/events/${DEMO_EVENT_ID}`;
    const headers = { 'x-api-key': ADMIN_KEY };
    const downloads = [
      [`${admin}/audit?format=csv`, `attachment; filename="audit-${DEMO_EVENT_ID}.csv"`],
      [`${admin}/sessions/demo-council/attendance?format=csv`, 'attachment; filename="attendance-demo-council.csv"'],
      [`${admin}/sessions/demo-plenary/transcripts/fr`, 'attachment; filename="transcript-demo-plenary-fr.txt"'],
    ];
    for (const [url, expected] of downloads) {
      const res = await fetch(url!, { headers });
      expect([url, res.status, res.headers.get('content-disposition')]).toEqual([url, 200, expected]);
      expect(res.headers.get('content-disposition')).toMatch(SAFE_ATTACHMENT);
    }
    // Hostile ids (quotes, CR/LF, separators) never reach a header: they are refused as ids first.
    for (const hostile of ['x%22%3B%20filename%3D%22evil.exe', 'x%0d%0aX-Injected%3A%201', '..%2F..%2Fetc']) {
      for (const path of [`/api/admin/events/${hostile}/audit?format=csv`, `/api/admin/events/${DEMO_EVENT_ID}/sessions/${hostile}/attendance?format=csv`, `/api/admin/events/${DEMO_EVENT_ID}/sessions/demo-plenary/transcripts/${hostile}`]) {
        const res = await fetch(`${s.url}${path}`, { headers });
        expect([path, res.status]).toEqual([path, 400]);
        expect(res.headers.get('content-disposition')).toBeNull();
        expect(res.headers.get('x-injected')).toBeNull();
      }
    }
  });
});

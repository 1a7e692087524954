import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID, demoRegistry } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { artifactPath, launchChromium } from '../helpers/browser.js';
import { startTestServer } from '../helpers/test-server.js';
import { catalogue, openWebPage, seriousViolations } from '../helpers/webapp.js';

// Single sign-on in the web app against a real OpenID provider (oidc-provider, started here over http on
// loopback): in real Chromium a delegate clicks "Sign in with <organisation>" on /events, goes through the
// provider's own login and consent pages, comes back to the page they started from with the ID token as
// their identity, and joins the demo plenary with it. The authorization request must be the code flow with
// PKCE (S256), the provider found from its discovery document. A forged state and a stored return path to
// another origin are refused; an expired ID token means signing in again; the embedded form shows only
// where the embedded sign-in is on.

const en = catalogue('en');
const ar = catalogue('ar');
const CLIENT_ID = 'plenum-web';
const PROVIDER_NAME = 'UN Identity';
const DELEGATE = demoRegistry().registrations.find((r) => r.personId === 'p-ke-1')!;
const PLENARY = 'demo-plenary';

let issuer: string;
let providerHttp: Server;
/** Provider-only sign-in (the embedded sign-in off), and both side by side. */
let ssoOnly: MeetingServer;
let both: MeetingServer;
let browser: Browser;
/** What the provider saw: the authorization requests' parameters, and who fetched its discovery document. */
const authorizations: Array<Record<string, unknown>> = [];
const discoveryOrigins: Array<string | undefined> = [];

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The organisation's accounts: the demo event's people, by e-mail, as the provider's directory would have them. */
function findAccount(_ctx: unknown, id: string) {
  const person = demoRegistry().registrations.find((r) => r.email === id.trim().toLowerCase());
  if (!person) return undefined;
  return { accountId: person.email, claims: () => ({ sub: `org-${person.personId}`, email: person.email, email_verified: true, name: person.name }) };
}

beforeAll(async () => {
  // The issuer's address is needed by Plenum's configuration, and Plenum's by the provider's client: listen
  // first, configure the provider once both are known.
  providerHttp = createServer();
  issuer = await listen(providerHttp);
  const oidcEnv = (embedded: boolean): Record<string, string> => ({
    PLENUM_IDENTITY_ISSUER: issuer,
    PLENUM_IDENTITY_AUDIENCE: CLIENT_ID,
    PLENUM_IDENTITY_JWKS_URL: `${issuer}/jwks`,
    PLENUM_OIDC_CLIENT_ID: CLIENT_ID,
    PLENUM_OIDC_PROVIDER_NAME: PROVIDER_NAME,
    PLENUM_EMBEDDED_SIGN_IN: String(embedded),
  });
  [ssoOnly, both] = await Promise.all([startTestServer(oidcEnv(false)), startTestServer(oidcEnv(true))]);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const provider = new Provider(issuer, {
    // A public client (no secret): the browser is the client, so PKCE is what binds the code to it.
    clients: [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: 'none',
        redirect_uris: [`${ssoOnly.url}/signed-in`, `${both.url}/signed-in`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    pkce: { required: () => true },
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'org-key-1', alg: 'RS256', use: 'sig' }] },
    findAccount,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // The e-mail and name in the ID token itself, as organisations' providers put them: Plenum reads that token.
    conformIdTokenClaims: false,
    // The token endpoint answers the pages' origins (the browser redeems the code itself).
    clientBasedCORS: (_ctx: unknown, origin: string) => origin === ssoOnly.url || origin === both.url,
    ttl: { Session: 3600, Grant: 3600, Interaction: 600, AccessToken: 600, IdToken: 3600 },
    cookies: { keys: ['a test cookie signing key, not a secret of anything'] },
    features: { devInteractions: { enabled: true } },
  });
  provider.on('authorization.accepted', (ctx) => authorizations.push({ ...ctx.oidc.params }));
  const handle = provider.callback();
  providerHttp.on('request', (req: IncomingMessage, res) => {
    if (req.url === '/.well-known/openid-configuration') discoveryOrigins.push(req.headers.origin);
    handle(req, res);
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([ssoOnly?.close(), both?.close()]);
  providerHttp?.closeAllConnections();
  await new Promise((resolve) => providerHttp?.close(resolve));
});

const providerButton = (page: Page, t = en) => page.getByRole('button', { name: t('signIn.withProvider', { provider: PROVIDER_NAME }) });
const storedIdentity = (page: Page) => page.evaluate(() => sessionStorage.getItem('plenum.identity'));

/** The provider's own pages (its dev login and consent), driven by their form fields. */
async function signInAtProvider(page: Page, email: string): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(`${issuer}/interaction/`));
  await page.locator('input[name="login"]').fill(email);
  await page.locator('input[name="password"]').fill('the organisation checks this');
  await page.locator('button[type="submit"]').click();
  // Consent: the second interaction page, for the scopes Plenum asks.
  await page.locator('input[name="prompt"][value="consent"]').waitFor({ state: 'attached' });
  await page.locator('button[type="submit"]').click();
}

function payload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('the configuration the browser gets', () => {
  it('tells the provider, client id, redirect and scope, no secret, and lets the page reach the provider (CSP)', async () => {
    const res = await fetch(`${ssoOnly.url}/api/config`);
    expect(await res.json()).toEqual({
      devMode: true,
      embeddedSignIn: false,
      oidc: { issuer, clientId: CLIENT_ID, redirectUri: '/signed-in', scope: 'openid email profile', providerName: PROVIDER_NAME },
    });
    // connect-src names the provider's origin (derived from PLENUM_IDENTITY_ISSUER).
    expect(res.headers.get('content-security-policy')).toContain(`connect-src 'self' ${issuer} `);
  });
});

describe('signing in through the organisation\'s OpenID provider', () => {
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  const startPath = `/events?from=${encodeURIComponent('sso-test')}`;

  beforeAll(async () => {
    ({ page, problems } = await openWebPage(browser, `${ssoOnly.url}${startPath}`, 'en'));
    context = page.context();
  });
  afterAll(() => context?.close());

  it('offers the provider and no embedded form when the embedded sign-in is off', async () => {
    await providerButton(page).waitFor();
    expect(await page.getByTestId('sign-in-form').count()).toBe(0);
    expect(await page.getByLabel(en('signIn.accessCode')).count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('goes through the provider\'s login and consent pages and comes back signed in, where it started', async () => {
    const before = authorizations.length;
    await providerButton(page).click();
    await signInAtProvider(page, DELEGATE.email);
    await page.getByTestId('signed-in-as').waitFor();
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe(startPath);
    expect(await page.getByTestId('signed-in-as').textContent()).toContain(en('signIn.signedInAs', { name: DELEGATE.name }));

    // The code flow with PKCE, from the discovery document the page fetched itself.
    const request = authorizations.slice(before).at(-1)!;
    expect(request).toMatchObject({ client_id: CLIENT_ID, response_type: 'code', code_challenge_method: 'S256', redirect_uri: `${ssoOnly.url}/signed-in` });
    expect(request.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(discoveryOrigins).toContain(ssoOnly.url);

    // The identity is the provider's ID token (for this client), and nothing of the flow is left behind.
    const identity = JSON.parse((await storedIdentity(page))!) as { token: string; name: string };
    expect(payload(identity.token)).toMatchObject({ iss: issuer, aud: CLIENT_ID, email: DELEGATE.email, name: DELEGATE.name });
    const leftovers = await page.evaluate(() => [...Object.keys(sessionStorage), ...Object.keys(localStorage)].filter((k) => k.startsWith('oidc.')));
    expect(leftovers).toEqual([]);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('joins the demo plenary with the ID token (decision allow)', async () => {
    const plenary = page.locator(`[data-testid="session"][data-session-id="${PLENARY}"]`);
    await plenary.waitFor();
    expect(await plenary.getByTestId('session-access').getAttribute('data-access')).toBe('allow');
    await plenary.getByRole('button', { name: en('events.session.join') }).click();
    const decision = plenary.getByTestId('join-decision');
    await decision.waitFor();
    expect(await decision.getAttribute('data-decision')).toBe('allow');
    expect(await decision.locator('[data-reason="ADMITTED"]').count()).toBe(1);
    expect(await page.locator(`section[aria-labelledby="event-${DEMO_EVENT_ID}"]`).count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('webapp-oidc-signed-in-en.png'), fullPage: true });
  });

  it('asks to sign in again once the ID token has expired', async () => {
    // The same token with an `exp` in the past (the page reads it; the server would refuse it anyway).
    await page.evaluate(() => {
      const identity = JSON.parse(sessionStorage.getItem('plenum.identity')!) as { token: string };
      const [header, body, signature] = identity.token.split('.') as [string, string, string];
      const claims = JSON.parse(atob(body.replace(/-/g, '+').replace(/_/g, '/'))) as { exp: number };
      claims.exp = Math.floor(Date.now() / 1000) - 60;
      const expired = btoa(JSON.stringify(claims)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      sessionStorage.setItem('plenum.identity', JSON.stringify({ ...identity, token: `${header}.${expired}.${signature}` }));
    });
    await page.reload();
    await providerButton(page).waitFor();
    expect(await page.getByTestId('signed-in-as').count()).toBe(0);
    expect(await storedIdentity(page)).toBeNull();
  });

  it('signs in again without a second login (the provider\'s session) and signs out', async () => {
    const interactions: string[] = [];
    const onRequest = (request: { url(): string }) => request.url().startsWith(`${issuer}/interaction/`) && interactions.push(request.url());
    page.on('request', onRequest);
    await providerButton(page).click();
    await page.getByTestId('signed-in-as').waitFor();
    page.off('request', onRequest);
    expect(interactions).toEqual([]);
    await page.getByRole('button', { name: en('signIn.signOut') }).click();
    await providerButton(page).waitFor();
    expect(await storedIdentity(page)).toBeNull();
    expect(problems).toEqual([]);
  });
});

describe('refusals', () => {
  it('refuses a callback whose state was forged or tampered with, and keeps nobody signed in', async () => {
    const { page, problems } = await openWebPage(browser, `${ssoOnly.url}/signed-in?code=forged-code&state=forged-state`, 'en');
    const error = page.getByTestId('sign-in-callback-error');
    // A link made elsewhere (login CSRF): no sign-in started in this tab has that state.
    await page.waitForSelector('[data-testid="sign-in-callback-error"][data-code="failed"]');
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await error.textContent()).toBe(en('signIn.callbackFailed'));
    expect(await storedIdentity(page)).toBeNull();
    expect(await seriousViolations(page)).toEqual([]);
    // The way back is to sign in again.
    await page.getByRole('link', { name: en('signIn.again') }).click();

    // A real sign-in whose redirect back has one character of the state changed, before the page reads it.
    await page.context().addInitScript(() => {
      if (location.pathname !== '/signed-in' || sessionStorage.getItem('test.tampered')) return;
      const url = new URL(location.href);
      const state = url.searchParams.get('state') ?? '';
      url.searchParams.set('state', `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`);
      history.replaceState(null, '', url.href);
      sessionStorage.setItem('test.tampered', state);
    });
    await providerButton(page).click();
    await signInAtProvider(page, DELEGATE.email);
    await page.waitForSelector('[data-testid="sign-in-callback-error"][data-code="failed"]');
    expect(await page.evaluate(() => sessionStorage.getItem('test.tampered'))).toBeTruthy();
    expect(new URL(page.url()).pathname).toBe('/signed-in');
    expect(await storedIdentity(page)).toBeNull();
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it.each(['https://evil.example/phish', '//evil.example/phish', '/\\evil.example/phish'])(
    'goes to /events, not to a stored return path of %s',
    async (foreign) => {
      const { page, problems } = await openWebPage(browser, `${ssoOnly.url}/events`, 'en');
      // A return path planted in the stored OIDC state (as a script on the origin could), read on the way back.
      await page.context().addInitScript((target) => {
        if (location.pathname !== '/signed-in') return;
        for (const key of Object.keys(sessionStorage).filter((k) => k.startsWith('oidc.'))) {
          const state = JSON.parse(sessionStorage.getItem(key)!) as { data?: { returnTo?: string } };
          if (state.data) sessionStorage.setItem(key, JSON.stringify({ ...state, data: { ...state.data, returnTo: target } }));
        }
      }, foreign);
      await providerButton(page).click();
      await signInAtProvider(page, DELEGATE.email);
      await page.getByTestId('signed-in-as').waitFor();
      expect(page.url()).toBe(`${ssoOnly.url}/events`);
      expect(problems).toEqual([]);
      await page.context().close();
    },
  );
});

it('shows the provider and the embedded sign-in side by side where both are on (in Arabic)', async () => {
  const { page, problems } = await openWebPage(browser, `${both.url}/events`, 'ar');
  await providerButton(page, ar).waitFor();
  expect(await page.evaluate(() => document.documentElement.dir)).toBe('rtl');
  expect(await page.getByRole('heading', { name: ar('signIn.withAccessCode') }).count()).toBe(1);
  expect(await page.getByRole('form', { name: ar('signIn.withAccessCode') }).getByLabel(ar('signIn.accessCode')).count()).toBe(1);
  expect(await seriousViolations(page)).toEqual([]);
  await page.screenshot({ path: artifactPath('webapp-oidc-sign-in-ar.png'), fullPage: true });

  // The provider cannot be reached (its discovery document does not come): said in the alert region, and
  // the button can be tried again.
  await page.route(`${issuer}/.well-known/openid-configuration`, (route) => route.abort());
  await providerButton(page, ar).click();
  await page.waitForSelector('[data-testid="sign-in-error"][data-code="PROVIDER_UNREACHABLE"]');
  expect(await page.getByTestId('sign-in-error').textContent()).toBe(ar('signIn.providerFailed', { provider: PROVIDER_NAME }));
  expect(await providerButton(page, ar).isEnabled()).toBe(true);
  expect(new URL(page.url()).pathname).toBe('/events');
  expect(await seriousViolations(page)).toEqual([]);
  expect(problems).toEqual([]);
  await page.context().close();
});

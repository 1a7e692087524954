import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.js';
import { DEFAULT_RETURN_TO, safeReturnTo } from '../../web/src/shared/oidc-return-to.js';

// The web app's single sign-on settings (PLENUM_OIDC_*), checked at start against the ID-token verifier's, and
// the return path after the provider's redirect back, which must never leave the origin.

const provider = {
  PLENUM_IDENTITY_ISSUER: 'https://login.example.org/realms/un',
  PLENUM_IDENTITY_JWKS_URL: 'https://login.example.org/realms/un/certs',
  PLENUM_IDENTITY_AUDIENCE: 'plenum-web',
  PLENUM_OIDC_CLIENT_ID: 'plenum-web',
};

describe('PLENUM_OIDC_* settings', () => {
  it('are what /api/config tells the browser, with defaults', () => {
    expect(loadConfig(provider).identity.oidc).toEqual({
      issuer: provider.PLENUM_IDENTITY_ISSUER,
      clientId: 'plenum-web',
      redirectUri: '/signed-in',
      scope: 'openid email profile',
      providerName: 'login.example.org',
    });
    const full = loadConfig({ ...provider, PLENUM_OIDC_REDIRECT_URI: 'https://plenum.example.org/signed-in', PLENUM_OIDC_SCOPE: 'openid  email', PLENUM_OIDC_PROVIDER_NAME: 'UN Identity' });
    expect(full.identity.oidc).toMatchObject({ redirectUri: 'https://plenum.example.org/signed-in', scope: 'openid email', providerName: 'UN Identity' });
    expect(loadConfig({}).identity.oidc).toBeUndefined();
  });

  it('refuses a client id whose ID tokens the verifier would refuse, naming the variables', () => {
    const audience = () => loadConfig({ ...provider, PLENUM_IDENTITY_AUDIENCE: 'plenum' });
    expect(audience).toThrow(ConfigError);
    expect(audience).toThrow(/PLENUM_OIDC_CLIENT_ID \(plenum-web\) and PLENUM_IDENTITY_AUDIENCE \(plenum\) disagree/);
    // The default audience (plenum) is not the client id either.
    expect(() => loadConfig({ ...provider, PLENUM_IDENTITY_AUDIENCE: undefined })).toThrow(/PLENUM_IDENTITY_AUDIENCE/);
    expect(() => loadConfig({ PLENUM_OIDC_CLIENT_ID: 'plenum-web' })).toThrow(/PLENUM_IDENTITY_JWKS_URL/);
    expect(() => loadConfig({ ...provider, PLENUM_IDENTITY_JWKS_URL: undefined, PLENUM_IDENTITY_HS256_SECRET: 's'.repeat(40) })).toThrow(/PLENUM_IDENTITY_JWKS_URL/);
  });

  it('refuses an issuer, a redirect or a scope a browser could not use', () => {
    expect(() => loadConfig({ ...provider, PLENUM_IDENTITY_ISSUER: 'http://login.example.org' })).toThrow(/PLENUM_IDENTITY_ISSUER/);
    expect(() => loadConfig({ ...provider, PLENUM_IDENTITY_ISSUER: 'login.example.org' })).toThrow(/PLENUM_IDENTITY_ISSUER/);
    // http on the machine itself is for development and tests.
    expect(loadConfig({ ...provider, PLENUM_IDENTITY_ISSUER: 'http://127.0.0.1:4000' }).identity.oidc?.issuer).toBe('http://127.0.0.1:4000');
    expect(() => loadConfig({ ...provider, PLENUM_OIDC_REDIRECT_URI: 'https://plenum.example.org/elsewhere' })).toThrow(/PLENUM_OIDC_REDIRECT_URI/);
    expect(() => loadConfig({ ...provider, PLENUM_OIDC_REDIRECT_URI: 'http://plenum.example.org/signed-in' })).toThrow(/PLENUM_OIDC_REDIRECT_URI/);
    expect(() => loadConfig({ ...provider, PLENUM_OIDC_REDIRECT_URI: '/signed-in' })).toThrow(/PLENUM_OIDC_REDIRECT_URI/);
    expect(() => loadConfig({ ...provider, PLENUM_OIDC_SCOPE: 'email profile' })).toThrow(/PLENUM_OIDC_SCOPE must include openid/);
    // A setting for a client that is not configured is a mistake worth saying.
    expect(() => loadConfig({ PLENUM_OIDC_SCOPE: 'openid' })).toThrow(/PLENUM_OIDC_SCOPE is set but PLENUM_OIDC_CLIENT_ID is not/);
  });
});

describe('the return path after signing in', () => {
  const origin = 'https://plenum.example.org';

  it('keeps a path of this origin, with its query and fragment', () => {
    expect(safeReturnTo('/delegate?session=demo-plenary', origin)).toBe('/delegate?session=demo-plenary');
    expect(safeReturnTo('/events#s1', origin)).toBe('/events#s1');
  });

  it.each([
    'https://evil.example/phish',
    '//evil.example/phish',
    '/\\evil.example/phish',
    '/\t/evil.example/phish',
    '\\\\evil.example',
    'javascript:alert(1)',
    'events',
    '',
    '/signed-in?code=x&state=y',
    42,
    undefined,
    { href: '/events' },
  ])('sends %j to /events instead', (value) => {
    expect(safeReturnTo(value, origin)).toBe(DEFAULT_RETURN_TO);
  });
});

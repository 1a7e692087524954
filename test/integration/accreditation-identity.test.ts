import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityError } from '../../accreditation/identity/identity.js';
import { JwksKeySource } from '../../accreditation/identity/jwks-key-source.js';
import { JwtIdentityVerifier, MultiIssuerVerifier } from '../../accreditation/identity/jwt-identity-verifier.js';
import { ecKey, IDP_AUDIENCE, IDP_ISSUER, idToken, JwksServer, rsaKey, type SigningKey } from '../helpers/jwks-server.js';

let jwks: JwksServer;
let rsa: SigningKey;
let ec: SigningKey;

beforeAll(async () => {
  rsa = rsaKey('rsa-1');
  ec = ecKey('ec-1');
  jwks = await JwksServer.start([rsa, ec]);
});
afterAll(() => jwks?.close());

function jwksVerifier(minRefreshIntervalMs = 0): JwtIdentityVerifier {
  return new JwtIdentityVerifier({
    issuer: IDP_ISSUER,
    audience: IDP_AUDIENCE,
    key: { kind: 'jwks', algorithms: ['RS256', 'ES256'], source: new JwksKeySource({ url: jwks.url, cacheTtlMs: 60_000, minRefreshIntervalMs, timeoutMs: 2000 }) },
    clockSkewSeconds: 30,
    emailClaim: 'email',
    nameClaim: 'name',
  });
}

async function refusal(verifier: { verify(t: string): Promise<unknown> }, token: string): Promise<string> {
  try {
    await verifier.verify(token);
  } catch (error) {
    expect(error).toBeInstanceOf(IdentityError);
    return (error as Error).message;
  }
  throw new Error('the token was accepted');
}

describe('accreditation identity: tokens from the identity provider (real keys, real JWKS server)', () => {
  it('accepts RS256 and ES256 tokens signed with keys the JWKS publishes', async () => {
    const v = jwksVerifier();
    expect(await v.verify(idToken(rsa))).toEqual({ issuer: IDP_ISSUER, subject: 'idp-user-1', email: 'amina.odhiambo@demo.ke', name: 'Amina Odhiambo', personId: undefined });
    expect((await v.verify(idToken(ec))).subject).toBe('idp-user-1');
  });

  it('refuses forged, expired, not-yet-valid, wrong-audience, wrong-issuer and alg:none tokens', async () => {
    const v = jwksVerifier();
    const stranger = rsaKey('rsa-1'); // same kid, different key: a forgery
    expect(await refusal(v, idToken(stranger))).toMatch(/not valid/);
    expect(await refusal(v, idToken(rsa, {}, { expiresIn: -120 }))).toMatch(/expired/);
    expect(await refusal(v, idToken(rsa, { nbf: Math.floor(Date.now() / 1000) + 600 }))).toMatch(/not valid yet/);
    expect(await refusal(v, idToken(rsa, {}, { audience: 'someone-else' }))).toMatch(/audience/);
    expect(await refusal(v, idToken(rsa, {}, { issuer: 'https://evil.example' }))).toMatch(/issuer/);
    const none = jwt.sign({ email: 'x@y.z', iss: IDP_ISSUER, aud: IDP_AUDIENCE, sub: 's', exp: Math.floor(Date.now() / 1000) + 60 }, '', { algorithm: 'none' });
    expect(await refusal(v, none)).toMatch(/algorithm none/);
  });

  it('tolerates the configured clock skew and no more', async () => {
    const v = jwksVerifier();
    expect((await v.verify(idToken(rsa, {}, { expiresIn: -10 }))).subject).toBe('idp-user-1');
    expect(await refusal(v, idToken(rsa, {}, { expiresIn: -120 }))).toMatch(/expired/);
  });

  it('refuses an HS256 token signed with the RSA public key (algorithm confusion), and an EC key used as RS256', async () => {
    const v = jwksVerifier();
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const confused = jwt.sign({ email: 'x@y.z' }, pem, { algorithm: 'HS256', keyid: 'rsa-1', issuer: IDP_ISSUER, audience: IDP_AUDIENCE, subject: 's', expiresIn: 60 });
    expect(await refusal(v, confused)).toMatch(/algorithm HS256/);
    // Header claims RS256 but names the EC key.
    const [, payload, signature] = idToken(ec).split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'ec-1' })).toString('base64url');
    expect(await refusal(v, `${header}.${payload}.${signature}`)).toMatch(/does not match its key/);
  });

  it('follows key rotation: a token with a new kid makes it fetch the JWKS again', async () => {
    const v = jwksVerifier(0);
    await v.verify(idToken(rsa));
    const before = jwks.fetches;
    const rotated = rsaKey('rsa-2');
    jwks.keys = [rotated, ec];
    expect((await v.verify(idToken(rotated))).subject).toBe('idp-user-1');
    expect(jwks.fetches).toBe(before + 1);
    // The retired key no longer verifies once the set has been refreshed.
    expect(await refusal(v, idToken(rsa))).toMatch(/unknown key/);
    jwks.keys = [rsa, ec];
  });

  it('with a shared HS256 secret accepts only HS256 with that secret; a multi-issuer verifier refuses unknown issuers', async () => {
    const secret = 'a-shared-secret-of-at-least-32-chars!!';
    const hs = new JwtIdentityVerifier({ issuer: 'hs-idp', audience: IDP_AUDIENCE, key: { kind: 'shared-secret', secret }, clockSkewSeconds: 0, emailClaim: 'email', nameClaim: 'name' });
    const good = jwt.sign({ email: 'a@b.c' }, secret, { algorithm: 'HS256', issuer: 'hs-idp', audience: IDP_AUDIENCE, subject: 'u', expiresIn: 60 });
    expect((await hs.verify(good)).email).toBe('a@b.c');
    expect(await refusal(hs, jwt.sign({}, 'another-secret-another-secret-xx', { algorithm: 'HS256', issuer: 'hs-idp', audience: IDP_AUDIENCE, subject: 'u', expiresIn: 60 }))).toMatch(/signature/);
    expect(await refusal(hs, idToken(rsa, {}, { issuer: 'hs-idp' }))).toMatch(/algorithm RS256/);
    const multi = new MultiIssuerVerifier([hs, jwksVerifier()]);
    expect((await multi.verify(idToken(rsa))).issuer).toBe(IDP_ISSUER);
    expect((await multi.verify(good)).issuer).toBe('hs-idp');
    expect(await refusal(multi, idToken(rsa, {}, { issuer: 'https://unknown.example' }))).toMatch(/unknown issuer/);
    expect(await refusal(multi, 'not-a-jwt')).toMatch(/unknown issuer/);
  });
});

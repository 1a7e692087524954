import { describe, expect, it } from 'vitest';
import { DigestAuthenticator, digestResponse, parseAuthParams, type DigestAlgorithm } from '../../server/dial-in/sip/digest-auth.js';

const credentials = { username: 'trunk', password: 'secret', realm: 'plenum' };
const URI = 'sip:4711@gw.example.org;transport=tcp';

function authorize(challenge: string, options: { password?: string; uri?: string; username?: string; method?: string } = {}): string {
  const params = parseAuthParams(challenge.replace(/^Digest\s+/, ''))!;
  const algorithm = (params.get('algorithm') ?? 'MD5') as DigestAlgorithm;
  const input = {
    algorithm,
    username: options.username ?? credentials.username,
    realm: params.get('realm')!,
    password: options.password ?? credentials.password,
    method: options.method ?? 'INVITE',
    uri: options.uri ?? URI,
    nonce: params.get('nonce')!,
    nc: '00000001',
    cnonce: 'c0ffee',
    qop: 'auth',
  };
  return `Digest username="${input.username}", realm="${input.realm}", nonce="${input.nonce}", uri="${input.uri}", response="${digestResponse(input)}", algorithm=${algorithm}, cnonce="c0ffee", qop=auth, nc=00000001`;
}

describe('SIP digest authentication', () => {
  it('computes the RFC 2617 §3.5 example (MD5) and the RFC 7616 §3.9.1 example (SHA-256)', () => {
    const base = { username: 'Mufasa', method: 'GET', uri: '/dir/index.html', nc: '00000001', qop: 'auth' };
    expect(
      digestResponse({ ...base, algorithm: 'MD5', realm: 'testrealm@host.com', password: 'Circle Of Life', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', cnonce: '0a4f113b' }),
    ).toBe('6629fae49393a05397450978507c4ef1');
    expect(
      digestResponse({
        ...base,
        algorithm: 'SHA-256',
        realm: 'http-auth@example.org',
        password: 'Circle of Life',
        nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
        cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      }),
    ).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('accepts a correct answer to its own challenge, with MD5 and SHA-256', () => {
    const auth = new DigestAuthenticator({ credentials, algorithms: ['SHA-256', 'MD5'] });
    const challenges = auth.challenge();
    expect(challenges).toHaveLength(2);
    expect(challenges[0]).toMatch(/^Digest realm="plenum", nonce="[^"]+", qop="auth", algorithm=SHA-256$/);
    for (const challenge of challenges) expect(auth.verify(authorize(challenge), 'INVITE', URI)).toEqual({ ok: true, username: 'trunk' });
  });

  it('refuses a wrong password, user, method, or a digest made for another URI', () => {
    const auth = new DigestAuthenticator({ credentials });
    const [challenge] = auth.challenge();
    expect(auth.verify(authorize(challenge!, { password: 'guess' }), 'INVITE', URI)).toEqual({ ok: false, reason: 'bad-response' });
    expect(auth.verify(authorize(challenge!, { username: 'other' }), 'INVITE', URI)).toEqual({ ok: false, reason: 'wrong-user' });
    expect(auth.verify(authorize(challenge!, { method: 'BYE' }), 'INVITE', URI)).toEqual({ ok: false, reason: 'bad-response' });
    expect(auth.verify(authorize(challenge!, { uri: 'sip:other@x' }), 'INVITE', URI)).toEqual({ ok: false, reason: 'malformed' });
    expect(auth.verify(undefined, 'INVITE', URI)).toEqual({ ok: false, reason: 'missing' });
    expect(auth.verify('Basic dHJ1bms6c2VjcmV0', 'INVITE', URI)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a forged nonce and a nonce from another gateway secret', () => {
    const auth = new DigestAuthenticator({ credentials });
    const [challenge] = auth.challenge();
    const nonce = parseAuthParams(challenge!.replace(/^Digest\s+/, ''))!.get('nonce')!;
    const raw = Buffer.from(nonce, 'base64url');
    raw[0] = raw[0]! ^ 1; // move the timestamp: the HMAC no longer matches
    const forged = challenge!.replace(nonce, raw.toString('base64url'));
    expect(auth.verify(authorize(forged), 'INVITE', URI)).toEqual({ ok: false, reason: 'bad-nonce' });
    const other = new DigestAuthenticator({ credentials });
    expect(other.verify(authorize(challenge!), 'INVITE', URI)).toEqual({ ok: false, reason: 'bad-nonce' });
    expect(auth.verify(authorize(challenge!.replace(nonce, 'dcd98b7102dd2f0e8b11d0f600bfb0c093')), 'INVITE', URI)).toEqual({ ok: false, reason: 'bad-nonce' });
  });

  it('refuses a stale nonce and marks the new challenge stale', () => {
    let now = 1_000_000;
    const auth = new DigestAuthenticator({ credentials, nonceTtlMs: 30_000, now: () => now });
    const [challenge] = auth.challenge();
    const answer = authorize(challenge!);
    now += 29_000;
    expect(auth.verify(answer, 'INVITE', URI).ok).toBe(true);
    now += 2_000;
    expect(auth.verify(answer, 'INVITE', URI)).toEqual({ ok: false, reason: 'stale' });
    expect(auth.challenge(true)[0]).toMatch(/stale=true$/);
  });

  it('parses quoted auth-params with commas and semicolons, and refuses junk', () => {
    expect(parseAuthParams('uri="sip:a@b;transport=tcp", x="a, b", n=1')).toEqual(
      new Map([
        ['uri', 'sip:a@b;transport=tcp'],
        ['x', 'a, b'],
        ['n', '1'],
      ]),
    );
    expect(parseAuthParams('uri="unterminated')).toBeUndefined();
    expect(parseAuthParams('a=1, a=2')).toBeUndefined();
  });
});

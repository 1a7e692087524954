// HTTP digest authentication of the SIP trunk (RFC 3261 §22, RFC 2617, RFC 8760 for SHA-256).
// Nonces are stateless: issue time + HMAC, so any gateway restart or replica can verify them, and they expire.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

export interface DigestCredentials {
  readonly username: string;
  readonly password: string;
  readonly realm: string;
}

export interface DigestOptions {
  readonly credentials: DigestCredentials;
  /** Offered in this order (RFC 8760: the preferred first). Default MD5 only. */
  readonly algorithms?: readonly DigestAlgorithm[];
  /** How long a nonce stays valid. */
  readonly nonceTtlMs?: number;
  /** HMAC key for nonces; random per process when not given. */
  readonly nonceSecret?: Buffer;
  readonly now?: () => number;
}

export type DigestVerdict =
  | { ok: true; username: string }
  | { ok: false; reason: 'missing' | 'malformed' | 'wrong-user' | 'wrong-realm' | 'bad-nonce' | 'stale' | 'bad-response' };

const HASH: Record<DigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256' };
const NONCE_MAC_BYTES = 16;

export interface DigestInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  nc: string;
  cnonce: string;
  qop: string;
}

/** The expected `response` value for qop=auth (RFC 2617 §3.2.2.1). */
export function digestResponse(input: DigestInput): string {
  const h = (text: string) => createHash(HASH[input.algorithm]).update(text, 'utf8').digest('hex');
  const ha1 = h(`${input.username}:${input.realm}:${input.password}`);
  const ha2 = h(`${input.method}:${input.uri}`);
  return h(`${ha1}:${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}:${ha2}`);
}

export class DigestAuthenticator {
  private readonly algorithms: readonly DigestAlgorithm[];
  private readonly ttlMs: number;
  private readonly secret: Buffer;
  private readonly now: () => number;

  constructor(private readonly options: DigestOptions) {
    this.algorithms = options.algorithms?.length ? options.algorithms : ['MD5'];
    this.ttlMs = options.nonceTtlMs ?? 60_000;
    this.secret = options.nonceSecret ?? randomBytes(32);
    this.now = options.now ?? Date.now;
  }

  /** WWW-Authenticate values for a 401, one per algorithm. */
  challenge(stale = false): string[] {
    const nonce = this.issueNonce();
    const realm = this.options.credentials.realm.replace(/["\\]/g, '');
    return this.algorithms.map(
      (algorithm) => `Digest realm="${realm}", nonce="${nonce}", qop="auth", algorithm=${algorithm}${stale ? ', stale=true' : ''}`,
    );
  }

  /** Checks an Authorization header value against the request's method. */
  verify(authorization: string | undefined, method: string, requestUri: string): DigestVerdict {
    if (!authorization) return { ok: false, reason: 'missing' };
    const match = /^Digest\s+(.*)$/is.exec(authorization.trim());
    if (!match || (match[1] ?? '').length > 2048) return { ok: false, reason: 'malformed' };
    const params = parseAuthParams(match[1] ?? '');
    if (!params) return { ok: false, reason: 'malformed' };
    const username = params.get('username');
    const realm = params.get('realm');
    const nonce = params.get('nonce');
    const uri = params.get('uri');
    const response = params.get('response');
    const nc = params.get('nc') ?? '';
    const cnonce = params.get('cnonce') ?? '';
    const qop = params.get('qop') ?? '';
    const algorithm = (params.get('algorithm') ?? 'MD5').toUpperCase() as DigestAlgorithm;
    if (!username || !realm || !nonce || !uri || !response || qop !== 'auth' || !/^[0-9a-f]{8}$/i.test(nc) || !cnonce) {
      return { ok: false, reason: 'malformed' };
    }
    if (!this.algorithms.includes(algorithm)) return { ok: false, reason: 'malformed' };
    // The digest covers `uri`; it must be the request's own URI or the credentials could be replayed elsewhere.
    if (uri !== requestUri) return { ok: false, reason: 'malformed' };
    const { credentials } = this.options;
    if (!safeEqual(realm, credentials.realm)) return { ok: false, reason: 'wrong-realm' };
    const nonceState = this.checkNonce(nonce);
    if (nonceState !== 'fresh') return { ok: false, reason: nonceState };
    const expected = digestResponse({ algorithm, username: credentials.username, realm, password: credentials.password, method, uri, nonce, nc, cnonce, qop });
    const userOk = safeEqual(username, credentials.username);
    const responseOk = safeEqual(response.toLowerCase(), expected);
    if (!userOk) return { ok: false, reason: 'wrong-user' };
    if (!responseOk) return { ok: false, reason: 'bad-response' };
    return { ok: true, username };
  }

  private issueNonce(): string {
    const stamp = Buffer.alloc(8);
    stamp.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(this.now()))));
    return Buffer.concat([stamp, this.mac(stamp)]).toString('base64url');
  }

  private checkNonce(nonce: string): 'fresh' | 'stale' | 'bad-nonce' {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(nonce)) return 'bad-nonce';
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== 8 + NONCE_MAC_BYTES) return 'bad-nonce';
    const stamp = raw.subarray(0, 8);
    if (!timingSafeEqual(raw.subarray(8), this.mac(stamp))) return 'bad-nonce';
    const issued = Number(stamp.readBigUInt64BE());
    const age = this.now() - issued;
    if (age < 0 || age > this.ttlMs) return 'stale';
    return 'fresh';
  }

  private mac(stamp: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(stamp).update(this.options.credentials.realm).digest().subarray(0, NONCE_MAC_BYTES);
  }
}

/** Constant-time comparison of strings of any length (hashes both to equal length first). */
function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** `name=value, name="quoted, value"` (RFC 2617 auth-params); undefined when malformed. */
export function parseAuthParams(text: string): Map<string, string> | undefined {
  const params = new Map<string, string>();
  const pattern = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(,|$)/y;
  let index = 0;
  while (index < text.length) {
    pattern.lastIndex = index;
    const match = pattern.exec(text);
    if (!match || match[0].length === 0) return undefined;
    const name = (match[1] ?? '').toLowerCase();
    if (params.has(name)) return undefined;
    params.set(name, match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] ?? ''));
    index = pattern.lastIndex;
  }
  return params;
}

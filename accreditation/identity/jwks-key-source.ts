import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

export interface JwksOptions {
  url: string;
  /** How long a fetched key set is trusted before it is fetched again. */
  cacheTtlMs: number;
  /** Unknown `kid`s trigger a refetch (key rotation), at most this often. */
  minRefreshIntervalMs: number;
  timeoutMs: number;
}

interface Jwk {
  kid?: string;
  kty?: string;
  alg?: string;
  use?: string;
  [k: string]: unknown;
}

/** Public keys from an identity provider's JWKS URL, cached, refreshed on rotation. */
export class JwksKeySource {
  private keys = new Map<string, { key: KeyObject; alg?: string }>();
  private fetchedAt = 0;
  private fetching: Promise<void> | undefined;

  constructor(private readonly options: JwksOptions) {}

  async key(kid: string | undefined): Promise<{ key: KeyObject; alg?: string } | undefined> {
    const now = Date.now();
    if (now - this.fetchedAt > this.options.cacheTtlMs) await this.refresh();
    const id = kid ?? '';
    let found = this.keys.get(id);
    if (!found && Date.now() - this.fetchedAt > this.options.minRefreshIntervalMs) {
      await this.refresh();
      found = this.keys.get(id);
    }
    return found;
  }

  private refresh(): Promise<void> {
    this.fetching ??= this.fetchKeys().finally(() => (this.fetching = undefined));
    return this.fetching;
  }

  private async fetchKeys(): Promise<void> {
    const response = await fetch(this.options.url, { signal: AbortSignal.timeout(this.options.timeoutMs) });
    if (!response.ok) throw new Error(`JWKS answered HTTP ${response.status}`);
    const body = (await response.json()) as { keys?: Jwk[] };
    const next = new Map<string, { key: KeyObject; alg?: string }>();
    for (const jwk of body.keys ?? []) {
      if (jwk.use && jwk.use !== 'sig') continue;
      if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') continue; // never symmetric keys from a JWKS
      try {
        next.set(jwk.kid ?? '', { key: createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }), alg: jwk.alg });
      } catch {
        // A key we cannot read is skipped; the others still work.
      }
    }
    this.keys = next;
    this.fetchedAt = Date.now();
  }
}

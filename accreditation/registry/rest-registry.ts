import type { Registration } from '../model.js';
import { mapRecord, MappingError, readPath, type FieldMapping } from './field-mapping.js';
import { RegistryUnavailableError, type Registry, type RegistryQuery } from './registry.js';

export type RestAuth =
  | { kind: 'none' }
  | { kind: 'bearer'; token: string }
  | { kind: 'oauth2-client-credentials'; tokenUrl: string; clientId: string; clientSecret: string; scope?: string };

export interface RestRegistryOptions {
  baseUrl: string;
  auth: RestAuth;
  mapping: FieldMapping;
  /** Per attempt. */
  timeoutMs: number;
  /** Further attempts after the first, on network errors, timeouts, 429 and 5xx. */
  retries: number;
  /** First backoff; doubles each retry, with jitter. */
  backoffMs: number;
}

/**
 * A CRM reached over HTTP. 404 means "not registered"; timeouts, 5xx, 429 and malformed answers are
 * retried with backoff and then reported as RegistryUnavailableError (the outage policy takes over).
 */
export class RestRegistry implements Registry {
  readonly kind = 'rest';
  private accessToken: { value: string; expiresAt: number } | undefined;
  private tokenRequest: Promise<string> | undefined;

  constructor(private readonly options: RestRegistryOptions) {}

  async lookup(query: RegistryQuery): Promise<Registration | null> {
    const m = this.options.mapping;
    const template = query.personId ? m.lookupByIdPath : m.lookupPath;
    const path = template.replace(/\{(eventId|email|personId)\}/g, (_, k: keyof RegistryQuery) => encodeURIComponent(query[k] ?? ''));
    const url = new URL(path.replace(/^\//, ''), this.options.baseUrl.endsWith('/') ? this.options.baseUrl : `${this.options.baseUrl}/`);

    let lastError: unknown;
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      if (attempt > 0) await delay(this.options.backoffMs * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5));
      try {
        return await this.fetchOnce(url, query);
      } catch (error) {
        if (!(error instanceof RetryableError)) throw error;
        lastError = error.cause ?? error;
      }
    }
    throw new RegistryUnavailableError(`registry unavailable after ${this.options.retries + 1} attempt(s): ${describe(lastError)}`, { cause: lastError });
  }

  private async fetchOnce(url: URL, query: RegistryQuery): Promise<Registration | null> {
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { accept: 'application/json', ...(await this.authHeader()) },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      throw new RetryableError(error);
    }
    if (response.status === 401 && this.options.auth.kind === 'oauth2-client-credentials') {
      this.accessToken = undefined; // expired or revoked early: fetch a new one on the retry
      throw new RetryableError(new Error('401 from the registry'));
    }
    if (response.status === 404) return null;
    if (response.status === 429 || response.status >= 500) throw new RetryableError(new Error(`HTTP ${response.status}`));
    if (!response.ok) throw new RegistryUnavailableError(`registry answered HTTP ${response.status}`);
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw new RetryableError(new Error(`malformed JSON: ${describe(error)}`));
    }
    const record = readPath(body, this.options.mapping.recordPath);
    if (record === undefined || record === null || (Array.isArray(record) && record.length === 0)) return null;
    let unmappable: MappingError | undefined;
    for (const r of Array.isArray(record) ? record : [record]) {
      let mapped: Registration;
      try {
        mapped = mapRecord(r, query.eventId, this.options.mapping);
      } catch (error) {
        if (!(error instanceof MappingError)) throw error;
        unmappable ??= error;
        continue;
      }
      if (matchesQuery(mapped, query)) return mapped;
    }
    if (unmappable) throw new RetryableError(unmappable);
    // The answer must be about the person asked about: a CRM that ignores the filter (a search returning
    // everyone, a stale proxy) must not admit one person as another. A mismatch is a registry fault, not a
    // "not registered": it refuses joins under fail-closed but never revokes anyone present.
    throw new RegistryUnavailableError(`the registry answered with a record for another person than the one asked about (by ${query.personId ? 'person id' : 'e-mail'})`);
  }

  private async authHeader(): Promise<Record<string, string>> {
    const auth = this.options.auth;
    if (auth.kind === 'none') return {};
    if (auth.kind === 'bearer') return { authorization: `Bearer ${auth.token}` };
    if (this.accessToken && this.accessToken.expiresAt > Date.now() + 10_000) return { authorization: `Bearer ${this.accessToken.value}` };
    // One token request at a time, whatever the number of concurrent lookups.
    this.tokenRequest ??= this.requestToken(auth).finally(() => (this.tokenRequest = undefined));
    return { authorization: `Bearer ${await this.tokenRequest}` };
  }

  private async requestToken(auth: Extract<RestAuth, { kind: 'oauth2-client-credentials' }>): Promise<string> {
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (auth.scope) body.set('scope', auth.scope);
    let response: Response;
    try {
      response = await fetch(auth.tokenUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`).toString('base64')}`,
        },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      throw new RetryableError(error);
    }
    const json = (await response.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown };
    if (!response.ok || typeof json.access_token !== 'string') throw new RetryableError(new Error(`token endpoint answered HTTP ${response.status}`));
    const ttl = typeof json.expires_in === 'number' ? json.expires_in : 300;
    this.accessToken = { value: json.access_token, expiresAt: Date.now() + ttl * 1000 };
    return json.access_token;
  }
}

function matchesQuery(r: Registration, q: RegistryQuery): boolean {
  if (q.personId !== undefined) return r.personId === q.personId;
  return q.email !== undefined && r.email === q.email.toLowerCase();
}

class RetryableError extends Error {
  constructor(override readonly cause: unknown) {
    super(describe(cause));
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.name === 'TimeoutError' ? 'timed out' : error.message;
  return String(error);
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

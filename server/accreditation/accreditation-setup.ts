import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AccreditationService } from '../../accreditation/accreditation-service.js';
import { FileAuditLog } from '../../accreditation/audit-log.js';
import { demoRegistry, demoSessions } from '../../accreditation/demo-seed.js';
import { EmbeddedIdentityProvider } from '../../accreditation/identity/embedded-identity-provider.js';
import { JwksKeySource } from '../../accreditation/identity/jwks-key-source.js';
import { JwtIdentityVerifier, MultiIssuerVerifier } from '../../accreditation/identity/jwt-identity-verifier.js';
import { CachingRegistry } from '../../accreditation/registry/caching-registry.js';
import { EmbeddedRegistry } from '../../accreditation/registry/embedded-registry.js';
import { fieldMapping } from '../../accreditation/registry/field-mapping.js';
import type { Registry } from '../../accreditation/registry/registry.js';
import { RestRegistry } from '../../accreditation/registry/rest-registry.js';
import { SessionDirectory } from '../../accreditation/session-directory.js';
import type { Config } from '../config.js';

export interface Accreditation {
  service: AccreditationService;
  /** Present in embedded mode: the registry the admin API edits. */
  embedded?: EmbeddedRegistry;
  /** Present when the embedded sign-in is on. */
  signIn?: EmbeddedIdentityProvider;
  close(): Promise<void>;
}

/** Builds the accreditation module from configuration: the one place that knows which implementations run. */
export function createAccreditation(config: Config): Accreditation {
  const dataDir = resolve(config.dataDir);
  const sessions = new SessionDirectory(dataDir, demoSessions);
  let registry: Registry;
  let embedded: EmbeddedRegistry | undefined;
  if (config.registry.kind === 'embedded') {
    embedded = new EmbeddedRegistry(dataDir, demoRegistry);
    registry = embedded;
  } else {
    const rest = config.registry.rest!;
    const mapping = fieldMapping.parse(rest.mappingFile ? JSON.parse(readFileSync(rest.mappingFile, 'utf8')) : {});
    registry = new RestRegistry({ baseUrl: rest.url, auth: rest.auth, mapping, timeoutMs: rest.timeoutMs, retries: rest.retries, backoffMs: rest.backoffMs });
  }
  const cached = new CachingRegistry(registry, { ...config.registry.cache, outage: config.registry.outage });

  const verifiers: JwtIdentityVerifier[] = [];
  const ext = config.identity.external;
  if (ext) {
    verifiers.push(
      new JwtIdentityVerifier({
        issuer: ext.issuer,
        audience: ext.audience,
        key:
          ext.key.kind === 'jwks'
            ? {
                kind: 'jwks',
                algorithms: ext.key.algorithms,
                source: new JwksKeySource({ url: ext.key.url, cacheTtlMs: ext.key.cacheSeconds * 1000, minRefreshIntervalMs: 30_000, timeoutMs: 5000 }),
              }
            : ext.key,
        clockSkewSeconds: ext.clockSkewSeconds,
        emailClaim: ext.emailClaim,
        nameClaim: ext.nameClaim,
        personIdClaim: ext.personIdClaim,
      }),
    );
  }
  const signIn = config.identity.embeddedSignIn ? new EmbeddedIdentityProvider(config.identity.embeddedSecret, 8 * 3600) : undefined;
  if (signIn) verifiers.push(signIn.verifier);

  const audit = new FileAuditLog(join(dataDir, 'audit.jsonl'));
  const service = new AccreditationService(new MultiIssuerVerifier(verifiers), cached, sessions, audit);
  return { service, embedded, signIn, close: () => audit.close() };
}

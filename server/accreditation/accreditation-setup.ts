import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AccreditationService } from '../../accreditation/accreditation-service.js';
import { FileAuditLog } from '../../accreditation/audit-log.js';
import { AccessCodeHasher } from '../../accreditation/access-code-hasher.js';
import { ADMIN_EVENT_ID, ADMIN_EVENT_TITLE, ADMIN_PERSON_ID, administratorRegistration, newAccessCode } from '../../accreditation/administrator.js';
import { DEMO_EVENT_ID, demoRegistry, demoSessions } from '../../accreditation/demo-seed.js';
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
import type { Logger } from '../logger.js';

export interface Accreditation {
  service: AccreditationService;
  /** Present in embedded mode: the registry the admin API edits. */
  embedded?: EmbeddedRegistry;
  /** Present when the embedded sign-in is on. */
  signIn?: EmbeddedIdentityProvider;
  /** Hashes access codes (sign-in, imports) off the event loop, a bounded number at a time. */
  hasher: AccessCodeHasher;
  close(): Promise<void>;
}

/** Builds the accreditation module from configuration: the one place that knows which implementations run. */
export function createAccreditation(config: Config, log?: Logger): Accreditation {
  const dataDir = resolve(config.dataDir);
  const embeddedMode = config.registry.kind === 'embedded';
  // A first start seeds the demo event only when asked to (its access code is public); otherwise, with the
  // embedded registry, one event with one secretariat administrator whose random code is printed once.
  const sessions = new SessionDirectory(
    dataDir,
    config.demo ? demoSessions : () => ({ events: embeddedMode ? [{ eventId: ADMIN_EVENT_ID, title: ADMIN_EVENT_TITLE }] : [], sessions: [] }),
  );
  const hasher = new AccessCodeHasher(config.identity.signInMaxConcurrentHashes);
  let registry: Registry;
  let embedded: EmbeddedRegistry | undefined;
  if (embeddedMode) {
    const adminCode = newAccessCode();
    embedded = new EmbeddedRegistry(
      dataDir,
      config.demo
        ? demoRegistry
        : () => ({
            registrations: [administratorRegistration(config.adminEmail)],
            accessCodes: [],
            administrator: { eventId: ADMIN_EVENT_ID, personId: ADMIN_PERSON_ID, code: adminCode },
          }),
      { hasher, signInDisabledEvents: config.demo ? [] : [DEMO_EVENT_ID] },
    );
    registry = embedded;
    reportStart(embedded, config, adminCode, log);
  } else {
    const rest = config.registry.rest!;
    const mapping = fieldMapping.parse(rest.mappingFile ? JSON.parse(readFileSync(rest.mappingFile, 'utf8')) : {});
    registry = new RestRegistry({ baseUrl: rest.url, auth: rest.auth, mapping, timeoutMs: rest.timeoutMs, retries: rest.retries, backoffMs: rest.backoffMs });
  }
  const cached = new CachingRegistry(registry, { ...config.registry.cache, outage: config.registry.outage });
  const knownEvent = (eventId: string): boolean => sessions.event(eventId) !== undefined || (embedded?.hasEvent(eventId) ?? false);

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
        requireEmailVerified: ext.requireEmailVerified,
      }),
    );
  }
  const signIn = config.identity.embeddedSignIn ? new EmbeddedIdentityProvider(config.identity.embeddedSecret, 8 * 3600) : undefined;
  if (signIn) verifiers.push(signIn.verifier);

  const audit = new FileAuditLog(join(dataDir, 'audit.jsonl'));
  const service = new AccreditationService(new MultiIssuerVerifier(verifiers), cached, sessions, audit, knownEvent);
  return { service, embedded, signIn, hasher, close: () => audit.close() };
}

/** The first start's administrator code, once; and what an upgrade did to old data. */
function reportStart(embedded: EmbeddedRegistry, config: Config, adminCode: string, log: Logger | undefined): void {
  if (embedded.seeded && !config.demo) {
    // The only time this code is shown: it is stored hashed. `npm run admin:reset-code` makes a new one.
    log?.warn(
      { administrator: { eventId: ADMIN_EVENT_ID, email: config.adminEmail, accessCode: adminCode } },
      `FIRST START: secretariat administrator created. Sign in as ${config.adminEmail} with access code ${adminCode} (shown once; reset with npm run admin:reset-code)`,
    );
  }
  if (embedded.migration) {
    const { migrated, dropped, backup } = embedded.migration;
    log?.warn(
      { migrated, dropped, backup },
      `registry.json upgraded (the original is kept in ${backup}): access codes now belong to one registration (event and person); codes of e-mails with no registration (${dropped.noRegistration.length}) or with registrations in several events (${dropped.severalRegistrations.length}) were dropped`,
    );
  }
  if (!config.demo && embedded.hasEvent(DEMO_EVENT_ID)) {
    log?.warn({ eventId: DEMO_EVENT_ID }, 'the demo event is in the registry but PLENUM_DEMO is not true: its public access code is refused');
  }
}

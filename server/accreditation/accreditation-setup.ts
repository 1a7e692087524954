import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AccreditationService } from '../../accreditation/accreditation-service.js';
import { DatabaseAuditLog } from '../../accreditation/audit-log.js';
import { AccessCodeHasher } from '../../accreditation/access-code-hasher.js';
import { ADMIN_EVENT_ID, ADMIN_EVENT_TITLE, ADMIN_PERSON_ID, administratorRegistration, newAccessCode } from '../../accreditation/administrator.js';
import { DEMO_EVENT_ID, demoRegistry, demoSessions } from '../../accreditation/demo-seed.js';
import { openDialInAccess } from '../../accreditation/dial-in/dial-in-access.js';
import { importLegacyData, type LegacyImportOutcome } from '../../accreditation/legacy-import.js';
import { EmbeddedIdentityProvider } from '../../accreditation/identity/embedded-identity-provider.js';
import { JwksKeySource } from '../../accreditation/identity/jwks-key-source.js';
import { JwtIdentityVerifier, MultiIssuerVerifier } from '../../accreditation/identity/jwt-identity-verifier.js';
import { CachingRegistry } from '../../accreditation/registry/caching-registry.js';
import { EmbeddedRegistry } from '../../accreditation/registry/embedded-registry.js';
import { fieldMapping } from '../../accreditation/registry/field-mapping.js';
import type { Registry } from '../../accreditation/registry/registry.js';
import { RestRegistry } from '../../accreditation/registry/rest-registry.js';
import { SessionDirectory } from '../../accreditation/session-directory.js';
import type { Db } from '../../store/open-store.js';
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

/**
 * Builds the accreditation module from configuration: the one place that knows which implementations run.
 * Everything durable is in `db`; a data directory of a file-based version is imported into it on the first start.
 */
export async function createAccreditation(config: Config, db: Db, log?: Logger): Promise<Accreditation> {
  const dataDir = resolve(config.dataDir);
  const embeddedMode = config.registry.kind === 'embedded';
  reportLegacyImport(await importLegacyData(db, dataDir), log);
  // A first start seeds the demo event only when asked to (its access code is public); otherwise, with the
  // embedded registry, one event with one secretariat administrator whose random code is printed once.
  const sessions = await SessionDirectory.open(
    db,
    config.demo ? demoSessions : () => ({ events: embeddedMode ? [{ eventId: ADMIN_EVENT_ID, title: ADMIN_EVENT_TITLE }] : [], sessions: [] }),
  );
  const hasher = new AccessCodeHasher(config.identity.signInMaxConcurrentHashes);
  let registry: Registry;
  let embedded: EmbeddedRegistry | undefined;
  if (embeddedMode) {
    const adminCode = newAccessCode();
    embedded = await EmbeddedRegistry.open(
      db,
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
    await reportStart(embedded, config, adminCode, log);
  } else {
    const rest = config.registry.rest!;
    const mapping = fieldMapping.parse(rest.mappingFile ? JSON.parse(readFileSync(rest.mappingFile, 'utf8')) : {});
    registry = new RestRegistry({ baseUrl: rest.url, auth: rest.auth, mapping, timeoutMs: rest.timeoutMs, retries: rest.retries, backoffMs: rest.backoffMs });
  }
  const cached = new CachingRegistry(registry, { ...config.registry.cache, outage: config.registry.outage });
  const knownEvent = async (eventId: string): Promise<boolean> => sessions.event(eventId) !== undefined || ((await embedded?.hasEvent(eventId)) ?? false);

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

  const audit = new DatabaseAuditLog(db);
  const dialIn = await openDialInAccess(db, config.dialInPins, dataDir);
  const service = new AccreditationService(new MultiIssuerVerifier(verifiers), cached, sessions, audit, knownEvent, dialIn);
  return { service, embedded, signIn, hasher, close: () => audit.close() };
}

/** The first start's administrator code, once (only the node whose seed won prints it). */
async function reportStart(embedded: EmbeddedRegistry, config: Config, adminCode: string, log: Logger | undefined): Promise<void> {
  if (embedded.seeded && !config.demo) {
    // The only time this code is shown: it is stored hashed. `npm run admin:reset-code` makes a new one.
    log?.warn(
      { administrator: { eventId: ADMIN_EVENT_ID, email: config.adminEmail, accessCode: adminCode } },
      `FIRST START: secretariat administrator created. Sign in as ${config.adminEmail} with access code ${adminCode} (shown once; reset with npm run admin:reset-code)`,
    );
  }
  if (!config.demo && (await embedded.hasEvent(DEMO_EVENT_ID))) {
    log?.warn({ eventId: DEMO_EVENT_ID }, 'the demo event is in the registry but PLENUM_DEMO is not true: its public access code is refused');
  }
}

/** What the first start took over from a file-based data directory. */
function reportLegacyImport(outcome: LegacyImportOutcome, log: Logger | undefined): void {
  if (outcome.kind === 'skipped') {
    log?.warn({ files: outcome.files }, 'data files of an earlier version were NOT imported: the database already holds records (they are left as they are)');
  }
  if (outcome.kind !== 'imported') return;
  const { registryV1, ...report } = outcome.report;
  log?.warn({ ...report, registryV1 }, `imported the data directory of an earlier version into the database; each file was renamed to <name>.imported`);
  if (registryV1) {
    const { dropped } = registryV1;
    log?.warn(
      { registryV1 },
      `registry.json was version 1: access codes now belong to one registration (event and person); codes of e-mails with no registration (${dropped.noRegistration.length}) or with registrations in several events (${dropped.severalRegistrations.length}) were dropped`,
    );
  }
}

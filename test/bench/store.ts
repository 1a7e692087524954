// The system of record's benchmark (BENCH=store), side by side in one run. Prints JSON.
//  1. The join decision (AccreditationService.decideJoin: a real HS256-signed identity token verified, the
//     registry looked up through the cache, the session's rules, the audit record written before the answer)
//     and audit appends per second, on the embedded engine (PGlite) and on a real PostgreSQL; and on the JSON
//     files of the version before the store, when BENCH_STORE_FILES_AT names a checkout of it (a git worktree of
//     6619bdd): its own classes run through the same harness. Without it, the figures recorded at 6619bdd on the
//     development machine are printed, marked as such.
//  2. 3,000 distinct delegates joining over 60 s through three nodes sharing one PostgreSQL: three
//     AccreditationService instances in this process, each with its own store (its own pool of connections),
//     registry cache, session directory and audit log, as three servers would have. The joins are spread evenly
//     in time and round-robin over the nodes, without waiting for each other (an open loop). Database round trips
//     are counted on the wire: every query a pg client sends, BEGIN and COMMIT included.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import jwt from 'jsonwebtoken';
import { sql } from 'kysely';
import pg from 'pg';
import { AccreditationService } from '../../accreditation/accreditation-service.js';
import { DatabaseAuditLog } from '../../accreditation/audit-log.js';
import { JwtIdentityVerifier } from '../../accreditation/identity/jwt-identity-verifier.js';
import type { RegistrationInput } from '../../accreditation/model.js';
import { CachingRegistry } from '../../accreditation/registry/caching-registry.js';
import { EmbeddedRegistry } from '../../accreditation/registry/embedded-registry.js';
import { SessionDirectory } from '../../accreditation/session-directory.js';
import { openStore, type Store } from '../../store/open-store.js';
import { PostgresProcess } from '../helpers/postgres-process.js';

const JOINS = Number(process.env.BENCH_STORE_JOINS ?? 2000);
const APPENDS = Number(process.env.BENCH_STORE_APPENDS ?? 2000);
const APPEND_CONCURRENCY = 32;
const DELEGATES = Number(process.env.BENCH_STORE_DELEGATES ?? 3000);
const SECONDS = Number(process.env.BENCH_STORE_SECONDS ?? 60);
const NODES = 3;
const FILES_AT = process.env.BENCH_STORE_FILES_AT;

const EVENT = 'bench-event';
const SESSION = 'bench-session';
const ISSUER = 'https://idp.bench.example';
const AUDIENCE = 'plenum-bench';
const SECRET = 'bench-identity-secret-of-at-least-32-characters';
const CACHE = { positiveTtlMs: 60_000, negativeTtlMs: 10_000, maxConcurrency: 16, maxEntries: 10_000, outage: { kind: 'fail-closed' as const } };

/** What the files at 6619bdd gave on the development machine (2 cores), with this harness and its defaults. */
const RECORDED_FILES = {
  label: 'JSON files (recorded at 6619bdd, not re-run: set BENCH_STORE_FILES_AT to a worktree of 6619bdd)',
  recorded: { commit: '6619bdd', machine: 'the 2-core development machine, shared with other test runs', joins: 2000, auditAppends: 2000 },
  joinDecision: { joins: 2000, outcomes: { allow: 2000 }, latencyMs: { p50: 1.12, p95: 6.07, p99: 11.25, max: 62.12 } },
  auditAppendsPerSecond: { sequential: 1529, concurrency32: 64711 },
};

interface JoinService {
  decideJoin(identityToken: string, sessionId: string): Promise<{ decision: string; reasons: string[] }>;
}
interface AuditAppender {
  append(record: Record<string, unknown>): Promise<unknown>;
}
interface Harness {
  label: string;
  service: JoinService;
  audit: AuditAppender;
  close(): Promise<void>;
}

const email = (i: number): string => `delegate${i}@bench.example.org`;
function delegate(i: number): RegistrationInput {
  return {
    personId: `p${i}`,
    eventId: EVENT,
    name: `Delegate ${i}`,
    email: email(i),
    entity: { name: `State ${i % 193}`, type: 'member_state' },
    role: 'delegate',
    status: 'approved',
  };
}
const registrySeed = (n: number) => () => ({ registrations: Array.from({ length: n }, (_, i) => delegate(i)), accessCodes: [] });
const sessionSeed = () => ({ events: [{ eventId: EVENT, title: 'Bench' }], sessions: [{ sessionId: SESSION, eventId: EVENT, title: 'Bench', status: 'open' as const, lobby: false }] });
const verifierOptions = { issuer: ISSUER, audience: AUDIENCE, key: { kind: 'shared-secret' as const, secret: SECRET }, clockSkewSeconds: 30, emailClaim: 'email', nameClaim: 'name' };
const token = (i: number): string => jwt.sign({ email: email(i), name: `Delegate ${i}` }, SECRET, { algorithm: 'HS256', issuer: ISSUER, audience: AUDIENCE, subject: `p${i}`, expiresIn: 3600 });
const auditRecord = (i: number) => ({ eventId: EVENT, sessionId: SESSION, personId: `p${i}`, email: email(i), name: `Delegate ${i}`, decision: 'allow', reasons: [], source: 'live' });

const round = (n: number): number => Math.round(n * 100) / 100;
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
function summary(latencies: number[]) {
  const s = [...latencies].sort((a, b) => a - b);
  return { p50: round(percentile(s, 50)), p95: round(percentile(s, 95)), p99: round(percentile(s, 99)), max: round(s.at(-1) ?? NaN) };
}
function count(outcomes: Record<string, number>, key: string): void {
  outcomes[key] = (outcomes[key] ?? 0) + 1;
}

/** One decision at a time, each delegate once (every lookup misses the cache and reaches the store). */
async function measureJoins(h: Harness, tokens: string[]) {
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  for (const t of tokens) {
    const t0 = performance.now();
    const d = await h.service.decideJoin(t, SESSION);
    latencies.push(performance.now() - t0);
    count(outcomes, d.decision);
  }
  return { joins: tokens.length, outcomes, latencyMs: summary(latencies) };
}

/** Appends, `concurrency` in flight; each resolves once durable (fdatasync, or the database's commit). */
async function appendsPerSecond(h: Harness, total: number, concurrency: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await h.audit.append(auditRecord(next++));
    }),
  );
  return Math.round(total / ((performance.now() - t0) / 1000));
}

async function measure(h: Harness, tokens: string[]) {
  process.stderr.write(`[bench store] ${h.label}: ${tokens.length} join decisions\n`);
  const joins = await measureJoins(h, tokens);
  process.stderr.write(`[bench store] ${h.label}: ${APPENDS} audit appends, sequential and ${APPEND_CONCURRENCY} at once\n`);
  const sequential = await appendsPerSecond(h, APPENDS, 1);
  const concurrent = await appendsPerSecond(h, APPENDS, APPEND_CONCURRENCY);
  return { label: h.label, joinDecision: joins, auditAppendsPerSecond: { sequential, [`concurrency${APPEND_CONCURRENCY}`]: concurrent } };
}

/** The services on the system of record, as server/accreditation/accreditation-setup.ts builds them. */
async function storeHarness(label: string, store: Store, seed: boolean, close: () => Promise<void>): Promise<Harness> {
  const sessions = await SessionDirectory.open(store.db, seed ? sessionSeed : undefined);
  const registry = await EmbeddedRegistry.open(store.db, seed ? registrySeed(Math.max(JOINS, DELEGATES)) : undefined);
  const audit = new DatabaseAuditLog(store.db);
  const service = new AccreditationService(new JwtIdentityVerifier(verifierOptions), new CachingRegistry(registry, CACHE), sessions, audit);
  return { label, service, audit: audit as AuditAppender, close };
}

/** Today's files, with the classes of the checkout at FILES_AT (its own verifier, cache, registry, sessions and audit log). */
async function filesHarness(dir: string, dataDir: string): Promise<Harness> {
  const load = async <T>(path: string): Promise<T> => (await import(resolve(dir, path))) as T;
  type Ctor<T = unknown> = new (...args: unknown[]) => T;
  const { AccreditationService: Service } = await load<{ AccreditationService: Ctor<JoinService> }>('accreditation/accreditation-service.ts');
  const { FileAuditLog } = await load<{ FileAuditLog: Ctor<AuditAppender & { close(): Promise<void> }> }>('accreditation/audit-log.ts');
  const { JwtIdentityVerifier: Verifier } = await load<{ JwtIdentityVerifier: Ctor }>('accreditation/identity/jwt-identity-verifier.ts');
  const { CachingRegistry: Cache } = await load<{ CachingRegistry: Ctor }>('accreditation/registry/caching-registry.ts');
  const { EmbeddedRegistry: Registry } = await load<{ EmbeddedRegistry: Ctor }>('accreditation/registry/embedded-registry.ts');
  const { SessionDirectory: Sessions } = await load<{ SessionDirectory: Ctor }>('accreditation/session-directory.ts');
  const sessions = new Sessions(dataDir, sessionSeed);
  const registry = new Registry(dataDir, registrySeed(JOINS));
  const audit = new FileAuditLog(join(dataDir, 'audit.jsonl'));
  const service = new Service(new Verifier(verifierOptions), new Cache(registry, CACHE), sessions, audit);
  return { label: `JSON files (today's version, ${dir})`, service, audit, close: () => audit.close() };
}

/** Every query any pg client of this process sends: one database round trip each. */
let roundTrips = 0;
function countRoundTrips(): void {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    roundTrips += 1;
    return query.apply(this, args);
  };
}

/** DELEGATES distinct people over SECONDS, evenly spaced, round-robin over three nodes; decisions overlap. */
async function cluster(postgres: PostgresProcess) {
  const seedStore = await openStore({ databaseUrl: postgres.url, dataDir: tmpdir() });
  const nodes: Harness[] = [];
  try {
    // One node seeds (as the first of three starting at once would); each node then has its own store and caches.
    await SessionDirectory.open(seedStore.db, sessionSeed);
    await EmbeddedRegistry.open(seedStore.db, registrySeed(DELEGATES));
    for (let n = 0; n < NODES; n++) {
      const store = await openStore({ databaseUrl: postgres.url, dataDir: tmpdir(), poolSize: 10 });
      nodes.push(await storeHarness(`node ${n + 1}`, store, false, () => store.close()));
    }
    const tokens = Array.from({ length: DELEGATES }, (_, i) => token(i));
    process.stderr.write(`[bench store] cluster: ${DELEGATES} delegates over ${SECONDS} s through ${NODES} nodes\n`);
    const latencies: number[] = [];
    const outcomes: Record<string, number> = {};
    const before = roundTrips;
    // The three nodes share this process's event loop: its delays (and the machine's load) show in the tail.
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const start = performance.now();
    await Promise.all(
      tokens.map(async (t, i) => {
        const wait = start + (i / DELEGATES) * SECONDS * 1000 - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const t0 = performance.now();
        const d = await nodes[i % NODES]!.service.decideJoin(t, SESSION);
        latencies.push(performance.now() - t0);
        count(outcomes, d.decision);
      }),
    );
    const elapsedS = (performance.now() - start) / 1000;
    loop.disable();
    const trips = roundTrips - before;
    const audited = await sql<{ n: number }>`select count(*)::int as n from audit where session_id = ${SESSION}`.execute(seedStore.db);
    return {
      setup: { delegates: DELEGATES, seconds: SECONDS, nodes: NODES, shape: 'three AccreditationService instances in one process, each with its own pool of 10 connections, registry cache, session directory and audit log' },
      joins: latencies.length,
      elapsedS: round(elapsedS),
      outcomes,
      auditRecordsWritten: audited.rows[0]?.n,
      joinDecisionMs: summary(latencies),
      databaseRoundTrips: trips,
      databaseRoundTripsPerJoin: round(trips / latencies.length),
      eventLoopDelayMs: { p99: round(loop.percentile(99) / 1e6), max: round(loop.max / 1e6) },
      machineLoadAverage1m: round(loadavg()[0]!),
    };
  } finally {
    for (const node of nodes) await node.close();
    await seedStore.close();
  }
}

async function main(): Promise<void> {
  countRoundTrips();
  const tokens = Array.from({ length: JOINS }, (_, i) => token(i));
  const dirs: string[] = [];
  const tmp = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'plenum-bench-store-'));
    dirs.push(dir);
    return dir;
  };
  const engines: unknown[] = [];
  let postgres: PostgresProcess | undefined;
  try {
    if (FILES_AT) {
      const files = await filesHarness(resolve(FILES_AT), tmp());
      engines.push(await measure(files, tokens));
      await files.close();
    } else engines.push(RECORDED_FILES);

    const embedded = await openStore({ dataDir: tmp() });
    engines.push(await measure(await storeHarness('embedded (PGlite)', embedded, true, () => embedded.close()), tokens));
    await embedded.close();

    postgres = await PostgresProcess.start();
    const store = await openStore({ databaseUrl: postgres.url, dataDir: tmp() });
    engines.push(await measure(await storeHarness('PostgreSQL (local, fsync on, synchronous_commit on)', store, true, () => store.close()), tokens));
    await store.close();
    await postgres.stop();

    // A fresh server for the cluster: the same start as three nodes on a new database.
    postgres = await PostgresProcess.start();
    const clustered = await cluster(postgres);
    process.stdout.write(
      `${JSON.stringify(
        {
          benchmark: 'store',
          setup: { joinDecisions: JOINS, auditAppends: APPENDS, identity: 'HS256 identity token, verified', registryCache: 'defaults, cold (each delegate once)', session: 'open, no lobby' },
          engines,
          cluster: clustered,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await postgres?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

await main();

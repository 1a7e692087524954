// Join-decision benchmark: a CRM answering after 20 ms, 500 distinct delegates joining over 30 s plus 500
// repeat joins. Runs the same load twice in one process, side by side: the server's registry cache
// (coalescing, TTL, bounded concurrency) as configured, and with caching turned off. Prints JSON.
import { join } from 'node:path';
import { CrmProcess, registrant } from '../helpers/crm-process.js';
import { IDP_AUDIENCE, IDP_ISSUER, idToken, JwksServer, rsaKey } from '../helpers/jwks-server.js';
import { startTestServer } from '../helpers/test-server.js';

const DISTINCT = Number(process.env.BENCH_DISTINCT ?? 500);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 500);
const DURATION_MS = Number(process.env.BENCH_DURATION_S ?? 30) * 1000;
const CRM_DELAY_MS = 20;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function run(label: string, crm: CrmProcess, jwksUrl: string, tokens: string[], env: Record<string, string>) {
  await crm.control({ reset: true, mode: 'ok', delayMs: CRM_DELAY_MS, registrants: Array.from({ length: DISTINCT }, (_, i) => registrant(i)) });
  const server = await startTestServer({
    PLENUM_DEV_MODE: 'false',
    PLENUM_LOG_LEVEL: 'silent',
    PLENUM_REGISTRY: 'rest',
    PLENUM_REGISTRY_URL: crm.url,
    PLENUM_REGISTRY_FIELD_MAPPING: join(import.meta.dirname, '../../docs/registry-mappings/indico.json'),
    PLENUM_IDENTITY_ISSUER: IDP_ISSUER,
    PLENUM_IDENTITY_AUDIENCE: IDP_AUDIENCE,
    PLENUM_IDENTITY_JWKS_URL: jwksUrl,
    PLENUM_REVALIDATE_INTERVAL_SECONDS: '0',
    ...env,
  });
  await server.accreditation.service.sessions.upsert({ sessionId: 'bench', eventId: 'crm-event', title: 'Bench', open: true, lobby: false });
  // The schedule: distinct joins at even intervals; each repeat re-joins someone who joined earlier.
  const schedule: Array<{ at: number; person: number }> = [];
  for (let i = 0; i < DISTINCT; i++) schedule.push({ at: (i / DISTINCT) * DURATION_MS, person: i });
  for (let i = 0; i < REPEATS; i++) {
    const at = ((i + 0.5) / REPEATS) * DURATION_MS;
    schedule.push({ at, person: Math.floor(Math.random() * Math.max(1, Math.floor((at / DURATION_MS) * DISTINCT))) });
  }
  schedule.sort((a, b) => a.at - b.at);

  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  const start = performance.now();
  await Promise.all(
    schedule.map(async ({ at, person }) => {
      const wait = start + at - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t0 = performance.now();
      const res = await fetch(`${server.url}/api/join`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ identityToken: tokens[person], sessionId: 'bench' }),
      });
      const body = (await res.json()) as { decision?: string };
      latencies.push(performance.now() - t0);
      const key = `${res.status} ${body.decision ?? ''}`.trim();
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }),
  );
  const crmStats = await crm.stats();
  await server.close();
  latencies.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    label,
    joins: latencies.length,
    outcomes,
    latencyMs: { p50: round(percentile(latencies, 50)), p95: round(percentile(latencies, 95)), p99: round(percentile(latencies, 99)), max: round(latencies.at(-1)!) },
    crmCalls: crmStats.calls,
    crmCallsWithinDistinct: crmStats.calls <= DISTINCT,
    peakConcurrentCrmCalls: crmStats.peakConcurrent,
  };
}

async function main(): Promise<void> {
  const crm = await CrmProcess.start();
  const key = rsaKey('bench');
  const jwks = await JwksServer.start([key]);
  const tokens = Array.from({ length: DISTINCT }, (_, i) => idToken(key, { email: `delegate${i}@example.org` }, { expiresIn: 3600 }));
  try {
    const cached = await run('registry cache on (default settings)', crm, jwks.url, tokens, {});
    const uncached = await run('registry cache off (TTL 0)', crm, jwks.url, tokens, {
      PLENUM_REGISTRY_CACHE_TTL_SECONDS: '0',
      PLENUM_REGISTRY_NEGATIVE_CACHE_TTL_SECONDS: '0',
    });
    process.stdout.write(
      `${JSON.stringify(
        {
          benchmark: 'accreditation-join',
          setup: { distinctDelegates: DISTINCT, repeatJoins: REPEATS, durationS: DURATION_MS / 1000, crmDelayMs: CRM_DELAY_MS, identity: 'RS256 via JWKS', registry: 'REST (Indico mapping), separate process' },
          runs: [cached, uncached],
          ratios: {
            crmCallsCachedOverUncached: Math.round((cached.crmCalls / uncached.crmCalls) * 1000) / 1000,
            p95CachedOverUncached: Math.round((cached.latencyMs.p95 / uncached.latencyMs.p95) * 1000) / 1000,
          },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    crm.stop();
    await jwks.close();
  }
}

await main();

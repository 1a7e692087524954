// CSV import benchmark: the secretariat's bulk import of registrations, at growing sizes, on a server whose
// registry cache is full (the default bound). Prints, per size, the import's duration and the longest
// event-loop stall it caused (the server runs in this process), and the cost per row relative to the
// smallest size: about 1 while the import stays linear; it grows with the size if a check turns quadratic.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import { signInAs } from '../helpers/accreditation-client.js';
import { startTestServer } from '../helpers/test-server.js';

const SIZES = (process.env.BENCH_CSV_ROWS ?? '5000,10000,20000,40000').split(',').map(Number);
const HEADER = 'event_id,person_id,name,email,entity_name,entity_type,country_code,role,languages,status,sessions,access_code';

const results: Array<{ rows: number; importMs: number; maxEventLoopStallMs: number; msPerThousandRows: number }> = [];
for (const rows of SIZES) {
  const server = await startTestServer({ PLENUM_DEV_MODE: 'false', PLENUM_REVALIDATE_INTERVAL_SECONDS: '0' });
  const registry = server.accreditation.service.registry;
  for (let i = 0; i < 10_000; i++) await registry.lookup({ eventId: DEMO_EVENT_ID, email: `traffic${i}@elsewhere.example` });
  const token = await signInAs(server.url, 'sofia.rossi@secretariat.example');
  const body = [HEADER, ...Array.from({ length: rows }, (_, i) => `${DEMO_EVENT_ID},bulk-${i},Person ${i},bulk${i}@import.example,Kenya,member_state,KE,delegate,,approved,,`)].join('\n');
  const stalls = monitorEventLoopDelay({ resolution: 10 });
  stalls.enable();
  const start = performance.now();
  const res = await fetch(`${server.url}/api/admin/events/${DEMO_EVENT_ID}/registrations/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
    body,
  });
  const importMs = performance.now() - start;
  stalls.disable();
  if (res.status !== 200) throw new Error(`import of ${rows} rows: ${res.status} ${await res.text()}`);
  results.push({ rows, importMs: Math.round(importMs), maxEventLoopStallMs: Math.round(stalls.max / 1e6), msPerThousandRows: +((importMs / rows) * 1000).toFixed(1) });
  await server.close();
  process.stderr.write(`[bench] csv-import: ${rows} rows in ${Math.round(importMs)} ms\n`);
}
const base = results[0]!.msPerThousandRows;
console.log(JSON.stringify({ bench: 'csv-import', cacheEntries: 10_000, results: results.map((r) => ({ ...r, perRowVsSmallest: +(r.msPerThousandRows / base).toFixed(2) })) }, null, 2));

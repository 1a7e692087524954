// `npm run bench`: every benchmark in turn; each prints one JSON document. BENCH=name runs one.
const benches: Record<string, () => Promise<unknown>> = {
  'accreditation-join': () => import('./accreditation-join.js'),
  interpretation: () => import('./interpretation.js'),
  'cluster-failover': () => import('./cluster-failover.js'),
  forwarding: () => import('./forwarding.js'),
  cascade: () => import('./cascade.js'),
  'csv-import': () => import('./csv-import.js'),
  store: () => import('./store.js'),
  plenary: () => import('./plenary.js'),
  recording: () => import('./recording.js'),
  bandwidth: () => import('./bandwidth.js'),
};

const only = process.env.BENCH;
for (const [name, load] of Object.entries(benches)) {
  if (only && only !== name) continue;
  process.stderr.write(`[bench] ${name}\n`);
  await load();
}
process.exit(0);

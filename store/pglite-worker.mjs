// The embedded database's thread (started by store/embedded-engine.ts). PGlite's WebAssembly executes each
// statement synchronously: on the main thread every query would hold the event loop (a slow one for
// hundreds of milliseconds, measured). Here it holds only this thread. Plain JavaScript, so that the same
// file runs from source (tests) and from dist/ (the build copies it).
import { existsSync, closeSync, fsyncSync, openSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

const { dir, flushIntervalMs } = workerData;

/** The project root (package.json), from source or from dist/. */
function projectRoot() {
  let at = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(at, 'package.json'))) {
    const parent = dirname(at);
    if (parent === at) return process.cwd();
    at = parent;
  }
  return at;
}

// PGlite's initdb costs seconds of WebAssembly (7 s here) per new directory. A new directory is filled
// from a tarball of a freshly initialised cluster instead (1.5 s), made once per PGlite version and kept in
// node_modules/.cache. It holds only the system catalogue: the schema comes from the migrations, as always.
async function createEmbedded() {
  if (existsSync(join(dir, 'PG_VERSION'))) return PGlite.create(dir);
  if ((await readdir(dir)).length > 0) throw new Error(`${dir} is neither empty nor an embedded database; refusing to initialise over it`);
  const modules = join(projectRoot(), 'node_modules');
  const { version } = JSON.parse(await readFile(join(modules, '@electric-sql', 'pglite', 'package.json'), 'utf8'));
  const template = join(modules, '.cache', 'plenum', `pglite-${version}-initdb.tar.gz`);
  const tarball = await readFile(template).catch(() => undefined);
  if (tarball) return PGlite.create(dir, { loadDataDir: new Blob([tarball]) });
  const pglite = await PGlite.create(dir);
  try {
    const dump = Buffer.from(await (await pglite.dumpDataDir('gzip')).arrayBuffer());
    await mkdir(dirname(template), { recursive: true });
    const tmp = `${template}.${process.pid}.tmp`;
    await writeFile(tmp, dump);
    await rename(tmp, template);
  } catch {
    // only a cache: the next new directory pays for initdb again
  }
  return pglite;
}

function fsyncPath(path) {
  try {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // recycled or removed since: nothing left to sync
  }
}

const pglite = await createEmbedded();

// PGlite's file layer never calls fsync: a commit sits in the OS's cache, which survives a crash of this
// process but not a power cut. After each transaction that may have written, the WAL segment being written
// is synced (PostgreSQL replays it on the next start); data files are synced on a timer and at close.
let inTransaction = false;
let walFile;
async function syncWal() {
  const { rows } = await pglite.query('select pg_walfile_name(pg_current_wal_insert_lsn()) as f');
  const current = rows[0].f;
  for (const name of new Set([walFile, current])) if (name) fsyncPath(join(dir, 'pg_wal', name));
  walFile = current;
}

let lastSweep = Date.now();
function syncDataFiles() {
  const since = lastSweep - 1000;
  lastSweep = Date.now();
  const walk = (path) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (statSync(full, { throwIfNoEntry: false })?.mtimeMs >= since) fsyncPath(full);
    }
    fsyncPath(path);
  };
  walk(dir);
}
const sweep = setInterval(syncDataFiles, flushIntervalMs);

const READ_ONLY = /^\s*(select|show|explain)\b/i;

async function handle(request) {
  if (request.op === 'close') {
    clearInterval(sweep);
    await pglite.close();
    syncDataFiles();
    return { rows: [], affectedRows: 0 };
  }
  const result = await pglite.query(request.sql, request.params);
  const verb = request.sql.trimStart().slice(0, 8).toLowerCase();
  if (verb.startsWith('begin')) inTransaction = true;
  else if (verb.startsWith('commit') || verb.startsWith('rollback')) {
    inTransaction = false;
    if (verb.startsWith('commit')) await syncWal();
  } else if (!inTransaction && !READ_ONLY.test(request.sql)) await syncWal();
  return { rows: result.rows, affectedRows: result.affectedRows ?? 0 };
}

parentPort.on('message', (request) => {
  handle(request).then(
    (result) => parentPort.postMessage({ id: request.id, result }),
    (error) => parentPort.postMessage({ id: request.id, error: { message: error?.message ?? String(error), code: error?.code, detail: error?.detail, constraint: error?.constraint } }),
  );
});
parentPort.postMessage({ ready: true });

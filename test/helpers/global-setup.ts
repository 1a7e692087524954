import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

/**
 * The browser tests load the SDK bundle and the web app; rebuild both so they never test a stale one
 * (esbuild: well under a second; Vite: a few seconds). Under CI a web app that does not build fails the run.
 * Locally (one test file while another page is half-written) the run goes on with the last good build, and
 * says so: Vite writes nothing when the build fails.
 */
export default function setup(): void {
  pruneStaleTestDirs();
  execFileSync(process.execPath, [join(root, 'client-sdk', 'build.mjs'), '--no-types'], { stdio: 'inherit' });
  try {
    // Vitest sets NODE_ENV=test, which would make Vite build React's development bundle (StrictMode then
    // runs every effect twice): the tests load the production build that the server serves.
    execFileSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(root, 'web', 'vite.config.ts'), '--logLevel', 'warn'], {
      stdio: 'inherit',
      env: { ...process.env, NODE_ENV: 'production' },
    });
  } catch (error) {
    if (process.env.CI) throw error;
    console.warn('\n[global-setup] the web app did not build (above); the tests use the previous build in dist/web\n');
  }
}

/** A test directory untouched this long belongs to a run that died without cleaning up. */
const STALE_MS = 6 * 3600_000;

/**
 * Removes test data left in the temporary directory by runs that were killed (a test server's embedded
 * database is about 100 MB): a shared test machine would otherwise fill its disk over days of runs.
 */
function pruneStaleTestDirs(): void {
  const now = Date.now();
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith('plenum-')) continue;
    const path = join(tmpdir(), name);
    try {
      if (now - statSync(path).mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // gone already, or not ours to remove
    }
  }
}

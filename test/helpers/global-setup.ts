import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

/**
 * The browser tests load the SDK bundle and the web app; rebuild both so they never test a stale one
 * (esbuild: well under a second; Vite: a few seconds).
 */
export default function setup(): void {
  execFileSync(process.execPath, [join(root, 'client-sdk', 'build.mjs'), '--no-types'], { stdio: 'inherit' });
  execFileSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(root, 'web', 'vite.config.ts'), '--logLevel', 'warn'], { stdio: 'inherit' });
}

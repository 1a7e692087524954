import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** The browser tests load the SDK bundle; rebuild it so they never test a stale one (esbuild: well under a second). */
export default function setup(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, '..', '..', 'client-sdk', 'build.mjs'), '--no-types'], { stdio: 'inherit' });
}

// Bundles the browser SDK into one ESM file with its type declarations: dist/public/sdk/plenum-sdk.{js,d.ts}.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist', 'public', 'sdk');
mkdirSync(outDir, { recursive: true });

await build({
  entryPoints: [join(root, 'client-sdk', 'src', 'index.ts')],
  outfile: join(outDir, 'plenum-sdk.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  sourcemap: true,
  minify: process.env.SDK_MINIFY !== '0',
  logLevel: 'warning',
});

if (!process.argv.includes('--no-types')) {
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'client-sdk', 'tsconfig.json')], {
    stdio: 'inherit',
  });
  writeFileSync(join(outDir, 'plenum-sdk.d.ts'), "export * from './types/client-sdk/src/index.js';\n");
}

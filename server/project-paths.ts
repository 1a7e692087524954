import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root, found from this file whether it runs from source (tests) or from dist/ (production). */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('project root (package.json) not found');
    dir = parent;
  }
  return dir;
}

export const projectRoot = findRoot();
export const demoDir = join(projectRoot, 'client-sdk', 'demo');
/** The web app's pages and assets, built by Vite (web/vite.config.ts). */
export const webAppDir = join(projectRoot, 'dist', 'web');
export const sdkBundleDir = join(projectRoot, 'dist', 'public', 'sdk');
export const openApiDir = join(projectRoot, 'docs', 'openapi');

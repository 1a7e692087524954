import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';

/**
 * PGlite's initdb takes seconds of WASM work (7 s here) on every new data directory. A new directory is
 * filled from a tarball of a freshly initialised cluster instead (1.5 s), made once per PGlite version and
 * kept in the project's node_modules/.cache. It holds only the system catalogue: the schema comes from the
 * migrations, as always.
 */
export async function createEmbedded(dir: string): Promise<PGlite> {
  if (existsSync(join(dir, 'PG_VERSION'))) return PGlite.create(dir);
  if ((await readdir(dir)).length > 0) throw new Error(`${dir} is neither empty nor an embedded database; refusing to initialise over it`);
  const template = await templatePath();
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
    // Only a cache: the next new directory pays for initdb again.
  }
  return pglite;
}

async function templatePath(): Promise<string> {
  const modules = join(projectRoot(), 'node_modules');
  const { version } = JSON.parse(await readFile(join(modules, '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string };
  return join(modules, '.cache', 'plenum', `pglite-${version}-initdb.tar.gz`);
}

function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

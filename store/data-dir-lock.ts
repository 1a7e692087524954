import { open, readFile, rm } from 'node:fs/promises';

/** The embedded database's directory is in use by another live process. */
export class DataDirInUseError extends Error {
  constructor(
    readonly path: string,
    readonly pid: number,
  ) {
    super(`the embedded database is in use by process ${pid} (${path}); stop that server first`);
    this.name = 'DataDirInUseError';
  }
}

/** Locks this process holds: a lock file with our own pid may also be a previous container's (pid reuse). */
const held = new Set<string>();

/** One process per embedded database: a lock file holding the owner's pid; a dead owner's lock is taken over. */
export class DataDirLock {
  private constructor(private readonly path: string) {}

  static async take(path: string): Promise<DataDirLock> {
    if (held.has(path)) throw new DataDirInUseError(path, process.pid);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(path, 'wx');
        await handle.writeFile(String(process.pid));
        await handle.close();
        held.add(path);
        return new DataDirLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
        if (pid > 0 && pid !== process.pid && alive(pid)) throw new DataDirInUseError(path, pid);
        await rm(path, { force: true }); // left by a process that died
      }
    }
    throw new Error(`could not take the lock ${path}`);
  }

  async release(): Promise<void> {
    held.delete(this.path);
    await rm(this.path, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './redis-process.js';
import { waitFor } from './wait.js';

const STANDBY_NAME = 'plenum_standby';
const START_TIMEOUT_MS = 30_000;

/** Debian's binaries: /usr/lib/postgresql/<version>/bin, the newest version installed. */
function findBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(`no PostgreSQL binaries under ${root}/<version>/bin: install Debian's postgresql package (scripts/setup.sh does)`);
  }
  return join(root, versions[0]!, 'bin');
}

/**
 * initdb and postgres refuse to run as root, and tests run as root in CI: then every binary runs as the
 * `postgres` system user through setpriv, which execs (unlike runuser, which forks), so the pid we hold
 * is the postmaster's own.
 */
function runAs(): { prefix: string[]; owner?: { uid: number; gid: number } } {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { prefix: ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--'], owner: { uid, gid } };
}

/** Runs a PostgreSQL tool to completion (as `postgres` when we are root); rejects with its output. */
function runTool(bin: string, args: string[], cwd: string): Promise<void> {
  const { prefix } = runAs();
  const argv = [...prefix, bin, ...args];
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { cwd, env: cleanEnv() }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${bin} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
      else resolve();
    });
  });
}

/** The caller's PG* variables (PGHOST, PGPORT, PGDATA…) must not redirect the tools. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
}

/** Alive and not a zombie (a killed backend is reparented; its new parent may reap it late). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Safety net for a test worker that dies before stop() (a timeout, a crash, SIGKILL): a shell that holds a
 * pipe from this process reads EOF when we are gone, then kills the postmaster (only if the pid in
 * postmaster.pid is still ours) with its backends, and removes the directory.
 */
const WATCHDOG = `
trap "" HUP INT TERM
read _
pid=$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null)
if [ -n "$pid" ] && grep -qa -- "$1/data" "/proc/$pid/cmdline" 2>/dev/null; then
  kill -STOP "$pid"
  kill -KILL "$pid" $(cat "/proc/$pid/task/$pid/children" 2>/dev/null)
fi
rm -rf "$1" 2>/dev/null || { sleep 1; rm -rf "$1"; }
`;

function startWatchdog(dir: string): ChildProcess {
  // It ignores the signals a terminal or a test runner sends to the whole group: it must outlive us.
  const watchdog = spawn('sh', ['-c', WATCHDOG, 'plenum-pg-watchdog', dir], { stdio: ['pipe', 'ignore', 'ignore'] });
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
  return watchdog;
}

export interface PostgresStartOptions {
  /** Extra `-c name=value` settings on the postgres command line (not copied into a standby's base backup). */
  settings?: Record<string, string>;
}

/**
 * A real PostgreSQL server on a free loopback port, in its own temporary directory, with fsync on and trust
 * auth for local and loopback connections (database `plenum`, superuser `postgres`). Tests kill it with
 * SIGKILL, restart it, and build a primary with a synchronous streaming standby for site-loss tests.
 */
export class PostgresProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private stopped = false;

  private constructor(
    readonly port: number,
    /** The temporary directory: the data directory, the unix socket and the server log live in it. */
    readonly dir: string,
    private readonly settings: Record<string, string>,
    private readonly watchdog: ChildProcess,
  ) {}

  static readonly binDir = findBinDir;

  /** initdb into a fresh directory, start, and create the database `plenum`. */
  static async start(options: PostgresStartOptions = {}): Promise<PostgresProcess> {
    const server = await PostgresProcess.create(options.settings ?? {});
    try {
      await runTool(join(findBinDir(), 'initdb'), ['-D', server.dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C'], server.dir);
      await server.restart();
      await server.withClient(async (c) => {
        // Not held for a synchronous standby that does not exist yet.
        await c.query('set synchronous_commit = local');
        await c.query('create database plenum');
      }, 'postgres');
      return server;
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  /**
   * A primary and a streaming standby made with pg_basebackup -R, with synchronous commit: a commit on the
   * primary returns only once the standby has flushed it. Resolves once the primary reports the standby as
   * streaming with sync_state 'sync'. A physical replication slot keeps the WAL the standby still needs.
   */
  static async startPrimaryWithStandby(): Promise<{ primary: PostgresProcess; standby: PostgresProcess }> {
    const primary = await PostgresProcess.start({
      settings: {
        wal_level: 'replica',
        max_wal_senders: '5',
        max_replication_slots: '5',
        synchronous_standby_names: `FIRST 1 (${STANDBY_NAME})`,
        synchronous_commit: 'on',
      },
    });
    let standby: PostgresProcess | undefined;
    try {
      await primary.withClient((c) => c.query(`select pg_create_physical_replication_slot('${STANDBY_NAME}')`));
      // The standby runs without synchronous_standby_names: once promoted, its commits wait for nobody.
      standby = await PostgresProcess.create({ hot_standby: 'on' });
      const conninfo = `host=127.0.0.1 port=${primary.port} user=postgres application_name=${STANDBY_NAME}`;
      await runTool(join(findBinDir(), 'pg_basebackup'), ['-D', standby.dataDir, '-d', conninfo, '-R', '-X', 'stream', '-S', STANDBY_NAME, '--checkpoint=fast'], standby.dir);
      await standby.restart();
      await waitFor(
        () =>
          primary.withClient(async (c) => {
            const { rows } = await c.query<{ state: string; sync_state: string }>(
              'select state, sync_state from pg_stat_replication where application_name = $1',
              [STANDBY_NAME],
            );
            return rows[0]?.state === 'streaming' && rows[0].sync_state === 'sync';
          }),
        { what: 'the standby streaming synchronously', timeoutMs: START_TIMEOUT_MS, intervalMs: 100 },
      );
      return { primary, standby };
    } catch (error) {
      await standby?.stop();
      await primary.stop();
      throw error;
    }
  }

  private static async create(settings: Record<string, string>): Promise<PostgresProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'plenum-pg-'));
    const { owner } = runAs();
    if (owner) chownSync(dir, owner.uid, owner.gid);
    return new PostgresProcess(await freePort(), dir, settings, startWatchdog(dir));
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/plenum`;
  }

  /** The postmaster's pid while it runs. */
  get pid(): number | undefined {
    return this.isRunning() ? this.child?.pid : undefined;
  }

  /** A connected client; the caller ends it. */
  async connect(database = 'plenum'): Promise<pg.Client> {
    const client = new pg.Client({ host: '127.0.0.1', port: this.port, user: 'postgres', database, connectionTimeoutMillis: 2_000 });
    client.on('error', () => {}); // a server killed under an idle client must not crash the test process
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    return client;
  }

  async withClient<T>(fn: (client: pg.Client) => Promise<T>, database = 'plenum'): Promise<T> {
    const client = await this.connect(database);
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => {});
    }
  }

  /** Starts the server on the same port and data directory (a fast shutdown first if it runs). */
  async restart(): Promise<void> {
    if (this.stopped) throw new Error('this PostgreSQL server was stopped');
    if (this.isRunning()) await this.kill('SIGINT');
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: this.dir,
      fsync: 'on',
      synchronous_commit: 'on',
      ...this.settings,
    };
    const args = ['-D', this.dataDir, '-p', String(this.port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const log = openSync(this.logFile, 'a');
    const { prefix } = runAs();
    const argv = [...prefix, join(findBinDir(), 'postgres'), ...args];
    const child = spawn(argv[0]!, argv.slice(1), { cwd: this.dir, env: cleanEnv(), stdio: ['ignore', log, log] });
    closeSync(log);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const died = this.exited.then(() => {
      throw new Error(`postgres on port ${this.port} exited while starting:\n${this.logTail()}`);
    });
    await Promise.race([
      died,
      waitFor(() => this.withClient(async (c) => (await c.query('select 1')).rowCount === 1, 'postgres'), {
        what: `postgres on port ${this.port}`,
        timeoutMs: START_TIMEOUT_MS,
        intervalMs: 100,
      }),
    ]);
  }

  /**
   * Sends `signal` and resolves once every process of the server is gone. SIGKILL kills the postmaster and
   * all its backends at once, as a crash of its machine would (each backend leads its own session, so
   * there is no group to signal); SIGTERM / SIGINT / SIGQUIT are PostgreSQL's smart / fast / immediate
   * shutdowns.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    const pid = child?.pid;
    if (!pid || !this.isRunning()) return;
    let backends: number[] = [];
    if (signal === 'SIGKILL') {
      child.kill('SIGSTOP'); // a stopped postmaster forks no backend between the listing and the kill
      backends = childrenOf(pid);
      for (const backend of backends) {
        try {
          process.kill(backend, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    child.kill(signal);
    await this.exited;
    // A new postmaster refuses to start while an old backend still holds the shared memory.
    await waitFor(() => !backends.some(alive), { what: `the backends of postgres ${pid} to exit` });
  }

  /** Promotes a standby and resolves once it accepts writes. */
  async promote(): Promise<void> {
    await this.withClient((c) => c.query('select pg_promote(true, 30)'));
    await waitFor(() => this.withClient(async (c) => (await c.query<{ r: boolean }>('select pg_is_in_recovery() as r')).rows[0]?.r === false), {
      what: `postgres on port ${this.port} to leave recovery`,
      timeoutMs: START_TIMEOUT_MS,
    });
  }

  /** Fast shutdown, then the temporary directory goes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    // A fast shutdown that hangs (a primary waiting on a dead standby's walsender) ends as a crash.
    const slow = new Promise<'slow'>((resolve) => setTimeout(() => resolve('slow'), 10_000).unref());
    if ((await Promise.race([this.kill('SIGINT'), slow])) === 'slow') await this.kill('SIGKILL');
    this.stopped = true;
    this.watchdog.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private get logFile(): string {
    return join(this.dir, 'postgres.log');
  }

  private logTail(): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '(no log)';
    }
  }

  private isRunning(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }
}

import { execFile, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CHROMIUM_PATH } from './browser.js';

const run = promisify(execFile);

/** Namespaces made by this helper are named so; a crashed run's leftovers are found by the prefix and the pid in the name. */
const PREFIX = 'plenum-bw-';
/** Where `ip netns add` pins each namespace. */
const NETNS_DIR = '/run/netns';

/** How a link is degraded: a rate (tc tbf, both directions) and random UDP loss (nftables, both directions). */
export interface LinkShape {
  rateKbit?: number;
  lossPercent?: number;
}

const live = new Set<string>();
process.once('exit', () => {
  // Last resort when a test process dies before its afterAll: the namespace (and its veth pair) goes.
  for (const ns of live) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
});

/**
 * Runs a command in a namespace by entering only its network namespace (nsenter). `ip -n` and `ip netns exec`
 * also remount /sys in a new mount namespace, which fails in a chroot (a fresh machine tried with
 * mmdebstrap): "mount --make-rslave / failed".
 */
async function inNamespace(name: string, command: string, ...args: string[]): Promise<void> {
  await run('nsenter', [`--net=${NETNS_DIR}/${name}`, command, ...args]);
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

/** Removes namespaces a previous test process made and left behind (it died before cleaning up). */
async function removeStale(): Promise<void> {
  const { stdout } = await run('ip', ['netns', 'list']);
  for (const line of stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const pid = Number(/^plenum-bw-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || processAlive(pid)) continue;
    await ip('netns', 'del', name).catch(() => undefined);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let made = 0;

/**
 * A network namespace joined to the host's by a veth pair: `hostAddress` on the host's end, `address` on
 * the namespace's. A browser started through `chromiumWrapper()` lives in the namespace and reaches the
 * server only over the pair, so `shape()` (tbf for the rate, nftables for loss) applies to all its traffic.
 * Needs root. `close()` deletes the namespace and with it both veth ends.
 */
export class NetworkNamespace {
  private wrapperDir: string | undefined;
  private closed = false;

  private constructor(
    readonly name: string,
    readonly hostDevice: string,
    readonly device: string,
    readonly hostAddress: string,
    readonly address: string,
  ) {}

  static async create(): Promise<NetworkNamespace> {
    await removeStale();
    const n = made++;
    // A /30 per namespace from the pid and a counter: parallel test processes do not collide.
    const subnet = ((process.pid % 250) * 4 + n) % 250;
    const name = `${PREFIX}${process.pid}-${n}`;
    const hostDevice = `pbw${process.pid % 100000}h${n}`;
    const device = `pbw${process.pid % 100000}n${n}`;
    const hostAddress = `10.231.${subnet}.1`;
    const address = `10.231.${subnet}.2`;
    live.add(name);
    const ns = new NetworkNamespace(name, hostDevice, device, hostAddress, address);
    try {
      await ip('netns', 'add', name);
      await ip('link', 'add', hostDevice, 'type', 'veth', 'peer', 'name', device);
      await ip('link', 'set', device, 'netns', name);
      await ip('addr', 'add', `${hostAddress}/30`, 'dev', hostDevice);
      await ip('link', 'set', hostDevice, 'up');
      await inNamespace(name, 'ip', 'addr', 'add', `${address}/30`, 'dev', device);
      await inNamespace(name, 'ip', 'link', 'set', device, 'up');
      await inNamespace(name, 'ip', 'link', 'set', 'lo', 'up');
    } catch (error) {
      await ns.close();
      throw error;
    }
    return ns;
  }

  /**
   * Limits the pair to `rateKbit` in each direction (a token bucket: a queue of at most 300 ms, then drops)
   * and drops `lossPercent` of UDP packets at random in each direction. Replaces any earlier shape.
   */
  async shape(shape: LinkShape): Promise<void> {
    await this.unshape();
    if (shape.rateKbit) {
      // The burst holds a few full-size packets; below that tbf cannot pass a 1500-byte packet at all.
      const args = ['root', 'tbf', 'rate', `${shape.rateKbit}kbit`, 'burst', '4kb', 'latency', '300ms'];
      await run('tc', ['qdisc', 'add', 'dev', this.hostDevice, ...args]);
      await inNamespace(this.name, 'tc', 'qdisc', 'add', 'dev', this.device, ...args);
    }
    if (shape.lossPercent) {
      const p = Math.round(shape.lossPercent);
      const rules = [
        'table inet plenum_loss {',
        `  chain input { type filter hook input priority 0; meta l4proto udp numgen random mod 100 < ${p} drop; }`,
        `  chain output { type filter hook output priority 0; meta l4proto udp numgen random mod 100 < ${p} drop; }`,
        '}',
      ].join('\n');
      await this.nft(rules);
    }
  }

  /** Back to a clean link. */
  async unshape(): Promise<void> {
    await run('tc', ['qdisc', 'del', 'dev', this.hostDevice, 'root']).catch(() => undefined);
    await inNamespace(this.name, 'tc', 'qdisc', 'del', 'dev', this.device, 'root').catch(() => undefined);
    await inNamespace(this.name, 'nft', 'delete', 'table', 'inet', 'plenum_loss').catch(() => undefined);
  }

  /**
   * An executable that starts Debian's Chromium inside this namespace, for playwright-core's
   * `executablePath`: nsenter execs the browser in place, so its pipes to playwright stay as they are.
   */
  async chromiumWrapper(): Promise<string> {
    this.wrapperDir ??= await mkdtemp(join(tmpdir(), 'plenum-netns-'));
    const path = join(this.wrapperDir, 'chromium');
    await writeFile(path, `#!/bin/sh\nexec nsenter --net=${NETNS_DIR}/${this.name} ${CHROMIUM_PATH} "$@"\n`);
    await chmod(path, 0o755);
    return path;
  }

  /** Deletes the namespace (its veth end goes with it, and the host's end with that), the shaping and the wrapper. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await run('tc', ['qdisc', 'del', 'dev', this.hostDevice, 'root']).catch(() => undefined);
    await ip('netns', 'del', this.name).catch(() => undefined);
    await ip('link', 'del', this.hostDevice).catch(() => undefined);
    live.delete(this.name);
    if (this.wrapperDir) await rm(this.wrapperDir, { recursive: true, force: true });
  }

  private async nft(rules: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const child = execFile('nsenter', [`--net=${NETNS_DIR}/${this.name}`, 'nft', '-f', '-'], (error) => (error ? reject(error) : resolve()));
      child.stdin?.end(rules);
    });
  }
}

// The plenary benchmark (BENCH=plenary): N simulated delegates in one room through real signaling, with real
// server-side transports, producers and consumers, side by side for PLENUM_FORWARDING=all (consume everything)
// and =selective (server-side selection), in one run. Prints JSON.
//  - Tokens: real HS256 join tokens, signed here with the server's PLENUM_JOIN_TOKEN_SECRET (as the
//    accreditation flow's issuer does); dev mode is on only for the cluster's nodes' defaults.
//  - The session is a moderated floor (floorControl): the secretariat (a socket with the `moderate` grant) puts
//    a speaker on the list and gives the floor through signaling, every BENCH_PLENARY_MOVE_MS.
//  - Media: the crowd's delegates publish a microphone and a camera on WebRTC transports that are never
//    ICE-connected (real producers and consumers; no RTP). On one node, a few delegates are wired: their
//    endpoint gets a PlainTransport from this process, their microphones send Opus-like RTP with the
//    ssrc-audio-level extension, and a few receivers' consumers send RTP to UDP sockets, where the first
//    packet of the new floor holder is timed. The talkers and the receivers' sockets run in a child process
//    (plenary-rtp.ts), off the server's event loop. Cameras send no RTP.
//  - The crowd runs in a child process (plenary-crowd.ts), so that the server's event loop, RSS and CPU are
//    the server's own. One node: the server runs in this process (with the secretariat and the few wired
//    delegates). Cluster: three spawned server processes sharing a redis-server and a PostgreSQL.
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session as InspectorSession } from 'node:inspector/promises';
import { join } from 'node:path';
import { loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SessionDirectory } from '../../accreditation/session-directory.js';
import type { JoinGrants } from '../../server/auth/join-token.js';
import { DEV_MODE_STATUS, JoinTokenService } from '../../server/auth/join-token.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { openStore } from '../../store/open-store.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { CLUSTER_SECRET, RedisProcess } from '../helpers/redis-process.js';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { startTestServer } from '../helpers/test-server.js';
import type { CrowdReply, CrowdRequest } from './plenary-crowd.js';
import { Delegate, GALLERY_TILES, sumStats, type DelegateStats } from './plenary-delegate.js';
import { Receiver, RtpPeer, Talker, wireTransport } from './plenary-media.js';

const list = (v: string | undefined, d: string): number[] => (v ?? d).split(',').filter(Boolean).map(Number);
const SIZES = list(process.env.BENCH_PLENARY_SIZES, '50,100,300,1000');
const CLUSTER_SIZES = list(process.env.BENCH_PLENARY_CLUSTER_SIZES, '1000,3000');
const MODES = (process.env.BENCH_PLENARY_MODES ?? 'all,selective').split(',') as Array<'all' | 'selective'>;
/** `all` holds 2·N·(N−1) consumers: above this N it is not run. */
const ALL_MAX_N = Number(process.env.BENCH_PLENARY_ALL_MAX_N ?? 100);
/** A run stops once the server holds more consumers than this (the machine would not hold them). */
const CONSUMER_CEILING = Number(process.env.BENCH_PLENARY_CONSUMER_CEILING ?? 100_000);
const JOINS_PER_SECOND = Number(process.env.BENCH_PLENARY_JOINS_PER_SECOND ?? 20);
const WINDOW_MS = Number(process.env.BENCH_PLENARY_WINDOW_S ?? 24) * 1000;
const MOVE_MS = Number(process.env.BENCH_PLENARY_MOVE_MS ?? 3000);
const WARMUP_MS = 2000;
const SPEAKERS = 4;
const RECEIVERS = 3;
const SECRET = 'a-join-token-secret-for-the-plenary-bench-0123';
const ROOM = 'plenary-bench';
const EVENT = 'plenary-bench-event';

const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;
function percentile(xs: number[], p: number): number | null {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!) : null;
}
/** A full GC before each RSS reading of this process, so that one run's garbage does not count in the next. */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function settledRss(): number {
  gc();
  return process.memoryUsage().rss;
}
/** The JavaScript heap and buffers after a full GC: steadier than RSS, which a process seldom gives back. */
function heapBytes(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * BENCH_PLENARY_PROFILE=1: a CPU profile of this process's main thread (the one-node server) over the join wave
 * and over the steady window, summed by source file and by the server's functions; the profiles themselves are
 * written under the temp dir. The profiler samples wall time: on a busy machine, preemption counts too.
 */
const PROFILE = process.env.BENCH_PLENARY_PROFILE === '1';
const ROOT = new URL('../../', import.meta.url).href;
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
async function profiled<T>(label: string, work: () => Promise<T>): Promise<{ value: T; profile?: unknown }> {
  if (!PROFILE) return { value: await work() };
  const session = new InspectorSession();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  try {
    return { value: await work(), profile: await summary() };
  } finally {
    session.disconnect();
  }
  async function summary() {
    const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] } };
    const file = join(tmpdir(), `plenary-${label}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const where = (url: string): string => url.replace(ROOT, '').replace(/^.*node_modules\//, 'node_modules/');
    const ownCode = (url: string): boolean => url.startsWith(ROOT) && !url.includes('/node_modules/') && !url.startsWith(`${ROOT}test/`);
    // Self time by source file or package; inclusive time by the server's own functions (a sample counts once for
    // each distinct function of ours on its stack).
    const byFile = new Map<string, number>();
    const inclusive = new Map<string, number>();
    let total = 0;
    profile.samples.forEach((leaf, i) => {
      const us = profile.timeDeltas[i] ?? 0;
      total += us;
      const f = byId.get(leaf)!.callFrame;
      const w = where(f.url);
      const pkg = w.startsWith('node_modules/') ? w.split('/').slice(0, w.split('/')[1]!.startsWith('@') ? 3 : 2).join('/') : w || `(${f.functionName || 'native'})`;
      byFile.set(pkg, (byFile.get(pkg) ?? 0) + us);
      const seen = new Set<string>();
      for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
        const frame = byId.get(id)!.callFrame;
        if (!ownCode(frame.url)) continue;
        const name = `${frame.functionName || '(anonymous)'} ${where(frame.url)}`;
        if (seen.has(name)) continue;
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      }
    });
    const top = (m: Map<string, number>, k: number) =>
      [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([name, us]) => ({ name, ms: round(us / 1000, 0), share: round(us / total, 3) }));
    return { file, sampledMs: round(total / 1000, 0), selfTimeByFileOrPackage: top(byFile, 15), inclusiveByServerFunction: top(inclusive, 30) };
  }
}

const tokens = new JoinTokenService(SECRET, 3600);
function token(subject: string, over: Partial<JoinGrants> = {}): string {
  return tokens.issue(subject, {
    room: ROOM,
    event: EVENT,
    person: subject,
    name: subject,
    role: 'delegate',
    entity: { name: `State ${subject}`, type: 'member_state' },
    publish: { floor: true, booths: [], captions: false },
    subscribe: true,
    moderate: false,
    lobby: false,
    // Dev-mode grants (as POST /dev/token gives): no registry stands behind the bench's people, so the
    // revocation monitor must leave them alone.
    accreditation: { status: DEV_MODE_STATUS, source: 'none' },
    ...over,
  });
}
const session = { sessionId: ROOM, eventId: EVENT, title: 'Plenary bench', open: true, lobby: false, floorControl: true };

/** The env both topologies give the server: the mode, and limits that do not mask what the mode does. */
function serverEnv(mode: string, n: number): Record<string, string> {
  return {
    PLENUM_FORWARDING: mode,
    PLENUM_LOG_LEVEL: 'warn',
    PLENUM_JOIN_TOKEN_SECRET: SECRET,
    PLENUM_ROOM_IDLE_CLOSE_MS: '60000',
    PLENUM_MAX_CONSUMERS_PER_PARTICIPANT: String(2 * n + 20),
    PLENUM_SIGNALING_RATE_PER_SECOND: '2000',
    PLENUM_SIGNALING_RATE_BURST: '5000',
    PLENUM_SIGNALING_MAX_PENDING_PER_ADDRESS: '10000',
  };
}

/** The crowd in its own process. */
class CrowdProcess {
  private readonly child: ChildProcess;
  private constructor() {
    this.child = fork(new URL('./plenary-crowd.ts', import.meta.url), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }
  static start(): CrowdProcess {
    return new CrowdProcess();
  }
  get pid(): number {
    return this.child.pid!;
  }
  private ask<T extends CrowdReply['type']>(request: CrowdRequest, type: T): Promise<Extract<CrowdReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: CrowdReply) => {
        if (m.type !== type) return;
        this.child.off('message', onMessage);
        resolve(m as Extract<CrowdReply, { type: T }>);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', (code) => reject(new Error(`crowd exited (${code})`)));
      this.child.send(request);
    });
  }
  join(delegates: Array<{ url: string; token: string; ssrc: number }>) {
    return this.ask({ type: 'join', delegates, joinsPerSecond: JOINS_PER_SECOND }, 'joined');
  }
  stats() {
    return this.ask({ type: 'stats' }, 'stats');
  }
  close(): void {
    if (this.child.connected) this.child.send({ type: 'close' } satisfies CrowdRequest);
    setTimeout(() => this.child.kill('SIGKILL'), 5000).unref();
  }
}

const TICK_MS = 10; // Linux USER_HZ = 100
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}
/** CPU ms of a process's main thread (the event loop) and of its other threads (PGlite's worker, libuv's pool, GC). */
function threadCpuMs(pid: number | 'self'): Record<string, number> {
  const out: Record<string, number> = {};
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Node names every thread `node`: the main thread is the one whose id is the process's.
      const main = tid === String(pid === 'self' ? process.pid : pid);
      const name = main ? 'main thread (event loop)' : `other threads (${/\((.*)\)/.exec(stat)?.[1] ?? '?'}: workers, libuv pool, GC)`;
      const f = stat.split(') ')[1]!.split(' ');
      out[name] = (out[name] ?? 0) + (Number(f[11]) + Number(f[12])) * TICK_MS;
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}
function threadShares(before: Record<string, number>, after: Record<string, number>, ms: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, round((v - (before[k] ?? 0)) / ms, 3)] as const)
      .filter(([, v]) => v >= 0.005)
      .sort((a, b) => b[1] - a[1]),
  );
}
function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
const workerPidsOf = (pid: number) => childPids(pid).filter((c) => readFileSync(`/proc/${c}/comm`, 'utf8').trim().startsWith('mediasoup-work'));

function eventsPerParticipantPerMinute(before: DelegateStats, after: DelegateStats, participants: number, ms: number) {
  return round(((after.events - before.events) / participants) * (60_000 / ms), 1);
}
function eventsByName(before: DelegateStats, after: DelegateStats): Record<string, number> {
  return Object.fromEntries(Object.entries(after.eventsByName).map(([k, v]) => [k, v - (before.eventsByName[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
}
/** Signaling messages both ways in the steady window, per participant per minute: pushes, and requests with their answers. */
function messagesPerParticipantPerMinute(before: DelegateStats, after: DelegateStats, participants: number, ms: number) {
  const perMinute = (n: number) => round((n / participants) * (60_000 / ms), 1);
  const requests = after.requests - before.requests;
  const requestsByName = Object.fromEntries(Object.entries(after.requestsByName).map(([k, v]) => [k, v - (before.requestsByName[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
  return { pushes: perMinute(after.events - before.events), requests: perMinute(requests), total: perMinute(after.events - before.events + 2 * requests), requestsByName };
}
/** Signaling per participant: over the join wave (`wave`), and per minute over the steady window (`before` to `after`). */
function signalingPerParticipant(wave: DelegateStats, before: DelegateStats, after: DelegateStats, participantCount: number, ms: number) {
  const participants = Math.max(1, participantCount);
  return {
    duringJoinWave: round(wave.events / participants, 1),
    joinWaveByEvent: wave.eventsByName,
    perMinuteSteady: eventsPerParticipantPerMinute(before, after, participants, ms),
    steadyByEvent: eventsByName(before, after),
    messagesPerMinuteSteady: messagesPerParticipantPerMinute(before, after, participants, ms),
    joinWaveRequests: round(wave.requests / participants, 1),
    clientErrors: after.errors,
  };
}

interface Counts {
  participants: number;
  consumers: number;
  workerConsumers: number;
}

/** Waits until `read` holds still for 3 s (or 90 s pass): the join wave's consumes have landed. */
async function settle(read: () => Promise<Counts>): Promise<Counts> {
  let last = await read();
  let stillSince = performance.now();
  const deadline = performance.now() + 90_000;
  while (performance.now() < deadline && performance.now() - stillSince < 3000) {
    await sleep(500);
    const now = await read();
    if (now.consumers !== last.consumers || now.participants !== last.participants) stillSince = performance.now();
    last = now;
  }
  return last;
}

/** Awaits `work` while watching the server's consumers; gives up once they pass the ceiling. */
async function underCeiling<T>(work: Promise<T>, read: () => Promise<Counts>): Promise<{ value?: T; over?: Counts; afterS: number }> {
  const t0 = performance.now();
  work.catch(() => undefined);
  for (;;) {
    const done = await Promise.race([work.then((value) => ({ value })), sleep(1000).then(() => undefined)]);
    if (done) return { value: done.value, afterS: round((performance.now() - t0) / 1000, 1) };
    const c = await read();
    if (Math.max(c.consumers, c.workerConsumers) > CONSUMER_CEILING) return { over: c, afterS: round((performance.now() - t0) / 1000, 1) };
  }
}
const stopped = (r: { over?: Counts; afterS: number }) => ({
  why: `stopped: the server held more than ${CONSUMER_CEILING} consumers (BENCH_PLENARY_CONSUMER_CEILING), more than this machine is asked to hold`,
  after: `${r.afterS} s`,
  heldThen: r.over,
});

/**
 * Moves the floor among `speakers` during the window, as a chair works a prepared speakers list: the next
 * speaker is on the list while the current one speaks (the server takes their microphone ahead), and the
 * secretariat gives the floor.
 */
async function moveFloor(secretariat: Delegate, speakers: Array<{ id: string; mic: string }>, onGiven: (s: { id: string; mic: string }, t0: number) => Promise<void>) {
  const start = performance.now();
  const acks: number[] = [];
  const failed: string[] = [];
  await secretariat.request('addSpeaker', { participantId: speakers[0]!.id }).catch(() => undefined);
  for (let i = 0; performance.now() - start < WINDOW_MS; i++) {
    const next = speakers[i % speakers.length]!;
    // The change starts when the secretariat sends giveFloor: the latencies include that request.
    const t0 = performance.now();
    try {
      const given = performance.now();
      await secretariat.request('giveFloor', { participantId: next.id });
      acks.push(performance.now() - given);
      await secretariat.request('addSpeaker', { participantId: speakers[(i + 1) % speakers.length]!.id });
      await Promise.all([onGiven(next, given), sleep(MOVE_MS - (performance.now() - t0))]);
    } catch (error) {
      failed.push((error as Error).message);
      await sleep(MOVE_MS);
    }
  }
  return { moves: acks.length, failedMoves: failed, giveFloorAckMs: { p50: percentile(acks, 50), p95: percentile(acks, 95) } };
}

function joinSummary(joinMs: number[], failures: Record<string, number>, failureSamples: string[] = []) {
  return { joined: joinMs.length, failures, ...(failureSamples.length ? { failureSamples } : {}), p50Ms: percentile(joinMs, 50), p99Ms: percentile(joinMs, 99), maxMs: percentile(joinMs, 100) };
}

async function oneNode(mode: 'all' | 'selective', n: number) {
  const server: MeetingServer = await startTestServer({ ...serverEnv(mode, n), PLENUM_DEV_MODE: 'true' });
  const crowd = CrowdProcess.start();
  const mine: Delegate[] = [];
  const talkers: Talker[] = [];
  const receivers: Receiver[] = [];
  const rtp = new RtpPeer();
  const receiverDelegates: Delegate[] = [];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  try {
    await server.accreditation.service.sessions.upsert(session);
    const worker = server.pool.workers[0]!;
    const rssBefore = { node: settledRss(), heap: heapBytes(), worker: rssBytes(worker.pid) };
    const counts = async (): Promise<Counts> => {
      const room = server.rooms.get(ROOM);
      const ps = room ? [...room.participants.values()] : [];
      return { participants: ps.length, consumers: ps.reduce((k, p) => k + p.endpoint.consumers.size, 0), workerConsumers: server.pool.workers.reduce((k, w) => k + w.load.consumers, 0) };
    };
    // Signed before anything is measured: jsonwebtoken spends about 1 ms of CPU per token here (see the report).
    const crowdTokens = Array.from({ length: Math.max(0, n - SPEAKERS - RECEIVERS) }, (_, i) => token(`d${i}`));
    loop.enable();
    const secretariat = (await Delegate.join(server.url, token('secretariat', { role: 'secretariat', moderate: true }))).delegate;
    mine.push(secretariat);
    const room = server.rooms.get(ROOM)!;
    // Should the room close under the load (a worker dying, say), the figures say when and why.
    let roomClosed: { reason: string; afterStartS: number } | undefined;
    const started = performance.now();
    room.once('close', (reason) => (roomClosed = { reason, afterStartS: round((performance.now() - started) / 1000, 1) }));
    // The wired delegates first (they count among the N), then the crowd, open loop.
    const wiredJoinMs: number[] = [];
    const speakers: Array<{ id: string; mic: string; talker: Talker }> = [];
    for (let i = 0; i < SPEAKERS; i++) {
      const id = `speaker-${i}`;
      const { delegate, answer } = await Delegate.join(server.url, token(id));
      mine.push(delegate);
      wiredJoinMs.push(delegate.joinMs);
      await delegate.receive(answer);
      let port = 0;
      const { mic } = await delegate.publish(0x10000 + i * 2, {
        send: async () => {
          const t = await wireTransport(room, id, 'send');
          port = t.tuple.localPort;
          return t.id;
        },
      });
      const talker = new Talker(rtp, port, 0x10000 + i * 2);
      talker.level = 30;
      talker.start();
      talkers.push(talker);
      speakers.push({ id, mic, talker });
    }
    for (let i = 0; i < RECEIVERS; i++) {
      const id = `receiver-${i}`;
      const { delegate, answer } = await Delegate.join(server.url, token(id));
      mine.push(delegate);
      wiredJoinMs.push(delegate.joinMs);
      receiverDelegates.push(delegate);
      const receiver = new Receiver(room, id, rtp);
      const port = await receiver.bind();
      receivers.push(receiver);
      // Its receive transport is the wired one (adopted before any other): the server's consumers land on it.
      await delegate.receive(answer, { recv: async () => (await wireTransport(room, id, 'recv', port)).id });
      await delegate.publish(0x20000 + i * 2);
    }
    const crowdSize = Math.max(0, n - SPEAKERS - RECEIVERS);
    const waveStart = performance.now();
    const waveCpu0 = { node: process.cpuUsage(), crowd: cpuMs(crowd.pid), worker: cpuMs(worker.pid), threads: threadCpuMs('self') };
    const { value: wave, profile: joinWaveProfile } = await profiled(`join-wave-${mode}-${n}`, () =>
      underCeiling(
        crowd.join(crowdTokens.slice(0, crowdSize).map((t, i) => ({ url: server.url, token: t, ssrc: 0x100000 + i * 2 }))),
        counts,
      ),
    );
    if (!wave.value) return { topology: 'one node', mode, n, stopped: stopped(wave), machineLoadAverage1m: round(loadavg()[0]!) };
    const joined = wave.value;
    const waveMs = performance.now() - waveStart;
    const waveNodeCpu = process.cpuUsage(waveCpu0.node);
    // Join latencies are taken at the crowd: if the crowd saturated its core, they are partly its own.
    const waveCpu = {
      serverNodeProcess: round((waveNodeCpu.user + waveNodeCpu.system) / 1000 / waveMs, 3),
      mediasoupWorker: round((cpuMs(worker.pid) - waveCpu0.worker) / waveMs, 3),
      crowdProcess: round((cpuMs(crowd.pid) - waveCpu0.crowd) / waveMs, 3),
      serverThreads: threadShares(waveCpu0.threads, threadCpuMs('self'), waveMs),
      serverCpuMsPerJoin: round(((waveNodeCpu.user + waveNodeCpu.system) / 1000 + cpuMs(worker.pid) - waveCpu0.worker) / Math.max(1, (wave.value?.joinMs.length ?? 0)), 1),
    };
    const waveLoop = { p99Ms: round(loop.percentile(99) / 1e6), maxMs: round(loop.max / 1e6) };
    const settled = await underCeiling(settle(counts), counts);
    if (!settled.value) return { topology: 'one node', mode, n, stopped: stopped(settled), machineLoadAverage1m: round(loadavg()[0]!) };
    const held = settled.value;
    const waveStats = sumStats([(await crowd.stats()).stats, ...mine.slice(1).map((d) => d.stats())]);
    const rssAfter = { node: settledRss(), heap: heapBytes(), worker: rssBytes(worker.pid) };
    const joinedHeld = Math.max(1, held.participants - 1); // the secretariat is not a delegate
    const connectedBefore = (await crowd.stats()).connected;

    // Steady state with the floor moving: warm up, then measure the window.
    await sleep(WARMUP_MS);
    const before = sumStats([(await crowd.stats()).stats, ...mine.slice(1).map((d) => d.stats())]);
    const consoleBefore = secretariat.events;
    const usage0 = await worker.worker.getResourceUsage();
    const cpu0 = { node: process.cpuUsage(), crowd: cpuMs(crowd.pid) };
    loop.reset();
    const t0 = performance.now();
    const switches: number[] = [];
    // Where a switch's time goes, at the wired receivers: the activeSpeaker push, the newConsumer of the new
    // holder's microphone (selective), then its first RTP packet.
    const activeSpeakerMs: number[] = [];
    const newConsumerMs: number[] = [];
    let missed = 0;
    const { value: floor, profile: steadyProfile } = await profiled(`steady-${mode}-${n}`, () => moveFloor(secretariat, speakers, async (s, since) => {
      for (const t of talkers) t.level = t === speakers.find((x) => x.id === s.id)!.talker ? 20 : 45;
      const firsts = await Promise.all(receivers.map((r) => r.firstPacket(s.mic, since, Math.max(1000, MOVE_MS - 200))));
      for (const at of firsts) if (at === null) missed += 1;
      else switches.push(at - since);
      for (const d of receiverDelegates) {
        const spoke = d.lastAt.activeSpeaker;
        if (spoke !== undefined && spoke >= since) activeSpeakerMs.push(spoke - since);
        const pushed = d.pushedAt.get(s.mic);
        if (pushed !== undefined && pushed >= since) newConsumerMs.push(pushed - since);
      }
    }));
    const windowMs = performance.now() - t0;
    const usage1 = await worker.worker.getResourceUsage();
    const nodeCpu = process.cpuUsage(cpu0.node);
    const crowdCpu = cpuMs(crowd.pid) - cpu0.crowd;
    const after = sumStats([(await crowd.stats()).stats, ...mine.slice(1).map((d) => d.stats())]);
    const steadyLoop = { p99Ms: round(loop.percentile(99) / 1e6), maxMs: round(loop.max / 1e6) };
    const end = await counts();
    const connectedAfter = (await crowd.stats()).connected;
    const participants = joinedHeld;
    const workerCpuMs = usage1.ru_utime + usage1.ru_stime - usage0.ru_utime - usage0.ru_stime;
    return {
      topology: 'one node (server in the bench process; crowd in a child process)',
      mode,
      n,
      joinedDelegates: participants,
      participantsAtEndOfWindow: end.participants - 1,
      crowdSocketsConnected: { windowStart: connectedBefore, windowEnd: connectedAfter },
      roomClosed: roomClosed ?? null,
      join: joinSummary([...wiredJoinMs, ...joined.joinMs], joined.failures, joined.failureSamples),
      joinWaveS: round(waveMs / 1000, 1),
      cpuShareOfOneCoreDuringJoinWave: waveCpu,
      consumersPerParticipant: {
        afterJoinWave: round(held.consumers / Math.max(1, held.participants - 1), 2),
        endOfWindow: round(end.consumers / Math.max(1, participants), 2),
      },
      consumers: { endpoints: held.consumers, onWorkers: held.workerConsumers, clientSide: waveStats.consumed, endOfWindowEndpoints: end.consumers },
      signalingEventsPerParticipant: {
        ...signalingPerParticipant(waveStats, before, after, participants, windowMs),
        secretariatConsolePerMinute: round(((secretariat.events - consoleBefore) * 60_000) / windowMs, 1),
      },
      eventLoopLag: { joinWave: waveLoop, steady: steadyLoop },
      rssPerParticipantKB: {
        serverNode: round((rssAfter.node - rssBefore.node) / 1024 / Math.max(1, participants), 1),
        serverNodeHeapAfterGc: round((rssAfter.heap - rssBefore.heap) / 1024 / Math.max(1, participants), 1),
        mediasoupWorker: round((rssAfter.worker - rssBefore.worker) / 1024 / Math.max(1, participants), 1),
      },
      cpuShareOfOneCore: { mediasoupWorker: round(workerCpuMs / windowMs, 3), serverNodeProcess: round((nodeCpu.user + nodeCpu.system) / 1000 / windowMs, 3), crowdProcess: round(crowdCpu / windowMs, 3) },
      floor: { ...floor, speakerSwitchToFirstPacketMs: { samples: switches.length, missed, p50: percentile(switches, 50), p95: percentile(switches, 95), max: percentile(switches, 100) },
        atWiredReceivers: {
          activeSpeakerPushMs: { p50: percentile(activeSpeakerMs, 50), p95: percentile(activeSpeakerMs, 95) },
          newConsumerOfMicMs: { samples: newConsumerMs.length, p50: percentile(newConsumerMs, 50), p95: percentile(newConsumerMs, 95) },
        },
      },
      machineLoadAverage1m: round(loadavg()[0]!),
      ...(joinWaveProfile ? { joinWaveProfile, steadyProfile } : {}),
    };
  } finally {
    loop.disable();
    crowd.close();
    for (const d of mine) d.close();
    for (const t of talkers) t.close();
    for (const r of receivers) r.close();
    rtp.close();
    await server.close();
  }
}

/** The gauges and process figures a node serves on /metrics (loopback: served on the main port). */
async function scrape(url: string): Promise<{ participants: number; consumers: number; rss: number; lagP99: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const pick = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    participants: pick('plenum_participants'),
    consumers: pick('plenum_consumers'),
    rss: pick('plenum_process_resident_memory_bytes'),
    lagP99: pick('plenum_process_nodejs_eventloop_lag_p99_seconds'),
  };
}

async function cluster(mode: 'all' | 'selective', n: number) {
  const redis = await RedisProcess.start();
  const postgres = await PostgresProcess.start();
  const nodes: ServerProcess[] = [];
  const crowd = CrowdProcess.start();
  let secretariat: Delegate | undefined;
  try {
    const store = await openStore({ databaseUrl: postgres.url, dataDir: tmpdir() });
    await (await SessionDirectory.open(store.db)).upsert(session);
    await store.close();
    const env = (id: string) => ({
      ...serverEnv(mode, n),
      PLENUM_NODE_ID: id,
      PLENUM_DEV_MODE: 'true',
      PLENUM_REDIS_URL: redis.url,
      PLENUM_DATABASE_URL: postgres.url,
      PLENUM_CLUSTER_SECRET: CLUSTER_SECRET,
      PLENUM_EMBEDDED_IDP_SECRET: 'an-embedded-idp-secret-for-the-plenary-bench-01',
    });
    for (const id of ['a', 'b', 'c']) nodes.push(await spawnServer(env(id)));
    const urls = nodes.map((s) => s.url);
    const pids = nodes.map((s) => s.child.pid!);
    const all = async () => Promise.all(urls.map(scrape));
    const workerPids = pids.map(workerPidsOf);
    const rss = () => pids.map((p, i) => rssBytes(p) + workerPids[i]!.reduce((k, w) => k + rssBytes(w), 0));
    const rssBefore = rss();
    const crowdTokens = Array.from({ length: n }, (_, i) => token(`d${i}`));
    secretariat = (await Delegate.join(urls[0]!, token('secretariat', { role: 'secretariat', moderate: true }))).delegate;
    const waveStart = performance.now();
    await all(); // resets the nodes' event-loop histograms
    // Every scrape resets a node's event-loop histogram: during the wave, keep each second's p99.
    const waveLag: number[][] = urls.map(() => []);
    let byNode: number[] = [];
    const clusterCounts = async (): Promise<Counts> => {
      const m = await all();
      byNode = m.map((x) => x.participants);
      m.forEach((x, i) => waveLag[i]!.push(x.lagP99 * 1000));
      const consumers = m.reduce((k, x) => k + x.consumers, 0);
      return { participants: m.reduce((k, x) => k + x.participants, 0), consumers, workerConsumers: consumers };
    };
    const wave = await underCeiling(
      crowd.join(crowdTokens.map((t, i) => ({ url: urls[i % urls.length]!, token: t, ssrc: 0x100000 + i * 2 }))),
      clusterCounts,
    );
    if (!wave.value) return { topology: 'cluster', mode, n, stopped: stopped(wave), participantsByNode: byNode, machineLoadAverage1m: round(loadavg()[0]!) };
    const joined = wave.value;
    const waveMs = performance.now() - waveStart;
    const waveMetrics = await all();
    const settled = await underCeiling(settle(clusterCounts), clusterCounts);
    if (!settled.value) return { topology: 'cluster', mode, n, stopped: stopped(settled), participantsByNode: byNode, machineLoadAverage1m: round(loadavg()[0]!) };
    const held = settled.value;
    const waveStats = (await crowd.stats()).stats;
    const rssAfter = rss();
    await sleep(WARMUP_MS);
    const before = (await crowd.stats()).stats;
    await all();
    const cpu0 = workerPids.flat().map(cpuMs);
    const node0 = pids.map(cpuMs);
    const t0 = performance.now();
    const speakers = Array.from({ length: SPEAKERS }, (_, i) => ({ id: `d${i}`, mic: '' }));
    const floor = await moveFloor(secretariat, speakers, async () => undefined);
    const windowMs = performance.now() - t0;
    const steady = await all();
    const cpu1 = workerPids.flat().map(cpuMs);
    const after = (await crowd.stats()).stats;
    const participants = held.participants - 1;
    return {
      topology: 'three server processes, one redis-server, one PostgreSQL; crowd in a child process',
      mode,
      n,
      joinedDelegates: participants,
      participantsByNode: waveMetrics.map((m) => m.participants),
      connectionsLandedOn: joined.byUrl,
      join: joinSummary(joined.joinMs, joined.failures, joined.failureSamples),
      joinWaveS: round(waveMs / 1000, 1),
      consumersPerParticipant: { afterJoinWave: round(held.consumers / Math.max(1, participants), 2), endOfWindow: round(steady.reduce((k, m) => k + m.consumers, 0) / Math.max(1, participants), 2) },
      consumers: { servers: held.consumers, clientSide: waveStats.consumed },
      signalingEventsPerParticipant: {
        ...signalingPerParticipant(waveStats, before, after, participants, windowMs),
      },
      eventLoopLagP99Ms: {
        joinWaveWorstSecondByNode: waveLag.map((xs, i) => round(Math.max(waveMetrics[i]!.lagP99 * 1000, ...xs.filter(Number.isFinite)))),
        steadyWindowByNode: steady.map((m) => round(m.lagP99 * 1000)),
      },
      rssPerParticipantKB: round((rssAfter.reduce((a, b) => a + b, 0) - rssBefore.reduce((a, b) => a + b, 0)) / 1024 / Math.max(1, participants), 1),
      cpuShareOfOneCore: {
        mediasoupWorkers: round(cpu1.reduce((k, c, i) => k + c - cpu0[i]!, 0) / windowMs, 3),
        serverNodeProcesses: pids.map((p, i) => round((cpuMs(p) - node0[i]!) / windowMs, 3)),
      },
      floor: { ...floor, speakerSwitchToFirstPacketMs: null, why: 'no RTP across processes: the crowd has no ICE/DTLS stack (see the one-node runs)' },
      machineLoadAverage1m: round(loadavg()[0]!),
    };
  } finally {
    crowd.close();
    secretariat?.close();
    if (process.env.BENCH_PLENARY_NODE_LOGS) for (const [i, s] of nodes.entries()) writeFileSync(`${process.env.BENCH_PLENARY_NODE_LOGS}-${n}-${i}.jsonl`, s.logs.filter((l) => Number(l.level) >= 40).map((l) => JSON.stringify(l)).join('\n'));
    for (const s of nodes) s.child.kill('SIGTERM');
    await Promise.all(nodes.map((s) => Promise.race([s.exited, sleep(10_000).then(() => s.child.kill('SIGKILL'))])));
    await redis.kill();
    await postgres.stop();
  }
}

async function guarded<T>(what: string, run: () => Promise<T>): Promise<T | { run: string; error: string }> {
  process.stderr.write(`[bench plenary] ${what}\n`);
  try {
    return await run();
  } catch (error) {
    process.stderr.write(`[bench plenary] ${what}: ${(error as Error).stack}\n`);
    return { run: what, error: (error as Error).message };
  }
}

const oneNodeRuns: unknown[] = [];
for (const n of SIZES) {
  for (const mode of MODES) {
    if (mode === 'all' && n > ALL_MAX_N) oneNodeRuns.push({ mode, n, notRun: `all (2·N·(N−1) = ${2 * n * (n - 1)} consumers) is not run above N = ${ALL_MAX_N}` });
    else oneNodeRuns.push(await guarded(`one node, ${mode}, N=${n}`, () => oneNode(mode, n)));
  }
}
const clusterRuns: unknown[] = [];
for (const n of CLUSTER_SIZES) {
  for (const mode of MODES) {
    if (mode === 'all' && n > ALL_MAX_N) clusterRuns.push({ mode, n, notRun: `all (2·N·(N−1) = ${2 * n * (n - 1)} consumers) is not run above N = ${ALL_MAX_N}` });
    else clusterRuns.push(await guarded(`cluster, ${mode}, N=${n}`, () => cluster(mode, n)));
  }
}
process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'plenary',
      setup: {
        joinsPerSecond: JOINS_PER_SECOND,
        windowS: WINDOW_MS / 1000,
        floorMoveEveryMs: MOVE_MS,
        floor: 'moderated (floorControl); the secretariat adds a speaker and gives the floor through signaling',
        perDelegate: 'one microphone (Opus + ssrc-audio-level) and one camera (VP8, no RTP sent) on the floor',
        screen: `setView: a 1280x720 stage and ${GALLERY_TILES} gallery tiles of 320x180 (BENCH_PLENARY_TILES), the join answer's first roster page, filled from later joins while not full; video pushed paused is resumed (resumeConsumer), as the SDK does`,
        media: `the crowd: WebRTC transports never ICE-connected (no RTP); one node: ${SPEAKERS} speakers send RTP with audio levels and ${RECEIVERS} receivers get RTP through PlainTransports wired into their server endpoints`,
        tokens: 'real HS256 join tokens signed with the server secret',
        limitsRaised: 'signaling rate 2000/s (burst 5000), consumers per participant 2N+20: so that the limits do not mask what each mode does',
        forwardingSwitch: 'PLENUM_FORWARDING is passed to the server; a server without the switch ignores it, and the figures show what it did',
        cores: 2,
      },
      oneNode: oneNodeRuns,
      cluster: clusterRuns,
    },
    null,
    2,
  )}\n`,
);
process.exit(0);

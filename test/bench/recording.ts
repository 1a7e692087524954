// Recording benchmark: what recording a session costs a node, by the number of language channels. Real
// mediasoup, the server's own Room, booths and SessionRecording, the real gst-launch recorders. Talkers are
// RTP injectors sending Opus-shaped packets (a valid 20 ms TOC, 80 bytes: about 32 kbit/s) into the floor and
// one live interpreter per booth, so no encoder competes for the CPU. Side by side: 1, 7 and 13 audio
// channels (the floor, then 6 and 12 languages); the floor video has no camera here. Per scenario: the Node
// process's CPU (splicers, taps, Ogg pages, and the talkers, which run in this process too), the recorders'
// CPU and memory (from /proc), and what was written per channel-minute.
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoomMedia } from '../../media/index.js';
import { CloseReason } from '../../protocol/errors.js';
import type { Participant } from '../../server/rooms/participant.js';
import { Room } from '../../server/rooms/room.js';
import { RecordingStore } from '../../server/recording/recording-store.js';
import { SessionRecording } from '../../server/recording/session-recording.js';
import { openStore } from '../../store/open-store.js';
import { grants } from '../helpers/grants.js';
import { startPool, testLimits, testLog } from '../helpers/media.js';
import { OPUS_PT, rtpPacket } from '../helpers/rtp.js';

const DURATION_MS = Number(process.env.BENCH_RECORDING_MS ?? 20_000);
const LANGUAGES = ['fr', 'es', 'ar', 'ru', 'zh', 'en', 'pt', 'de', 'it', 'ja', 'ko', 'sw'];
const CLOCK_TICKS = 100; // USER_HZ on Linux

const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** CPU seconds and resident memory of a process, from /proc (undefined once it has gone). */
function procStats(pid: number): { cpuS: number; rssMiB: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuS, rssMiB: rss ? Number(rss[1]) / 1024 : 0 };
  } catch {
    return undefined;
  }
}

async function scenario(languages: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'plenum-bench-recording-'));
  const store = await openStore({ dataDir: dir });
  const recordings = new RecordingStore(store.db);
  const pool = await startPool();
  const media = await RoomMedia.create(pool.leastLoaded()!, { ...testLimits, maxProducers: 100 }, testLog);
  const room = new Room('bench', media, { idleCloseMs: 600_000, languages, handoverTakeAfterMs: 1000, floor: { controlled: true, speakingTimeLimitMs: 3_600_000, speakingTimeWarningMs: 0 } }, testLog);
  const member = (id: string, booths: string[]): Participant =>
    room.join(id, grants({ room: 'bench', person: id, name: id, publish: { floor: booths.length === 0, booths, captions: false } }), media.rtpCapabilities, () => undefined);

  // Talkers: one RTP stream each, 50 packets/s, through comedia PlainTransports adopted as their microphones.
  const udp = createSocket('udp4');
  const talkers: Array<{ port: number; ssrc: number; seq: number }> = [];
  const talk = async (p: Participant, channel: string, ssrc: number) => {
    const transport = await media.router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
    const producer = await transport.produce({
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PT, clockRate: 48000, channels: 2 }], encodings: [{ ssrc }] },
      appData: { channel, source: 'mic' },
    });
    p.endpoint.adoptProducer(producer, media.router);
    if (channel !== 'floor') await room.interpretation.onProducer(p, producer);
    talkers.push({ port: transport.tuple.localPort, ssrc, seq: 0 });
  };
  const speaker = member('speaker', []);
  await talk(speaker, 'floor', 1000);
  for (const [i, language] of languages.entries()) {
    const interpreter = member(`i-${language}`, [language]);
    await talk(interpreter, language, 2000 + i);
    await room.interpretation.act(language, (booth) => booth.goLive(interpreter.id));
  }
  room.floor.request({ id: 'speaker', name: 'speaker', entity: 'Kenya', kind: 'speaker' });
  room.floor.give('speaker');
  const payload = Buffer.concat([Buffer.from([0xf8]), Buffer.alloc(79, 0x5a)]);
  const started = performance.now();
  const timer = setInterval(() => {
    // Catch up on the clock, not on the timer: 50 packets per second per talker whatever the timer's jitter.
    const due = Math.floor((performance.now() - started) / 20);
    for (const t of talkers) {
      while (t.seq < due) {
        t.seq += 1;
        udp.send(rtpPacket(OPUS_PT, t.seq, t.seq * 960, t.ssrc, payload), t.port, '127.0.0.1');
      }
    }
  }, 10);

  const record = await recordings.start({ eventId: 'bench', sessionId: 'bench', startedBy: 'bench', retentionDays: null });
  const recording = await SessionRecording.open(
    record,
    room,
    recordings,
    { storageDir: dir, gstLaunch: process.env.PLENUM_GST_LAUNCH ?? 'gst-launch-1.0', delayMs: 300, restartDelayMs: 500, maxFillMs: 600_000, followEveryMs: 200, persistEveryMs: 5000 },
    testLog,
    'bench',
    null,
  );
  // Measured once every recorder runs and follows its source.
  await new Promise((r) => setTimeout(r, 2000));
  const pids = Object.entries(recording.recorderPids()).filter((e): e is [string, number] => e[1] !== undefined);
  const before = new Map(pids.map(([, pid]) => [pid, procStats(pid)]));
  const nodeBefore = process.cpuUsage();
  const wallBefore = performance.now();
  await new Promise((r) => setTimeout(r, DURATION_MS));
  const wallS = (performance.now() - wallBefore) / 1000;
  const nodeCpu = process.cpuUsage(nodeBefore);
  const after = new Map(pids.map(([, pid]) => [pid, procStats(pid)]));
  clearInterval(timer);
  await recording.finish();

  const recorderCpuS = pids.reduce((sum, [, pid]) => sum + ((after.get(pid)?.cpuS ?? 0) - (before.get(pid)?.cpuS ?? 0)), 0);
  const rss = pids.map(([, pid]) => after.get(pid)?.rssMiB ?? 0);
  const files = (await recordings.files(record.recordingId)).filter((f) => f.kind === 'audio');
  const minutes = files.reduce((sum, f) => sum + ((f.endMs ?? f.startMs) - f.startMs) / 60_000, 0);
  const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
  const result = {
    audioChannels: files.length,
    recorderProcesses: pids.length,
    measuredSeconds: round(wallS),
    // Percent of one core.
    nodeCpuPct: round(((nodeCpu.user + nodeCpu.system) / 1e6 / wallS) * 100),
    recordersCpuPct: round((recorderCpuS / wallS) * 100),
    recorderCpuPctPerChannel: round((recorderCpuS / wallS / pids.length) * 100, 2),
    recorderRssMiBEach: round(rss.reduce((a, b) => a + b, 0) / Math.max(1, rss.length)),
    recordersRssMiBTotal: round(rss.reduce((a, b) => a + b, 0)),
    kBPerChannelMinute: round(bytes / 1024 / Math.max(minutes, 1e-9)),
  };
  udp.close();
  room.close(CloseReason.SERVER_SHUTDOWN);
  pool.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return result;
}

const scenarios: Record<string, unknown> = {};
for (const count of [0, 6, 12]) {
  process.stderr.write(`[bench] recording: floor + ${count} languages\n`);
  scenarios[`floor+${count}`] = await scenario(LANGUAGES.slice(0, count));
}
console.log(JSON.stringify({ bench: 'recording', durationMs: DURATION_MS, talkerKbps: 32, scenarios }, null, 2));

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoomMedia, type WorkerPool } from '../../media/index.js';
import { CloseReason } from '../../protocol/errors.js';
import type { Participant } from '../../server/rooms/participant.js';
import { Room } from '../../server/rooms/room.js';
import type { RecordingFileRecord, RecordingMark } from '../../server/recording/recording-model.js';
import { recordingFolder } from '../../server/recording/recording-paths.js';
import { RecordingStore } from '../../server/recording/recording-store.js';
import { SessionRecording } from '../../server/recording/session-recording.js';
import { openStore, type Store } from '../../store/open-store.js';
import { grants } from '../helpers/grants.js';
import { startPool, testLimits, testLog } from '../helpers/media.js';
import { CameraSource, decodeAudio, decodeVideo, discoveredDurationMs, dominantTone, testRecordingSettings, ToneSource } from '../helpers/recorded-audio.js';
import { waitFor } from '../helpers/wait.js';

// Issue 14's recording test, on real parts: mediasoup workers, GStreamer opusenc tones as the delegates'
// and interpreters' microphones (each person a distinct frequency), the server's own Room, floor control and
// booths deciding who is heard, the recorder's gst-launch processes writing Ogg, PGlite as the system of
// record. The files are decoded by GStreamer and checked tone by tone against the timeline below.

const FLOOR_A = 300;
const FLOOR_B = 500;
const FR_1 = 700;
const FR_2 = 900;
const ES_1 = 1100;
const TONES = [FLOOR_A, FLOOR_B, FR_1, FR_2, ES_1];

let pool: WorkerPool;
let room: Room;
let store: Store;
let recordings: RecordingStore;
let dir: string;
const tones: Array<ToneSource | CameraSource> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'plenum-recording-session-'));
  store = await openStore({ dataDir: dir });
  recordings = new RecordingStore(store.db);
  pool = await startPool();
  const media = await RoomMedia.create(pool.leastLoaded()!, testLimits, testLog);
  room = new Room('plenary', media, { idleCloseMs: 60_000, languages: ['fr', 'es'], handoverTakeAfterMs: 300, floor: { controlled: true, speakingTimeLimitMs: 180_000, speakingTimeWarningMs: 30_000 } }, testLog);
});
afterAll(async () => {
  for (const t of tones.splice(0)) t.close();
  room.close(CloseReason.SERVER_SHUTDOWN);
  pool.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function person(id: string, entity: string, booths: string[] = []): Participant {
  return room.join(id, grants({ room: 'plenary', person: id, name: `Name ${id}`, entity: { name: entity, type: 'member_state' }, publish: { floor: booths.length === 0, booths, captions: false } }), room.media.rtpCapabilities, () => undefined);
}

/** A person's camera: a solid colour, adopted by their endpoint. */
async function camera(p: Participant, pattern: string, ssrc: number): Promise<void> {
  const cam = await CameraSource.create(room.media.router, pattern, ssrc);
  tones.push(cam);
  p.endpoint.adoptProducer(cam.producer, room.media.router);
}

/** A person's microphone in a channel: a tone, adopted by their endpoint as a client's producer would be. */
async function microphone(p: Participant, channel: string, frequency: number, ssrc: number): Promise<void> {
  const tone = await ToneSource.create(room.media.router, frequency, ssrc, { channel, source: 'mic' });
  tones.push(tone);
  p.endpoint.adoptProducer(tone.producer, room.media.router);
  if (channel !== 'floor') await room.interpretation.onProducer(p, tone.producer);
}

describe('recording a session', () => {
  it('records the floor and each language channel as heard, on one clock, with the floor turns and a recorder gap in the index', async () => {
    const a = person('a', 'Kenya');
    const b = person('b', 'Chile');
    const fr1 = person('fr1', 'Interpreters', ['fr']);
    const fr2 = person('fr2', 'Interpreters', ['fr']);
    const es1 = person('es1', 'Interpreters', ['es']);
    await microphone(a, 'floor', FLOOR_A, 101);
    await microphone(b, 'floor', FLOOR_B, 102);
    await microphone(fr1, 'fr', FR_1, 201);
    await microphone(fr2, 'fr', FR_2, 202);
    await microphone(es1, 'es', ES_1, 301);
    await camera(a, 'red', 501);
    await camera(b, 'blue', 502);

    const record = await recordings.start({ eventId: 'ev-1', sessionId: 'plenary', startedBy: 'secretariat', retentionDays: null });
    const recording = await SessionRecording.open(record, room, recordings, testRecordingSettings(dir), testLog, 'node-1', null);
    const at = (): number => recording.nowMs();
    const until = (ms: number): Promise<unknown> => waitFor(() => at() >= ms, { intervalMs: 10, timeoutMs: 30_000, what: `${ms} ms` });

    await until(500);
    room.floor.request({ id: 'a', name: 'Name a', entity: 'Kenya', kind: 'speaker' });
    room.floor.give('a');
    const gaveA = at();
    await room.interpretation.act('fr', (booth) => booth.goLive('fr1'));
    const frLive = at();
    await until(4000);
    room.floor.request({ id: 'b', name: 'Name b', entity: 'Chile', kind: 'point_of_order' });
    room.floor.give('b');
    const gaveB = at();
    await until(5000);
    // The handover: the live interpreter offers the microphone, the partner accepts.
    await room.interpretation.act('fr', (booth) => booth.handoverAction('fr1', 'offer'));
    await room.interpretation.act('fr', (booth) => booth.handoverAction('fr2', 'accept'));
    const handover = at();
    await until(6000);
    await room.interpretation.act('es', (booth) => booth.goLive('es1'));
    const esLive = at();
    await until(7000);
    const frPid = recording.recorderPids().fr!;
    process.kill(frPid, 'SIGKILL');
    const killed = at();
    await waitFor(async () => (await recordings.marks(record.recordingId)).some((m) => m.data.kind === 'gap'), { what: 'the gap mark' });
    await until(8000);
    // The video recorder killed too: its part ends, and the camera's next keyframe starts another.
    const videoPid = recording.recorderPids()['floor-video']!;
    process.kill(videoPid, 'SIGKILL');
    const videoKilled = at();
    await waitFor(async () => (await recordings.marks(record.recordingId)).some((m) => m.data.kind === 'gap' && m.data.channel === 'floor-video'), { what: 'the video gap mark' });
    await until(10_000);
    // The files end when finish() writes their last packets: between these two instants (a loaded machine
    // takes a while to close three recorders, so the time after it is not when the files ended).
    const end = at();
    await recording.finish();
    const finished = at();
    const stopped = await recordings.stop(record.recordingId, 'secretariat');
    expect(stopped?.status).toBe('stopped');

    const files = await recordings.files(record.recordingId);
    const audio = files.filter((f) => f.kind === 'audio');
    expect(audio.map((f) => f.channel).sort()).toEqual(['es', 'floor', 'fr']);
    // One clock: every audio file of the session starts at the same instant of it.
    expect(new Set(audio.map((f) => f.startMs)).size).toBe(1);
    const folder = recordingFolder(dir, record.recordingId);
    const decoded = new Map<string, { samples: Int16Array; file: RecordingFileRecord }>();
    for (const file of audio) {
      const path = join(folder, file.fileName);
      const samples = await decodeAudio(path);
      const durationMs = samples.length / 48;
      // Each channel lasts as long as the session was recorded, within 2 %, decoded and by its own metadata.
      expectRecordedFor(durationMs, end - file.startMs, finished - file.startMs, `${file.channel} decoded`);
      expectRecordedFor(await discoveredDurationMs(path), end - file.startMs, finished - file.startMs, `${file.channel} discovered`);
      expect(Math.abs((file.endMs ?? 0) - file.startMs - durationMs)).toBeLessThan(200);
      decoded.set(file.channel, { samples, file });
    }
    /** The tone heard on a channel between two instants of the session clock (a margin off each end). */
    const heard = (channel: string, fromMs: number, toMs: number): number | 'silence' => {
      const { samples, file } = decoded.get(channel)!;
      return dominantTone(samples, fromMs - file.startMs + 300, toMs - file.startMs - 300, TONES);
    };
    const marks = await recordings.marks(record.recordingId);
    const gap = marks.find((m) => m.data.kind === 'gap' && m.data.channel === 'fr')!;

    expect(heard('floor', 0, gaveA)).toBe('silence');
    expect(heard('floor', gaveA, gaveB)).toBe(FLOOR_A);
    expect(heard('floor', gaveB, end)).toBe(FLOOR_B);

    expect(heard('fr', frLive, handover)).toBe(FR_1);
    expect(heard('fr', handover, gap.atMs)).toBe(FR_2);
    expect(heard('fr', gap.endMs!, end)).toBe(FR_2);

    // Spanish has nobody live until es1 goes live: its listeners hear the floor.
    expect(heard('es', gaveA, gaveB)).toBe(FLOOR_A);
    expect(heard('es', gaveB, esLive)).toBe(FLOOR_B);
    expect(heard('es', esLive, end)).toBe(ES_1);

    // The recorder killed mid-session: a gap in the index for that channel, inside the time it was down, and
    // the same file going on after it.
    expect(gap.data).toEqual({ kind: 'gap', channel: 'fr', reason: 'recorder-exited' });
    expect(gap.atMs).toBeGreaterThan(killed - 1000);
    expect(gap.endMs!).toBeLessThanOrEqual(killed + 50);
    expect(recording.recorderPids().fr).not.toBe(frPid);

    // The floor's video: a part per floor holder's camera, each starting on a keyframe soon after the floor
    // changed hands, showing that person's camera; the killed recorder's part ends and another follows.
    const video = files.filter((f) => f.kind === 'video').sort((x, y) => x.part - y.part);
    expect(video.map((f) => [f.channel, f.part, f.mediaType])).toEqual([
      ['floor-video', 1, 'video/webm'],
      ['floor-video', 2, 'video/webm'],
      ['floor-video', 3, 'video/webm'],
    ]);
    expect(Math.abs(video[0]!.startMs - gaveA)).toBeLessThan(1500);
    expect(Math.abs(video[1]!.startMs - gaveB)).toBeLessThan(1500);
    expect(Math.abs(video[0]!.endMs! - gaveB)).toBeLessThan(1500);
    expect(Math.abs(video[1]!.endMs! - videoKilled)).toBeLessThan(500);
    expect(video[2]!.startMs).toBeGreaterThanOrEqual(video[1]!.endMs!);
    const videoGap = marks.find((m) => m.data.kind === 'gap' && m.data.channel === 'floor-video')!;
    expect([videoGap.atMs, videoGap.endMs]).toEqual([video[1]!.endMs, video[2]!.startMs]);
    const colours = await Promise.all(video.map((v) => decodeVideo(join(folder, v.fileName))));
    for (const c of colours) expect(c.frames).toBeGreaterThan(5);
    expect(colours[0]!.mean.r).toBeGreaterThan(200);
    expect(colours[0]!.mean.b).toBeLessThan(60);
    for (const blue of colours.slice(1)) {
      expect(blue.mean.b).toBeGreaterThan(200);
      expect(blue.mean.r).toBeLessThan(60);
    }
    const videoMs = await discoveredDurationMs(join(folder, video[2]!.fileName));
    expect(Math.abs(videoMs - (video[2]!.endMs! - video[2]!.startMs))).toBeLessThan(1000);

    // The floor turns, with who and for whom, within a second of when the floor was given.
    const turns = marks.filter((m): m is RecordingMark & { data: { kind: 'floor' } } => m.data.kind === 'floor');
    expect(turns.map((t) => [t.data.personId, t.data.entity])).toEqual([
      ['a', 'Kenya'],
      ['b', 'Chile'],
    ]);
    expect(Math.abs(turns[0]!.atMs - gaveA)).toBeLessThan(1000);
    expect(Math.abs(turns[1]!.atMs - gaveB)).toBeLessThan(1000);
    expect(Math.abs(turns[0]!.endMs! - gaveB)).toBeLessThan(1000);
    expect(marks.some((m) => m.data.kind === 'point-of-order' && m.data.personId === 'b')).toBe(true);
  });
});

/** A file's duration: what was recorded until finish() began, at least, and until it returned, at most (2 % either way). */
function expectRecordedFor(durationMs: number, fromMs: number, toMs: number, what: string): void {
  expect(durationMs, what).toBeGreaterThan(fromMs * 0.98);
  expect(durationMs, what).toBeLessThan(toMs * 1.02);
}

describe('recording a session whose room closes and opens again', () => {
  it('continues each channel in the same file with the time between as a gap, and starts a new part past the longest silence it fills', async () => {
    const record = await recordings.start({ eventId: 'ev-1', sessionId: 'plenary', startedBy: 'secretariat', retentionDays: null });
    const open = (maxFillMs: number, resumed: 'room-closed' | null) => SessionRecording.open(record, room, recordings, { ...testRecordingSettings(dir), maxFillMs }, testLog, 'node-1', resumed);
    const until = (ms: number): Promise<unknown> => waitFor(() => Date.now() - record.startedAt.getTime() >= ms, { intervalMs: 10, what: `${ms} ms` });

    const first = await open(600_000, null);
    await until(1500);
    await first.finish();
    const closedAt = Date.now() - record.startedAt.getTime();
    await until(closedAt + 1000);
    // The room opens again within the fill: the same files go on.
    const second = await open(600_000, 'room-closed');
    await until(4000);
    const continuedTo = Date.now() - record.startedAt.getTime();
    await second.finish();
    const secondFinished = Date.now() - record.startedAt.getTime();
    // Past the fill (0 here): a new part per channel.
    await until(continuedTo + 500);
    const third = await open(0, 'room-closed');
    await until(continuedTo + 2000);
    await third.finish();
    await recordings.stop(record.recordingId, 'secretariat');

    const audio = (await recordings.files(record.recordingId)).filter((f) => f.kind === 'audio');
    expect(audio.map((f) => `${f.channel}/${f.part}`).sort()).toEqual(['es/1', 'es/2', 'floor/1', 'floor/2', 'fr/1', 'fr/2']);
    const folder = recordingFolder(dir, record.recordingId);
    for (const file of audio.filter((f) => f.part === 1)) {
      // Both rooms' time and the closed time between them, in one file.
      const decodedMs = (await decodeAudio(join(folder, file.fileName))).length / 48;
      expectRecordedFor(decodedMs, continuedTo, secondFinished, file.channel);
    }
    for (const file of audio.filter((f) => f.part === 2)) expect(file.startMs).toBeGreaterThanOrEqual(continuedTo + 400);
    const gaps = (await recordings.marks(record.recordingId)).filter((m) => m.data.kind === 'gap');
    for (const channel of ['floor', 'fr', 'es']) {
      const own = gaps.filter((g) => g.data.kind === 'gap' && g.data.channel === channel);
      expect(own.map((g) => (g.data.kind === 'gap' ? g.data.reason : ''))).toEqual(['room-closed', 'room-closed']);
      // The first is the silence filled in the file; the second, the time before the new part.
      expect(own[0]!.atMs).toBeLessThanOrEqual(closedAt + 50);
      // …up to where the new room's output starts: the closed second, less the recorder's delay behind real time.
      expect(own[0]!.endMs!).toBeGreaterThanOrEqual(closedAt + 1000 - testRecordingSettings(dir).delayMs - 100);
      const part2 = audio.find((f) => f.channel === channel && f.part === 2)!;
      expect(own[1]!.endMs).toBe(part2.startMs);
    }
  });
});

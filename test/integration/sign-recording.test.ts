import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoomMedia, type WorkerPool } from '../../media/index.js';
import { CloseReason } from '../../protocol/errors.js';
import type { Participant } from '../../server/rooms/participant.js';
import { Room } from '../../server/rooms/room.js';
import { recordingFolder } from '../../server/recording/recording-paths.js';
import { RecordingStore } from '../../server/recording/recording-store.js';
import { SessionRecording } from '../../server/recording/session-recording.js';
import { openStore, type Store } from '../../store/open-store.js';
import { grants } from '../helpers/grants.js';
import { startPool, testLimits, testLog } from '../helpers/media.js';
import { CameraSource, decodeVideo, testRecordingSettings } from '../helpers/recorded-audio.js';
import { waitFor } from '../helpers/wait.js';

// Recording an International Sign channel on real parts: mediasoup, GStreamer VP8 cameras (each signer a
// solid colour), the server's own Room and booth deciding who is live, the recorder's gst-launch writing
// WebM. The channel is recorded as a video channel following its live signer: a part per signer, each
// decodable and showing that signer's colour; the floor's video and audio channels are unchanged.

let pool: WorkerPool;
let room: Room;
let store: Store;
let recordings: RecordingStore;
let dir: string;
const sources: CameraSource[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'plenum-sign-recording-'));
  store = await openStore({ dataDir: dir });
  recordings = new RecordingStore(store.db);
  pool = await startPool();
  const media = await RoomMedia.create(pool.leastLoaded()!, testLimits, testLog);
  room = new Room(
    'sign-plenary',
    media,
    { idleCloseMs: 60_000, languages: [], signLanguages: ['ils'], handoverTakeAfterMs: 300, floor: { controlled: false, speakingTimeLimitMs: 180_000, speakingTimeWarningMs: 30_000 } },
    testLog,
  );
});
afterAll(async () => {
  for (const s of sources.splice(0)) s.close();
  room.close(CloseReason.SERVER_SHUTDOWN);
  pool.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function signer(id: string): Participant {
  return room.join(id, grants({ room: 'sign-plenary', person: id, name: `Signer ${id}`, entity: { name: 'Interpreters', type: 'secretariat' }, publish: { floor: false, booths: ['ils'], captions: false } }), room.media.rtpCapabilities, () => undefined);
}

/** A signer's camera into the sign channel: a solid colour, adopted by their endpoint as a client's producer would be. */
async function signCamera(p: Participant, pattern: string, ssrc: number): Promise<void> {
  const cam = await CameraSource.create(room.media.router, pattern, ssrc);
  sources.push(cam);
  cam.producer.appData.channel = 'ils';
  p.endpoint.adoptProducer(cam.producer, room.media.router);
  await room.interpretation.onProducer(p, cam.producer);
}

describe('recording a sign-language channel', () => {
  it('records the live signer\'s video, a decodable part per signer through a handover', async () => {
    const a = signer('sa');
    const b = signer('sb');
    await signCamera(a, 'red', 601);
    await signCamera(b, 'blue', 602);
    const record = await recordings.start({ eventId: 'ev-1', sessionId: 'sign-plenary', startedBy: 'secretariat', retentionDays: null });
    const recording = await SessionRecording.open(record, room, recordings, testRecordingSettings(dir), testLog, 'node-1', null);
    expect(Object.keys(recording.recorderPids())).toContain('ils');
    const at = (): number => recording.nowMs();
    const until = (ms: number): Promise<unknown> => waitFor(() => at() >= ms, { intervalMs: 10, timeoutMs: 30_000, what: `${ms} ms` });

    await until(500);
    await room.interpretation.act('ils', (booth) => booth.goLive('sa'));
    const aLive = at();
    await until(3500);
    await room.interpretation.act('ils', (booth) => booth.handoverAction('sa', 'offer'));
    await room.interpretation.act('ils', (booth) => booth.handoverAction('sb', 'accept'));
    const handover = at();
    await until(6500);
    await recording.finish();
    await recordings.stop(record.recordingId, 'secretariat');

    const files = await recordings.files(record.recordingId);
    // The sign channel has no audio file: it is a video channel.
    expect(files.filter((f) => f.kind === 'audio').map((f) => f.channel)).toEqual(['floor']);
    const parts = files.filter((f) => f.channel === 'ils').sort((x, y) => x.part - y.part);
    expect(parts.map((f) => [f.kind, f.part, f.mediaType])).toEqual([
      ['video', 1, 'video/webm'],
      ['video', 2, 'video/webm'],
    ]);
    // Each part starts on a keyframe soon after its signer went live; the first ends at the handover.
    expect(Math.abs(parts[0]!.startMs - aLive)).toBeLessThan(1500);
    expect(Math.abs(parts[0]!.endMs! - handover)).toBeLessThan(1500);
    expect(Math.abs(parts[1]!.startMs - handover)).toBeLessThan(1500);
    const folder = recordingFolder(dir, record.recordingId);
    const [first, second] = await Promise.all(parts.map((p) => decodeVideo(join(folder, p.fileName))));
    expect(first!.frames).toBeGreaterThan(5);
    expect(second!.frames).toBeGreaterThan(5);
    expect(first!.mean.r).toBeGreaterThan(200);
    expect(first!.mean.b).toBeLessThan(60);
    expect(second!.mean.b).toBeGreaterThan(200);
    expect(second!.mean.r).toBeLessThan(60);
    // Nobody held the floor: the floor's video has no part (a signer's camera is not a floor camera).
    expect(files.filter((f) => f.channel === 'floor-video')).toEqual([]);
  });
});

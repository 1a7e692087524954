import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingId } from '../../server/recording/recording-model.js';
import { RecordingActiveError, RecordingStore } from '../../server/recording/recording-store.js';
import { openStore, type Store } from '../../store/open-store.js';
import { PostgresProcess } from '../helpers/postgres-process.js';

// Recordings in the system of record, on both engines: one recording under way per session (the database
// decides, even for two starts at once), stop once with its expiry, marks in time order, files upserted.

let postgres: PostgresProcess;
beforeAll(async () => {
  postgres = await PostgresProcess.start();
});
afterAll(async () => {
  await postgres?.stop();
});

const DAY_MS = 86_400_000;

describe.each(['embedded', 'postgres'] as const)('the recording store on %s', (engine) => {
  let store: Store;
  let recordings: RecordingStore;
  beforeAll(async () => {
    store = await openStore(engine === 'postgres' ? { databaseUrl: postgres.url, dataDir: '' } : { dataDir: mkdtempSync(join(tmpdir(), 'plenum-recordings-')) });
    recordings = new RecordingStore(store.db);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('keeps one recording under way per session, even for two starts at once, and a new one after the stop', async () => {
    const input = { eventId: 'ev-rec', sessionId: `s-one-${engine}`, startedBy: 'p-sec', retentionDays: 30 };
    const both = await Promise.allSettled([recordings.start(input), recordings.start(input)]);
    const started = both.filter((r) => r.status === 'fulfilled');
    const refused = both.filter((r) => r.status === 'rejected');
    expect(started).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toBeInstanceOf(RecordingActiveError);
    const first = (started[0] as PromiseFulfilledResult<Awaited<ReturnType<RecordingStore['start']>>>).value;
    expect(recordingId.safeParse(first.recordingId).success).toBe(true);
    expect(first).toMatchObject({ status: 'recording', startedBy: 'p-sec', retentionDays: 30, stoppedAt: null, expiresAt: null });
    expect(first.startedAt).toBeInstanceOf(Date);
    expect((await recordings.active(input.sessionId))?.recordingId).toBe(first.recordingId);
    // Another session records at the same time.
    const other = await recordings.start({ ...input, sessionId: `s-other-${engine}` });
    expect(other.recordingId).not.toBe(first.recordingId);

    const at = new Date(first.startedAt.getTime() + 60_000);
    const stopped = await recordings.stop(first.recordingId, 'p-sec', at);
    expect(stopped).toMatchObject({ status: 'stopped', stoppedAt: at, stoppedBy: 'p-sec', expiresAt: new Date(at.getTime() + 30 * DAY_MS) });
    // Stopped once: a second stop finds nothing under way.
    expect(await recordings.stop(first.recordingId, 'p-sec')).toBeUndefined();
    expect(await recordings.active(input.sessionId)).toBeUndefined();
    const second = await recordings.start(input);
    expect((await recordings.listForSession(input.sessionId)).map((r) => r.recordingId).sort()).toEqual([first.recordingId, second.recordingId].sort());
    expect(await recordings.get(first.recordingId)).toMatchObject({ status: 'stopped' });
  });

  it('keeps a recording without retention forever, and finds and expires those past their retention', async () => {
    const kept = await recordings.start({ eventId: 'ev-rec', sessionId: `s-kept-${engine}`, startedBy: 'p-sec', retentionDays: null });
    expect(await recordings.stop(kept.recordingId, 'session-closed')).toMatchObject({ status: 'stopped', expiresAt: null });
    const short = await recordings.start({ eventId: 'ev-rec', sessionId: `s-short-${engine}`, startedBy: 'p-sec', retentionDays: 1 });
    const stoppedAt = new Date(Date.now() - 2 * DAY_MS);
    await recordings.stop(short.recordingId, 'p-sec', stoppedAt);
    const due = (await recordings.expired(new Date())).map((r) => r.recordingId);
    expect(due).toContain(short.recordingId);
    expect(due).not.toContain(kept.recordingId);
    // Not yet due a moment before its expiry.
    expect((await recordings.expired(new Date(stoppedAt.getTime() + DAY_MS - 1))).map((r) => r.recordingId)).not.toContain(short.recordingId);
    await recordings.markExpired(short.recordingId);
    expect(await recordings.get(short.recordingId)).toMatchObject({ status: 'expired' });
    expect((await recordings.expired(new Date())).map((r) => r.recordingId)).not.toContain(short.recordingId);
  });

  it('orders marks by their time then by when they were written, and ends the spans left open', async () => {
    const rec = await recordings.start({ eventId: 'ev-rec', sessionId: `s-marks-${engine}`, startedBy: 'p-sec', retentionDays: null });
    const id = rec.recordingId;
    const turn2 = await recordings.addMark({ recordingId: id, atMs: 5000, endMs: null, data: { kind: 'floor', personId: 'p2', name: 'Jean Dupont', entity: 'France' } });
    const turn1 = await recordings.addMark({ recordingId: id, atMs: 1000, endMs: null, data: { kind: 'floor', personId: 'p1', name: 'Jane Doe', entity: 'Kenya' } });
    await recordings.addMark({ recordingId: id, atMs: 5000, endMs: null, data: { kind: 'point-of-order', personId: 'p3', name: 'Ana Silva', entity: 'Brazil' } });
    const gap = await recordings.addMark({ recordingId: id, atMs: 3000, endMs: null, data: { kind: 'gap', channel: 'fr', reason: 'recorder-exited' } });
    await recordings.addMark({ recordingId: id, atMs: 0, endMs: null, data: { kind: 'recording', action: 'started', node: 'node-a' } });
    await recordings.endMark(turn1, 5000);
    await recordings.endMark(gap, 4200);
    // An ended span keeps its end.
    await recordings.endMark(turn1, 9999);
    expect(await recordings.endOpenMarks(id, 'floor', 8000)).toBe(1);

    const marks = await recordings.marks(id);
    expect(marks.map((m) => [m.atMs, m.data.kind, m.endMs])).toEqual([
      [0, 'recording', null],
      [1000, 'floor', 5000],
      [3000, 'gap', 4200],
      [5000, 'floor', 8000],
      [5000, 'point-of-order', null],
    ]);
    expect(marks[3]!.id).toBe(turn2);
    expect(marks[1]!.data).toEqual({ kind: 'floor', personId: 'p1', name: 'Jane Doe', entity: 'Kenya' });
    // Nothing of another recording.
    const other = await recordings.start({ eventId: 'ev-rec', sessionId: `s-marks-other-${engine}`, startedBy: 'p-sec', retentionDays: null });
    expect(await recordings.marks(other.recordingId)).toEqual([]);
  });

  it('inserts a file, then updates its start, end and size in place', async () => {
    const rec = await recordings.start({ eventId: 'ev-rec', sessionId: `s-files-${engine}`, startedBy: 'p-sec', retentionDays: null });
    const id = rec.recordingId;
    const floor = { recordingId: id, channel: 'floor', part: 1, kind: 'audio' as const, fileName: 'floor-1.ogg', mediaType: 'audio/ogg' as const, startMs: 120, endMs: null, bytes: 0 };
    await recordings.upsertFile(floor);
    await recordings.upsertFile({ ...floor, channel: 'fr', fileName: 'fr-1.ogg' });
    await recordings.upsertFile({ ...floor, channel: 'floor-video', kind: 'video', part: 2, fileName: 'floor-video-2.webm', mediaType: 'video/webm', startMs: 9000 });
    await recordings.upsertFile({ ...floor, channel: 'floor-video', kind: 'video', fileName: 'floor-video-1.webm', mediaType: 'video/webm' });
    expect(await recordings.file(id, 'floor', 1)).toEqual(floor);
    // Sizes past 2^31 fit (bigint).
    const big = 5 * 1024 ** 3;
    await recordings.upsertFile({ ...floor, startMs: 100, endMs: 3_600_000, bytes: big, fileName: 'ignored.ogg' });
    expect(await recordings.file(id, 'floor', 1)).toEqual({ ...floor, startMs: 100, endMs: 3_600_000, bytes: big });
    expect((await recordings.files(id)).map((f) => `${f.channel}/${f.part}`)).toEqual(['floor/1', 'floor-video/1', 'floor-video/2', 'fr/1']);
    expect(await recordings.file(id, 'floor', 2)).toBeUndefined();
    await expect(recordings.upsertFile({ ...floor, recordingId: 'r_00000000000000000000000000000000' })).rejects.toThrow();
  });
});

// The secretariat's recording API (issue 14): a real server with the embedded engine, real HTTP and real
// signed identity tokens from the demo event's embedded sign-in. The media side is not exercised here: the
// files and their rows are written directly (as the recorders would) into the server's storage directory and
// store, and downloaded back through the API.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { recordingId as recordingIdFormat } from '../../server/recording/recording-model.js';
import { recordingFolder } from '../../server/recording/recording-paths.js';
import { RecordingStore } from '../../server/recording/recording-store.js';
import { post, signInAs } from '../helpers/accreditation-client.js';
import { httpRequest, type HttpAnswer } from '../helpers/http-client.js';
import { startTestServer } from '../helpers/test-server.js';

const ADMIN_KEY = 'recording-admin-api-key-0123456789abcdef';
const SESSION = 'demo-plenary';
const OTHER_SESSION = 'demo-council';
const RETAINED_SESSION = 'rec-retained';
const EVENT_B = 'event-b-recording';
const B_SESSION = 'b-rec-room';

let server: MeetingServer;
let base: string;
let storageDir: string;
let store: RecordingStore;
const tokens: Record<string, string> = {};
const apiKey = { 'x-api-key': ADMIN_KEY };

interface RecordingView {
  recordingId: string;
  sessionId: string;
  status: string;
  startedBy: string;
  startedAt: string;
  stoppedAt: string | null;
  retentionDays: number | null;
  expiresAt: string | null;
  files: Array<{ channel: string; part: number; url: string; bytes: number }>;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const sessionBase = (sessionId = SESSION, eventId = DEMO_EVENT_ID) => `${base}/api/admin/events/${eventId}/sessions/${sessionId}`;
const codeOf = (res: HttpAnswer) => (res.json?.error as { code?: string } | undefined)?.code;
const start = (headers: Record<string, string>, sessionId = SESSION) => httpRequest('POST', `${sessionBase(sessionId)}/recording/start`, undefined, headers);
const stop = (headers: Record<string, string>, sessionId = SESSION) => httpRequest('POST', `${sessionBase(sessionId)}/recording/stop`, undefined, headers);
const recordingOf = (res: HttpAnswer) => res.json!.recording as RecordingView;

async function downloads(sessionId: string): Promise<Array<Record<string, unknown>>> {
  const page = await server.accreditation.service.audit.query({ sessionId, decision: 'recording-download' });
  return page.records as unknown as Array<Record<string, unknown>>;
}

/** A file as a recorder would leave it: bytes in the recording's folder, and its row. */
async function writeRecordingFile(id: string, channel: string, part: number, bytes: Buffer, fileName = `${channel}-${part}.ogg`): Promise<void> {
  const folder = recordingFolder(storageDir, id);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, fileName), bytes);
  await store.upsertFile({ recordingId: id, channel, part, kind: 'audio', fileName, mediaType: 'audio/ogg', startMs: 25, endMs: 60_000, bytes: bytes.length });
}

beforeAll(async () => {
  storageDir = mkdtempSync(join(tmpdir(), 'plenum-recording-'));
  server = await startTestServer({
    PLENUM_DEV_MODE: 'false',
    PLENUM_ADMIN_API_KEY: ADMIN_KEY,
    PLENUM_STORAGE_DIR: storageDir,
    PLENUM_REVALIDATE_INTERVAL_SECONDS: '0',
  });
  base = server.url;
  store = new RecordingStore(server.store.db);
  const people = { sofia: 'sofia.rossi@secretariat.example', kwame: 'kwame.mensah@demo.gh', brian: 'brian.kamau@demo.ke', elodie: 'elodie.martin@interpreters.example' };
  for (const [who, email] of Object.entries(people)) tokens[who] = await signInAs(base, email);
  // A session of the demo event that keeps its recordings one day, and event B with its own secretariat.
  expect((await httpRequest('PUT', sessionBase(RETAINED_SESSION), { title: 'Retained', lobby: false, recording: { auto: false, retentionDays: 1 } }, apiKey)).status).toBe(200);
  expect((await httpRequest('PUT', `${base}/api/admin/events/${EVENT_B}/sessions/${B_SESSION}`, { title: 'B room', lobby: false }, apiKey)).status).toBe(200);
  const registration = { name: 'B Secretariat', email: 'sec@event-b-rec.example', entity: { name: 'Secretariat B', type: 'secretariat' }, role: 'secretariat', status: 'approved', accessCode: 'event-b-code-123' };
  expect((await httpRequest('PUT', `${base}/api/admin/events/${EVENT_B}/registrations/b-sec`, registration, apiKey)).status).toBe(200);
  const signedIn = await post(`${base}/api/auth/sign-in`, { email: 'sec@event-b-rec.example', accessCode: 'event-b-code-123', eventId: EVENT_B });
  expect(signedIn.status).toBe(200);
  tokens.secB = signedIn.body.identityToken as string;
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe('recording: start and stop', () => {
  it('starts once (201, then 409 RECORDING_ACTIVE), stops once (200, then 409 RECORDING_NOT_ACTIVE), and lists what was recorded', async () => {
    const started = await start(bearer(tokens.sofia!));
    expect(started.status).toBe(201);
    const recording = recordingOf(started);
    expect(recordingIdFormat.safeParse(recording.recordingId).success).toBe(true);
    expect(recording).toMatchObject({ sessionId: SESSION, status: 'recording', startedBy: 'p-sec-1', stoppedAt: null, retentionDays: null, expiresAt: null, files: [] });
    expect((await store.active(SESSION))?.recordingId).toBe(recording.recordingId);

    // Whoever tries next, the chair or automation, finds it under way.
    for (const headers of [bearer(tokens.kwame!), apiKey]) {
      const again = await start(headers);
      expect(again.status).toBe(409);
      expect(codeOf(again)).toBe('RECORDING_ACTIVE');
    }
    // Another session records at the same time.
    const other = await start(apiKey, OTHER_SESSION);
    expect(other.status).toBe(201);
    expect(recordingOf(other).startedBy).toBe('admin-api-key');

    const stopped = await stop(bearer(tokens.kwame!));
    expect(stopped.status).toBe(200);
    expect(recordingOf(stopped)).toMatchObject({ recordingId: recording.recordingId, status: 'stopped', expiresAt: null });
    expect(Date.parse(recordingOf(stopped).stoppedAt!)).toBeGreaterThanOrEqual(Date.parse(recording.startedAt));
    const again = await stop(bearer(tokens.sofia!));
    expect(again.status).toBe(409);
    expect(codeOf(again)).toBe('RECORDING_NOT_ACTIVE');
    expect(await store.active(SESSION)).toBeUndefined();
    // The other session is still recording.
    expect((await store.active(OTHER_SESSION))?.recordingId).toBe(recordingOf(other).recordingId);
    expect((await stop(apiKey, OTHER_SESSION)).status).toBe(200);

    const list = await httpRequest('GET', `${sessionBase()}/recordings`, undefined, bearer(tokens.sofia!));
    expect(list.status).toBe(200);
    expect((list.json!.recordings as RecordingView[]).map((r) => [r.recordingId, r.status])).toContainEqual([recording.recordingId, 'stopped']);
    expect((list.json!.recordings as RecordingView[]).map((r) => r.recordingId)).not.toContain(recordingOf(other).recordingId);
  });

  it('closes the floor turns left open when the recording stops', async () => {
    const id = recordingOf(await start(apiKey)).recordingId;
    await store.addMark({ recordingId: id, atMs: 0, endMs: null, data: { kind: 'floor', personId: 'p-ke-1', name: 'Amina Odhiambo', entity: 'Kenya', entityType: 'member_state' } });
    expect((await stop(apiKey)).status).toBe(200);
    const [turn] = await store.marks(id);
    expect(turn!.endMs).not.toBeNull();
  });
});

describe('recording: who may use the API', () => {
  const someRecording = 'r_0123456789abcdef0123456789abcdef';
  const routes = (sessionId = SESSION, eventId = DEMO_EVENT_ID): Array<[string, string]> => [
    ['POST', `${sessionBase(sessionId, eventId)}/recording/start`],
    ['POST', `${sessionBase(sessionId, eventId)}/recording/stop`],
    ['GET', `${sessionBase(sessionId, eventId)}/recordings`],
    ['GET', `${sessionBase(sessionId, eventId)}/recordings/${someRecording}`],
    ['GET', `${sessionBase(sessionId, eventId)}/recordings/${someRecording}/chapters.vtt`],
    ['GET', `${sessionBase(sessionId, eventId)}/recordings/${someRecording}/captions/en.vtt`],
    ['GET', `${sessionBase(sessionId, eventId)}/recordings/${someRecording}/files/floor/1`],
  ];

  it('refuses a delegate, an interpreter and another event\'s secretariat (403) and no credentials (401) on every route', async () => {
    for (const [method, url] of routes()) {
      for (const who of ['brian', 'elodie', 'secB']) {
        const res = await httpRequest(method, url, undefined, bearer(tokens[who]!));
        expect(res.status, `${who} ${method} ${url}`).toBe(403);
        expect(codeOf(res)).toBe('FORBIDDEN');
      }
      expect((await httpRequest(method, url)).status, `${method} ${url}`).toBe(401);
      expect((await httpRequest(method, url, undefined, { 'x-api-key': 'not-the-key' })).status).toBe(401);
    }
    // Nothing was started by any of them.
    expect(await store.active(SESSION)).toBeUndefined();
  });

  it('answers 404 for another event\'s session, and 400 for an id without its format', async () => {
    for (const [method, url] of routes(B_SESSION)) {
      const res = await httpRequest(method, url, undefined, apiKey);
      expect(res.status, `${method} ${url}`).toBe(404);
      expect(codeOf(res)).toBe('NOT_FOUND');
    }
    expect(await store.active(B_SESSION)).toBeUndefined();
    for (const [method, url] of routes('Bad Session!'.replace(' ', '%20'))) expect((await httpRequest(method, url, undefined, apiKey)).status).toBe(400);
  });
});

describe('recording: index, chapters, captions and downloads', () => {
  const audio = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256));
  let id: string;
  let startedAt: Date;

  beforeAll(async () => {
    const started = recordingOf(await start(bearer(tokens.sofia!)));
    id = started.recordingId;
    // A minute-long meeting: the recording began a minute ago on its clock.
    startedAt = new Date(Date.parse(started.startedAt) - 60_000);
    await server.store.db.updateTable('recordings').set({ started_at: startedAt }).where('recording_id', '=', id).execute();
    await writeRecordingFile(id, 'floor', 1, audio);
    await writeRecordingFile(id, 'fr', 1, Buffer.from('OggS french channel'));
    await store.addMark({ recordingId: id, atMs: 2000, endMs: 9000, data: { kind: 'floor', personId: 'p-ke-1', name: 'Amina Odhiambo', entity: 'Kenya', entityType: 'member_state' } });
    await store.addMark({ recordingId: id, atMs: 500, endMs: null, data: { kind: 'session', status: 'open' } });
    await store.addMark({ recordingId: id, atMs: 4000, endMs: 4500, data: { kind: 'gap', channel: 'fr', reason: 'recorder-exited' } });
    // Caption lines: two in English during the recording, one in French, one English before it began.
    const line = (ms: number, language: string, text: string) => ({ session_id: SESSION, language, at: new Date(startedAt.getTime() + ms), by_person: 'p-cap-1', text });
    await server.store.db.insertInto('transcripts').values([line(-60_000, 'en', 'Before the recording'), line(1000, 'en', 'The meeting is called to order.'), line(3000, 'en', 'Kenya <has> the floor.'), line(1500, 'fr', 'La séance est ouverte.')]).execute();
    expect((await stop(bearer(tokens.sofia!))).status).toBe(200);
  });

  it('serves the index JSON with the files, their urls and the entries in time order', async () => {
    const res = await httpRequest('GET', `${sessionBase()}/recordings/${id}`, undefined, bearer(tokens.kwame!));
    expect(res.status).toBe(200);
    const index = res.json as { recording: RecordingView; files: RecordingView['files']; entries: Array<{ kind: string; atMs: number; who?: string }> };
    expect(index.recording).toMatchObject({ recordingId: id, sessionId: SESSION, status: 'stopped' });
    expect(index.files.map((f) => [f.channel, f.part, f.bytes])).toEqual([
      ['floor', 1, audio.length],
      ['fr', 1, 19],
    ]);
    expect(index.files[0]!.url).toBe(`/api/admin/events/${DEMO_EVENT_ID}/sessions/${SESSION}/recordings/${id}/files/floor/1`);
    expect(index.entries.map((e) => [e.kind, e.atMs])).toEqual([
      ['session', 500],
      ['floor', 2000],
      ['gap', 4000],
    ]);
    expect(index.entries[1]!.who).toBe('Amina Odhiambo — Kenya');
    // Another session's id for this recording: not found.
    expect((await httpRequest('GET', `${sessionBase(OTHER_SESSION)}/recordings/${id}`, undefined, apiKey)).status).toBe(404);
  });

  it('serves the chapters and one language\'s captions as WebVTT', async () => {
    const chapters = await httpRequest('GET', `${sessionBase()}/recordings/${id}/chapters.vtt`, undefined, apiKey);
    expect(chapters.status).toBe(200);
    expect(chapters.headers.get('content-type')).toBe('text/vtt; charset=utf-8');
    expect(chapters.text).toBe(
      ['WEBVTT', '00:00:00.500 --> 00:00:01.500\nSession open', '00:00:02.000 --> 00:00:09.000\nKenya — Member State: Amina Odhiambo', '00:00:04.000 --> 00:00:04.500\nGap in fr: recorder restarted'].join('\n\n') + '\n',
    );
    const en = await httpRequest('GET', `${sessionBase()}/recordings/${id}/captions/en.vtt`, undefined, apiKey);
    expect(en.status).toBe(200);
    expect(en.headers.get('content-type')).toBe('text/vtt; charset=utf-8');
    expect(en.text).toBe(['WEBVTT', '00:00:01.000 --> 00:00:03.000\nThe meeting is called to order.', '00:00:03.000 --> 00:00:08.000\nKenya &lt;has&gt; the floor.'].join('\n\n') + '\n');
    const fr = await httpRequest('GET', `${sessionBase()}/recordings/${id}/captions/fr.vtt`, undefined, apiKey);
    expect(fr.text).toContain('La séance est ouverte.');
    expect(fr.text).not.toContain('meeting');
    expect((await httpRequest('GET', `${sessionBase()}/recordings/${id}/captions/EN;x.vtt`, undefined, apiKey)).status).toBe(400);
  });

  it('downloads a file byte for byte as an attachment, answers a range with 206, and records every download', async () => {
    const before = (await downloads(SESSION)).length;
    const url = `${sessionBase()}/recordings/${id}/files/floor/1`;
    const full = await fetch(url, { headers: bearer(tokens.sofia!) });
    expect(full.status).toBe(200);
    expect(Buffer.from(await full.arrayBuffer()).equals(audio)).toBe(true);
    expect(full.headers.get('content-type')).toBe('audio/ogg');
    expect(full.headers.get('content-disposition')).toBe(`attachment; filename="${SESSION}-${id}-floor-1.ogg"`);
    expect(full.headers.get('x-content-type-options')).toBe('nosniff');
    expect(full.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
    expect(full.headers.get('accept-ranges')).toBe('bytes');

    const part = await fetch(url, { headers: { ...apiKey, range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${audio.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(audio.subarray(100, 200))).toBe(true);

    const records = (await downloads(SESSION)).slice(0, (await downloads(SESSION)).length - before);
    expect(records).toHaveLength(2);
    // Newest first: the API key's range, then Sofia's download.
    expect(records[1]).toMatchObject({ decision: 'recording-download', eventId: DEMO_EVENT_ID, sessionId: SESSION, personId: 'p-sec-1', actor: 'p-sec-1', recordingId: id, recordingChannel: 'floor', recordingPart: 1 });
    expect(records[0]).toMatchObject({ decision: 'recording-download', actor: 'admin-api-key', recordingId: id, recordingChannel: 'floor', recordingPart: 1 });
  });

  it('refuses path tricks, other sessions\' recordings and files that are not recorded, and records nothing for them', async () => {
    const before = (await downloads(SESSION)).length;
    const files = `${sessionBase()}/recordings/${id}/files`;
    const refused: Array<[string, number]> = [
      [`${files}/..%2Fx/1`, 400],
      [`${files}/..%2F..%2F..%2Fetc%2Fpasswd/1`, 400],
      [`${files}/floor/-1`, 400],
      [`${files}/floor/01`, 400],
      [`${files}/floor/1.5`, 400],
      [`${files}/floor/2`, 404],
      [`${files}/de/1`, 404],
      [`${sessionBase()}/recordings/r_..%2F..%2Fdatabase/files/floor/1`, 400],
      [`${sessionBase()}/recordings/r_ffffffffffffffffffffffffffffffff/files/floor/1`, 404],
      // The right recording and file, under another session of the same event.
      [`${sessionBase(OTHER_SESSION)}/recordings/${id}/files/floor/1`, 404],
    ];
    for (const [url, status] of refused) {
      const res = await httpRequest('GET', url, undefined, apiKey);
      expect(res.status, url).toBe(status);
      expect(res.text).not.toContain(audio.subarray(0, 64).toString('latin1'));
    }
    // A row whose stored name would leave the folder (a corrupt or forged row) is not followed.
    writeFileSync(join(storageDir, 'outside.ogg'), 'not a recording');
    await store.upsertFile({ recordingId: id, channel: 'es', part: 1, kind: 'audio', fileName: '../../outside.ogg', mediaType: 'audio/ogg', startMs: 0, endMs: null, bytes: 15 });
    const escaped = await httpRequest('GET', `${files}/es/1`, undefined, apiKey);
    expect(escaped.status).toBe(404);
    expect(escaped.text).not.toContain('not a recording');
    expect((await downloads(SESSION)).length).toBe(before);
  });
});

describe('recording: retention', () => {
  it('deletes a stopped recording\'s files once its retention has run out, and keeps the others', async () => {
    expect(server.recordingRetention).toBeDefined();
    const retained = recordingOf(await start(apiKey, RETAINED_SESSION));
    expect(retained.retentionDays).toBe(1);
    await writeRecordingFile(retained.recordingId, 'floor', 1, Buffer.from('OggS retained'));
    const stopped = recordingOf(await stop(apiKey, RETAINED_SESSION));
    expect(Date.parse(stopped.expiresAt!) - Date.parse(stopped.stoppedAt!)).toBe(86_400_000);
    // Kept forever (no retention), and one still recording, in the same sweep.
    const kept = recordingOf(await start(apiKey, OTHER_SESSION));
    await writeRecordingFile(kept.recordingId, 'floor', 1, Buffer.from('OggS kept'));
    expect((await stop(apiKey, OTHER_SESSION)).status).toBe(200);
    const running = recordingOf(await start(apiKey, RETAINED_SESSION));
    await writeRecordingFile(running.recordingId, 'floor', 1, Buffer.from('OggS running'));

    // Not yet: the sweep of today leaves it.
    expect(await server.recordingRetention!.sweep(new Date())).not.toContain(retained.recordingId);
    expect(existsSync(recordingFolder(storageDir, retained.recordingId))).toBe(true);
    // Two days on, it is past its expiry.
    const swept = await server.recordingRetention!.sweep(new Date(Date.now() + 2 * 86_400_000));
    expect(swept).toEqual([retained.recordingId]);
    expect(existsSync(recordingFolder(storageDir, retained.recordingId))).toBe(false);
    expect(existsSync(recordingFolder(storageDir, kept.recordingId))).toBe(true);
    expect(existsSync(recordingFolder(storageDir, running.recordingId))).toBe(true);

    const list = await httpRequest('GET', `${sessionBase(RETAINED_SESSION)}/recordings`, undefined, apiKey);
    const views = list.json!.recordings as RecordingView[];
    expect(views.find((r) => r.recordingId === retained.recordingId)).toMatchObject({ status: 'expired' });
    expect(views.find((r) => r.recordingId === running.recordingId)).toMatchObject({ status: 'recording' });
    // Its index stays; its files are gone.
    expect((await httpRequest('GET', `${sessionBase(RETAINED_SESSION)}/recordings/${retained.recordingId}`, undefined, apiKey)).status).toBe(200);
    const gone = await httpRequest('GET', `${sessionBase(RETAINED_SESSION)}/recordings/${retained.recordingId}/files/floor/1`, undefined, apiKey);
    expect(gone.status).toBe(404);
    // A second sweep has nothing left to do.
    expect(await server.recordingRetention!.sweep(new Date(Date.now() + 2 * 86_400_000))).toEqual([]);
    expect((await stop(apiKey, RETAINED_SESSION)).status).toBe(200);
  });
});

describe('recording: a server without GStreamer', () => {
  it('refuses to start (503 UNAVAILABLE) rather than accept a recording nothing will record', async () => {
    const bare = await startTestServer({ PLENUM_DEV_MODE: 'false', PLENUM_ADMIN_API_KEY: ADMIN_KEY, PLENUM_STORAGE_DIR: storageDir, PLENUM_GST_LAUNCH: '/nonexistent/gst-launch-1.0' });
    try {
      const res = await httpRequest('POST', `${bare.url}/api/admin/events/${DEMO_EVENT_ID}/sessions/${OTHER_SESSION}/recording/start`, undefined, apiKey);
      expect(res.status).toBe(503);
      expect(codeOf(res)).toBe('UNAVAILABLE');
      expect(await new RecordingStore(bare.store.db).active(OTHER_SESSION)).toBeUndefined();
    } finally {
      await bare.close();
    }
  });
});

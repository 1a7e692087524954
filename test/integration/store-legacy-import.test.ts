// Issue 11: the room records of a file-based data directory (attendance marks, transcripts, the floor), as the
// previous version wrote them, imported once into the system of record on the first start of a real server.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FirstStartStep } from '../../accreditation/first-start.js';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { Logger } from '../../server/logger.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { openStore } from '../../store/open-store.js';
import { requestJoinAs } from '../helpers/accreditation-client.js';
import { call, connectSignaling } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';

const ADMIN_KEY = 'admin-api-key-admin-api-key-0123456789';
const T0 = Date.parse('2025-03-04T09:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

interface LogLine {
  msg: string;
  [key: string]: unknown;
}

/** A logger whose lines the test reads. */
function capturedLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { log: pino({ level: 'warn' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) }), lines };
}

const person = (personId: string) => ({ personId, name: `Name ${personId}`, entity: 'Kenya', entityType: 'member_state', role: 'delegate' });
const mark = (at: number, kind: 'join' | 'leave', personId: string): string => JSON.stringify({ at, kind, ...person(personId) });
const write = (path: string, text: string): void => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
};

/** demo-council: a duplicate join, a torn line, intervals left open. demo-plenary: enough marks for several batches. */
function writeLegacyRoomRecords(dataDir: string): { floor: unknown; plenaryVisitors: number } {
  write(
    join(dataDir, 'attendance', 'demo-council.jsonl'),
    [
      mark(T0, 'join', 'p-ke-1'),
      mark(T0 + 1000, 'join', 'p-ke-2'),
      mark(T0 + 2000, 'join', 'p-ke-1'), // already present: ignored
      mark(T0 + 3000, 'leave', 'p-ke-1'),
      '{"at":1741078804000,"kind":"jo', // torn by a crash; the next append went on after it
      mark(T0 + 4000, 'join', 'p-ke-1'),
      mark(T0 + 5000, 'leave', 'p-ke-2'),
      mark(T0 + 6000, 'join', 'p-br-1'),
      '',
    ].join('\n'),
  );
  // More than one insert batch: the chair stays throughout (closed by a leave after her row was written), the
  // secretary never leaves (the server crashed).
  const plenaryVisitors = 1200;
  const plenary = [mark(T0, 'join', 'p-chair-1'), mark(T0, 'join', 'p-sec-1')];
  for (let i = 0; i < plenaryVisitors; i++) plenary.push(mark(T0 + 10 + i, 'join', `v-${i}`), mark(T0 + 20 + i, 'leave', `v-${i}`));
  plenary.push(mark(T0 + 50_000, 'leave', 'p-chair-1'), mark(T0 + 60_000, 'join', 'v-0'));
  write(join(dataDir, 'attendance', 'demo-plenary.jsonl'), `${plenary.join('\n')}\n`);
  write(join(dataDir, 'attendance', 'no-such-session.jsonl'), `${mark(T0, 'join', 'p-ke-1')}\n`);

  write(
    join(dataDir, 'transcripts', 'demo-council', 'en.jsonl'),
    ['one', 'two', 'three'].map((text, i) => JSON.stringify({ at: T0 + 1000 * i, by: 'p-cap-1', text })).join('\n') + '\n',
  );
  const fr = Array.from({ length: 1234 }, (_, i) => JSON.stringify({ at: T0, by: 'p-cap-1', text: `ligne ${i}` }));
  write(join(dataDir, 'transcripts', 'demo-council', 'fr.jsonl'), `${fr.join('\n')}\n`);

  const floor = {
    queue: [
      { id: 'p-br-1', name: 'Beatriz Souza', entity: 'Brazil', kind: 'point_of_order', requestedAt: T0 + 100 },
      { id: 'p-fr-1', name: 'Camille Durand', entity: 'France', kind: 'speaker', requestedAt: T0 + 200 },
    ],
    // Given the floor just now, so the room's speaking timer (180 s) keeps them on it while the test runs.
    speaker: { id: 'p-ke-2', name: 'Brian Kamau', entity: 'Kenya', kind: 'speaker', requestedAt: T0, since: Date.now(), limitMs: 180_000, warningMs: 30_000 },
  };
  write(join(dataDir, 'floor', 'demo-council.json'), JSON.stringify(floor, null, 2));
  write(join(dataDir, 'floor', `demo-council.json.${process.pid}.tmp`), '{"queue": [');
  return { floor, plenaryVisitors };
}

async function admin(server: MeetingServer, path: string): Promise<Response> {
  return fetch(`${server.url}/api/admin/events/${DEMO_EVENT_ID}${path}`, { headers: { 'x-api-key': ADMIN_KEY } });
}

describe('room records of a file-based data directory, imported on the first start (embedded engine)', () => {
  it('imports intervals with their events, transcripts in order and the floor the room loads; renames the directories; a second start imports nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'plenum-legacy-rooms-'));
    const { floor, plenaryVisitors } = writeLegacyRoomRecords(dataDir);
    const env = { PLENUM_DATA_DIR: dataDir, PLENUM_DEMO: 'true', PLENUM_ADMIN_API_KEY: ADMIN_KEY };
    const first = capturedLog();
    const server = await startTestServer(env, first.log);
    try {
      const report = first.lines.find((l) => l.msg.startsWith('imported the room records'));
      expect(report).toMatchObject({
        attendanceIntervals: 4 + plenaryVisitors + 3,
        intervalsLeftOpen: 4, // p-ke-1 and p-br-1 in the council; p-sec-1 and v-0 in the plenary
        joinsWhilePresent: 1,
        transcriptLines: 3 + 1234,
        floorSnapshots: 1,
        tornLines: { [join(dataDir, 'attendance', 'demo-council.jsonl')]: 1 },
        sessionsNotFound: ['no-such-session'],
        ignoredFiles: [join(dataDir, 'floor', `demo-council.json.${process.pid}.tmp`)],
      });
      for (const dir of ['attendance', 'transcripts', 'floor']) {
        expect(existsSync(join(dataDir, dir))).toBe(false);
        expect(existsSync(join(dataDir, `${dir}.imported`))).toBe(true);
      }

      const council = (await (await admin(server, '/sessions/demo-council/attendance')).json()) as { attendance: unknown[] };
      expect(council.attendance).toEqual([
        expect.objectContaining({ personId: 'p-ke-1', from: iso(T0), to: iso(T0 + 3000), closedBy: 'leave' }),
        expect.objectContaining({ personId: 'p-ke-2', from: iso(T0 + 1000), to: iso(T0 + 5000), closedBy: 'leave' }),
        // Left open in the file: closed at its last mark.
        expect.objectContaining({ personId: 'p-ke-1', from: iso(T0 + 4000), to: iso(T0 + 6000), closedBy: 'imported-open' }),
        expect.objectContaining({ personId: 'p-br-1', name: 'Name p-br-1', entity: 'Kenya', entityType: 'member_state', role: 'delegate', from: iso(T0 + 6000), to: iso(T0 + 6000), closedBy: 'imported-open' }),
      ]);

      const en = await (await admin(server, '/sessions/demo-council/transcripts/en')).text();
      expect(en).toBe('[09:00:00] one\n[09:00:01] two\n[09:00:02] three');
      const fr = (await (await admin(server, '/sessions/demo-council/transcripts/fr')).text()).split('\n');
      expect(fr).toHaveLength(1234);
      expect(fr.every((line, i) => line === `[09:00:00] ligne ${i}`)).toBe(true);

      // The stored floor, then the floor the room loads when someone joins.
      expect(await (await admin(server, '/sessions/demo-council/floor')).json()).toMatchObject({ queue: (floor as { queue: unknown[] }).queue, speaker: { id: 'p-ke-2' } });
      const answer = await requestJoinAs(server.url, 'amina.odhiambo@demo.ke', 'demo-council');
      expect(answer.status).toBe(200);
      const socket = await connectSignaling(server.url, answer.body.joinToken);
      try {
        const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
        if (!caps.ok) throw new Error(caps.error.code);
        const joined = await call<{ floor: { queue: Array<{ id: string; kind: string }>; speaker: { id: string } | null } }>(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities });
        if (!joined.ok) throw new Error(joined.error.code);
        expect(joined.data.floor.queue.map((e) => [e.id, e.kind])).toEqual([
          ['p-br-1', 'point_of_order'],
          ['p-fr-1', 'speaker'],
        ]);
        expect(joined.data.floor.speaker?.id).toBe('p-ke-2');
      } finally {
        socket.close();
      }
    } finally {
      await server.close();
    }

    const store = await openStore({ dataDir });
    try {
      const imported = await store.db.selectFrom('attendance').selectAll().where('node_id', '=', 'imported').orderBy('id').execute();
      expect(imported).toHaveLength(4 + plenaryVisitors + 3);
      expect(imported.every((r) => r.epoch === 0 && r.event_id === DEMO_EVENT_ID && r.presence === 'participant' && r.left_at !== null)).toBe(true);
      const plenary = imported.filter((r) => r.session_id === 'demo-plenary');
      expect(plenary).toHaveLength(plenaryVisitors + 3);
      // Closed after their rows were written in an earlier batch.
      expect(plenary[0]).toMatchObject({ person_id: 'p-chair-1', joined_at: new Date(T0), left_at: new Date(T0 + 50_000), closed_by: 'leave' });
      expect(plenary[1]).toMatchObject({ person_id: 'p-sec-1', left_at: new Date(T0 + 60_000), closed_by: 'imported-open' });
      expect(plenary[2]).toMatchObject({ person_id: 'v-0', joined_at: new Date(T0 + 10), left_at: new Date(T0 + 20), closed_by: 'leave' });
      expect(plenary.at(-1)).toMatchObject({ person_id: 'v-0', joined_at: new Date(T0 + 60_000), left_at: new Date(T0 + 60_000), closed_by: 'imported-open' });
      // The live owner's write after the import was not blocked by it: Amina's interval, under its epoch.
      const live = await store.db.selectFrom('attendance').selectAll().where('node_id', '<>', 'imported').execute();
      expect(live).toMatchObject([{ session_id: 'demo-council', person_id: 'p-ke-1' }]);
      expect(live[0]!.epoch).toBeGreaterThan(0);
      // The import wrote no fence: only the room that was served has one.
      expect((await store.db.selectFrom('room_fences').select('room_id').execute()).map((r) => r.room_id)).toEqual(['demo-council']);
    } finally {
      await store.close();
    }

    // The same files again (restored from a backup, say): the second start leaves them alone.
    write(join(dataDir, 'attendance', 'demo-council.jsonl'), `${mark(T0, 'join', 'p-ke-1')}\n`);
    const second = capturedLog();
    const again = await startTestServer(env, second.log);
    try {
      expect(second.lines.find((l) => l.msg.startsWith('imported the room records'))).toBeUndefined();
      expect(second.lines.find((l) => l.msg.startsWith('room records of an earlier version were NOT imported'))).toMatchObject({ directories: [join(dataDir, 'attendance')] });
      expect(existsSync(join(dataDir, 'attendance', 'demo-council.jsonl'))).toBe(true);
      const council = (await (await admin(again, '/sessions/demo-council/attendance')).json()) as { attendance: unknown[] };
      expect(council.attendance).toHaveLength(5);
    } finally {
      await again.close();
    }
  }, 120_000);

  it('stops the start on a floor file that is not a floor snapshot, naming it, and imports nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'plenum-legacy-rooms-'));
    write(join(dataDir, 'attendance', 'demo-council.jsonl'), `${mark(T0, 'join', 'p-ke-1')}\n`);
    const bad = join(dataDir, 'floor', 'demo-council.json');
    write(bad, '{"queue": [{"id": "p-ke-1", "na');
    await expect(startTestServer({ PLENUM_DATA_DIR: dataDir, PLENUM_DEMO: 'true' })).rejects.toThrow(`${bad} cannot be imported`);
    expect(existsSync(join(dataDir, 'attendance', 'demo-council.jsonl'))).toBe(true);
    expect(existsSync(join(dataDir, 'attendance.imported'))).toBe(false);
    const store = await openStore({ dataDir });
    try {
      expect(await store.db.selectFrom('attendance').select('id').execute()).toEqual([]);
      expect(await store.db.selectFrom('settings').select('key').where('key', '=', FirstStartStep.roomRecordsImported).execute()).toEqual([]);
    } finally {
      await store.close();
    }
  }, 60_000);
});

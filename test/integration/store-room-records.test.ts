import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import { LocalCoordinator } from '../../server/cluster/local-coordinator.js';
import { OwnerWrites } from '../../server/cluster/owner-writes.js';
import { AttendanceLog, type Attendee } from '../../server/conduct/attendance-log.js';
import { DatabaseFloorStore } from '../../server/conduct/floor-store.js';
import { TranscriptStore } from '../../server/interpretation/transcript-store.js';
import { RemovalRecord } from '../../server/rooms/removal-record.js';
import { openStore, type Store } from '../../store/open-store.js';
import { StaleOwnerError, type RoomEpoch } from '../../store/room-fence.js';
import { joinedSocket } from '../helpers/accreditation-client.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { call } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

// A room's records in the system of record, on both engines: the same repositories against PGlite (the
// embedded engine) and a real PostgreSQL server started for this file.

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
let postgres: PostgresProcess | undefined;

afterAll(async () => {
  await postgres?.stop();
});

const engines = [
  { engine: 'embedded (PGlite)', open: () => openStore({ dataDir: tmp('plenum-records-') }) },
  {
    engine: 'PostgreSQL',
    open: async () => {
      postgres ??= await PostgresProcess.start();
      return openStore({ dataDir: tmp('plenum-records-'), databaseUrl: postgres.url });
    },
  },
];

/** A node's writes for rooms, with the epochs the test gives it; refusals it reported are collected. */
function node(store: Store, nodeId: string, epochs: Map<string, number>) {
  const refused: string[] = [];
  const owners = new OwnerWrites(
    store.db,
    (roomId): RoomEpoch | undefined => (epochs.has(roomId) ? { roomId, nodeId, epoch: epochs.get(roomId)! } : undefined),
    (error) => refused.push(error.roomId),
  );
  return { owners, refused, epoch: (roomId: string) => owners.owner(roomId) };
}

const person = (personId: string, entity = 'Kenya', entityType = 'member_state'): Attendee => ({ eventId: 'ev', personId, name: `Name ${personId}`, entity, entityType, role: 'delegate' });
const speaker = (id: string) => ({ id, name: id, entity: id, kind: 'speaker' as const, requestedAt: 1 });

describe.each(engines)('room records on $engine', ({ open }) => {
  let store: Store;
  beforeAll(async () => {
    store = await open();
  }, 60_000);
  afterAll(async () => {
    await store?.close();
  });

  it('a fenced write is refused for a lower epoch and accepted for a higher one; after epoch 2 wrote, no epoch-1 write lands', async () => {
    const room = 'fence-room';
    const a = node(store, 'node-a', new Map([[room, 1]]));
    const b = node(store, 'node-b', new Map([[room, 2]]));
    const floorA = new DatabaseFloorStore(a.owners);
    const floorB = new DatabaseFloorStore(b.owners);
    const attendanceA = new AttendanceLog(a.owners);

    await floorA.save(room, { queue: [speaker('ke')], speaker: null });
    const early = await attendanceA.open(a.epoch(room), room, person('p-a'));
    await floorB.save(room, { queue: [speaker('br')], speaker: null });

    // Epoch 1 again, for each kind of record: refused, reported, and nothing of it in the tables.
    await expect(floorA.save(room, { queue: [speaker('stale')], speaker: null })).rejects.toBeInstanceOf(StaleOwnerError);
    await expect(attendanceA.open(a.epoch(room), room, person('p-late'))).rejects.toBeInstanceOf(StaleOwnerError);
    await expect(attendanceA.close(a.epoch(room), early)).rejects.toBeInstanceOf(StaleOwnerError);
    await expect(new TranscriptStore(a.owners).append(room, 'en', { at: Date.now(), by: 'A', text: 'stale line' })).rejects.toBeInstanceOf(StaleOwnerError);
    expect(a.refused).toEqual([room, room, room, room]);
    expect(b.refused).toEqual([]);

    const floor = await store.db.selectFrom('floor_state').selectAll().where('session_id', '=', room).executeTakeFirstOrThrow();
    expect(floor.epoch).toBe(2);
    expect((floor.snapshot as { queue: Array<{ id: string }> }).queue.map((e) => e.id)).toEqual(['br']);
    expect(await store.db.selectFrom('attendance').select(['person_id', 'left_at']).where('session_id', '=', room).execute()).toEqual([{ person_id: 'p-a', left_at: null }]);
    expect(await store.db.selectFrom('transcripts').select('text').where('session_id', '=', room).execute()).toEqual([]);
    expect((await store.db.selectFrom('room_fences').selectAll().where('room_id', '=', room).executeTakeFirstOrThrow()).epoch).toBe(2);

    // A higher epoch is accepted.
    const c = node(store, 'node-c', new Map([[room, 3]]));
    await new DatabaseFloorStore(c.owners).save(room, { queue: [speaker('jp')], speaker: null });
    expect((await floorB.load(room))?.queue.map((e) => e.id)).toEqual(['jp']);

    // A node holding no lease on the room writes nothing, and says so.
    const none = node(store, 'node-d', new Map());
    await expect(new DatabaseFloorStore(none.owners).save(room, { queue: [], speaker: null })).rejects.toBeInstanceOf(StaleOwnerError);
    expect(none.refused).toEqual([room]);
    expect((await floorB.load(room))?.queue.map((e) => e.id)).toEqual(['jp']);
  });

  it("the next owner closes the previous owner's open intervals when it takes the room: one continuous record", async () => {
    const room = 'takeover-room';
    const a = node(store, 'node-a', new Map([[room, 10]]));
    const b = node(store, 'node-b', new Map([[room, 20]]));
    const logA = new AttendanceLog(a.owners);
    const logB = new AttendanceLog(b.owners);
    const amina = await logA.open(a.epoch(room), room, person('p-ke-1'));
    const brian = await logA.open(a.epoch(room), room, person('p-ke-2'));
    await logA.close(a.epoch(room), brian);
    // A listener an edge served while A was the origin (written by the edge, unfenced, with A's epoch).
    await logA.openListener('edge-1', 10, room, person('l-1', 'Japan'));

    // A is killed; B takes the room: its first write closes what A left open.
    expect(await logB.takeOver(b.epoch(room), room)).toBe(2);
    await logB.open(b.epoch(room), room, person('p-ke-1'));
    // A's late shutdown close cannot land any more.
    await expect(logA.closeOpen(a.epoch(room), room, 'shutdown')).rejects.toBeInstanceOf(StaleOwnerError);

    const rows = await store.db.selectFrom('attendance').selectAll().where('session_id', '=', room).orderBy('id').execute();
    expect(rows.map((r) => [r.person_id, r.presence, r.node_id, r.epoch, r.closed_by, r.left_at !== null])).toEqual([
      ['p-ke-1', 'participant', 'node-a', 10, 'takeover', true],
      ['p-ke-2', 'participant', 'node-a', 10, 'leave', true],
      ['l-1', 'listener', 'edge-1', 10, 'takeover', true],
      ['p-ke-1', 'participant', 'node-b', 20, null, false],
    ]);
    expect(rows[0]!.id).toBe(amina);
    const { attendance } = await logB.page(room);
    expect(attendance.map((i) => [i.personId, i.closedBy ?? null, Boolean(i.to)])).toEqual([
      ['p-ke-1', 'takeover', true],
      ['p-ke-2', 'leave', true],
      ['p-ke-1', null, false],
    ]);

    // B's clean shutdown closes its participants, not the listeners edges record for themselves.
    await logB.openListener('edge-2', 20, room, person('l-2', 'Japan'));
    expect(await logB.closeOpen(b.epoch(room), room, 'shutdown')).toBe(1);
    const open = await store.db.selectFrom('attendance').select(['person_id', 'presence']).where('session_id', '=', room).where('left_at', 'is', null).execute();
    expect(open).toEqual([{ person_id: 'l-2', presence: 'listener' }]);
  });

  it('edge listeners: counts by entity and entity type from the database, and a paged list', async () => {
    const room = 'listeners-room';
    const a = node(store, 'node-a', new Map([[room, 1]]));
    const log = new AttendanceLog(a.owners);
    await log.open(a.epoch(room), room, person('p-ke-1'));
    await log.open(a.epoch(room), room, person('p-sec-1', 'Secretariat', 'secretariat'));
    const entities = [
      ['Japan', 'member_state'],
      ['Japan', 'member_state'],
      ['Brazil', 'member_state'],
      ['Open Access Network', 'non_governmental_organization'],
      ['Japan', 'member_state'],
    ] as const;
    const ids: number[] = [];
    for (const [i, [entity, type]] of entities.entries()) ids.push(await log.openListener('edge-1', 1, room, person(`l-${i}`, entity, type)));
    await log.closeListener(ids[4]!); // the last Japanese listener left

    expect(await log.summary(room)).toEqual({
      participants: { byEntityType: { member_state: 1, secretariat: 1 }, total: 2 },
      listeners: { byEntity: { Japan: 2, Brazil: 1, 'Open Access Network': 1 }, byEntityType: { member_state: 3, non_governmental_organization: 1 }, total: 4 },
    });

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await log.page(room, { presence: 'listener', limit: 2, cursor });
      expect(page.attendance.length).toBeLessThanOrEqual(2);
      seen.push(...page.attendance.map((i) => `${i.personId}:${i.presence}:${i.to ? 'left' : 'here'}`));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(['l-0:listener:here', 'l-1:listener:here', 'l-2:listener:here', 'l-3:listener:here', 'l-4:listener:left']);
    // The default list stays the participants'.
    expect((await log.page(room)).attendance.map((i) => i.personId)).toEqual(['p-ke-1', 'p-sec-1']);
    expect(await log.entitiesPresent(room, 'listener')).toEqual([
      { entity: 'Brazil', entityType: 'member_state' },
      { entity: 'Japan', entityType: 'member_state' },
      { entity: 'Open Access Network', entityType: 'non_governmental_organization' },
    ]);
  });

  it('a transcript stops at its byte limit, counted from the database by a new process too; read gives the plain text', async () => {
    const room = 'transcript-room';
    const a = node(store, 'node-a', new Map([[room, 1]]));
    const line = 'word '.repeat(100); // 500 bytes
    const first = new TranscriptStore(a.owners, 1200);
    await first.append(room, 'fr', { at: Date.parse('2026-03-01T09:00:01Z'), by: 'Noor', text: line });
    await first.append(room, 'fr', { at: Date.parse('2026-03-01T09:00:02Z'), by: 'Noor', text: line });
    await expect(first.append(room, 'fr', { at: Date.now(), by: 'Noor', text: line })).rejects.toMatchObject({ code: ErrorCode.LIMIT_REACHED });
    // Another language has its own limit.
    await first.append(room, 'en', { at: Date.parse('2026-03-01T09:00:03Z'), by: 'Noor', text: 'Good morning.' });

    // A fresh store (a restarted or another node) counts what is there and refuses as well.
    const second = new TranscriptStore(a.owners, 1200);
    await expect(second.append(room, 'fr', { at: Date.now(), by: 'Noor', text: line })).rejects.toBeInstanceOf(ProtocolError);
    await second.append(room, 'fr', { at: Date.parse('2026-03-01T09:00:04Z'), by: 'Noor', text: 'Short.' });
    expect(await store.db.selectFrom('transcripts').select('text').where('session_id', '=', room).where('language', '=', 'fr').execute()).toHaveLength(3);

    expect(await second.read(room, 'fr')).toBe([`[09:00:01] ${line}`, `[09:00:02] ${line}`, '[09:00:04] Short.'].join('\n'));
    expect(await second.read(room, 'en')).toBe('[09:00:03] Good morning.');
    expect(await second.read(room, 'es')).toBe('');
  });

  it('removals are records of the room: they expire, are cleared by the owner, and a stale owner cannot write them', async () => {
    const room = 'removal-room';
    const a = node(store, 'node-a', new Map([[room, 5]]));
    const lasting = new RemovalRecord(a.owners, 60_000);
    const brief = new RemovalRecord(a.owners, 400);
    await lasting.record(room, 'p-1');
    await brief.record(room, 'p-2');
    expect(await lasting.isRemoved(room, 'p-1')).toBe(true);
    expect(await lasting.isRemoved(room, 'p-2')).toBe(true);
    expect(await lasting.isRemoved(room, 'p-3')).toBe(false);
    expect(await lasting.isRemoved('another-room', 'p-1')).toBe(false);

    // The short one expires; the row is ignored, and the next removal in the room deletes it.
    await waitFor(async () => !(await lasting.isRemoved(room, 'p-2')), { what: 'the removal to expire' });
    expect(await lasting.isRemoved(room, 'p-1')).toBe(true);
    await lasting.record(room, 'p-4');
    expect((await store.db.selectFrom('removals').select('person_id').where('room_id', '=', room).orderBy('person_id').execute()).map((r) => r.person_id)).toEqual(['p-1', 'p-4']);

    await lasting.clear(room, 'p-1');
    expect(await lasting.isRemoved(room, 'p-1')).toBe(false);

    // Once a newer owner wrote for the room, the old one can neither record nor clear.
    const b = node(store, 'node-b', new Map([[room, 6]]));
    await new RemovalRecord(b.owners, 60_000).record(room, 'p-5');
    await expect(lasting.record(room, 'p-6')).rejects.toMatchObject({ code: ErrorCode.ROOM_ELSEWHERE });
    await expect(lasting.clear(room, 'p-5')).rejects.toMatchObject({ code: ErrorCode.ROOM_ELSEWHERE });
    expect(await lasting.isRemoved(room, 'p-5')).toBe(true);
    expect(await lasting.isRemoved(room, 'p-6')).toBe(false);
    expect(a.refused).toEqual([room, room]);
  });
});

describe('the single-node coordinator after a restart', () => {
  it('gives lease tokens above those of an earlier process (fences persist in the database)', async () => {
    const before = Date.now();
    const first = new LocalCoordinator('solo');
    const one = (await first.acquireRoom('r', 10_000))!;
    const two = (await first.acquireRoom('s', 10_000))!;
    expect(one.token).toBeGreaterThanOrEqual(before);
    expect(two.token).toBeGreaterThan(one.token);
    // The next process starts from nothing but the clock.
    const restarted = new LocalCoordinator('solo');
    await waitFor(() => Date.now() > two.token, { what: 'the clock to pass the last token' });
    expect((await restarted.acquireRoom('r', 10_000))!.token).toBeGreaterThan(two.token);
  });
});

describe('a meeting server writes its rooms to the database', () => {
  const ADMIN_KEY = 'admin-api-key-admin-api-key-0123456789';

  it('a join and a leave make one closed interval under the lease epoch; the floor survives a restart on the same data directory', async () => {
    const dataDir = tmp('plenum-server-records-');
    const env = { PLENUM_DATA_DIR: dataDir, PLENUM_ADMIN_API_KEY: ADMIN_KEY, PLENUM_DEV_MODE: 'false' };
    const first = await startTestServer(env);
    let firstEpoch: number;
    try {
      const amina = await joinedSocket(first.url, 'amina.odhiambo@demo.ke', 'demo-council');
      const lease = first.ownership.leaseOf('demo-council')!;
      expect(lease).toBeDefined();
      firstEpoch = lease.token;
      const opened = await waitFor(() => first.store.db.selectFrom('attendance').selectAll().where('session_id', '=', 'demo-council').execute().then((r) => (r.length > 0 ? r : undefined)), {
        what: 'the interval to be opened',
      });
      expect(opened.map((r) => [r.person_id, r.presence, r.epoch, r.node_id, r.left_at])).toEqual([['p-ke-1', 'participant', firstEpoch, first.config.cluster.nodeId, null]]);
      expect(code(await call(amina, 'requestFloor', {}))).toBe('ok');
      amina.close();
      const closed = await waitFor(
        () =>
          first.store.db
            .selectFrom('attendance')
            .selectAll()
            .where('session_id', '=', 'demo-council')
            .execute()
            .then((r) => (r.every((row) => row.left_at !== null) ? r : undefined)),
        { what: 'the interval to be closed' },
      );
      expect(closed.map((r) => [r.person_id, r.closed_by, r.left_at!.getTime() >= r.joined_at.getTime()])).toEqual([['p-ke-1', 'leave', true]]);

      // Brian asks for the floor; then the server stops cleanly with him present.
      const brian = await joinedSocket(first.url, 'brian.kamau@demo.ke', 'demo-council');
      expect(code(await call(brian, 'requestFloor', { kind: 'point_of_order' }))).toBe('ok');
      await waitFor(
        async () => {
          const row = await first.store.db.selectFrom('floor_state').selectAll().where('session_id', '=', 'demo-council').executeTakeFirst();
          return (row?.snapshot as { queue?: Array<{ id: string }> } | undefined)?.queue?.map((e) => e.id).join() === 'p-ke-2';
        },
        { what: 'the floor to be saved' },
      );
      await first.close();
      brian.close();
    } finally {
      await first.close();
    }

    const second = await startTestServer(env);
    try {
      const rows = await second.store.db.selectFrom('attendance').selectAll().where('session_id', '=', 'demo-council').orderBy('id').execute();
      expect(rows.map((r) => [r.person_id, r.closed_by])).toEqual([
        ['p-ke-1', 'leave'],
        ['p-ke-2', 'shutdown'],
      ]);
      const floor = await fetch(`${second.url}/api/admin/events/${DEMO_EVENT_ID}/sessions/demo-council/floor`, { headers: { 'x-api-key': ADMIN_KEY } });
      expect(((await floor.json()) as { queue: Array<{ id: string }> }).queue.map((e) => e.id)).toEqual(['p-ke-2']);

      // The restarted node's epoch is above the first process's, so its writes are accepted.
      const amina = await joinedSocket(second.url, 'amina.odhiambo@demo.ke', 'demo-council');
      expect(second.ownership.leaseOf('demo-council')!.token).toBeGreaterThan(firstEpoch);
      // The secretariat's views over HTTP: counts from the open intervals, and a paged list.
      const admin = async (path: string) => {
        const res = await fetch(`${second.url}/api/admin/events/${DEMO_EVENT_ID}/sessions/demo-council${path}`, { headers: { 'x-api-key': ADMIN_KEY } });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      await waitFor(async () => ((await admin('/attendance/summary')).body as { participants: { total: number } }).participants.total === 1, { what: 'Amina counted present' });
      expect((await admin('/attendance/summary')).body).toEqual({
        participants: { byEntityType: { member_state: 1 }, total: 1 },
        listeners: { byEntity: {}, byEntityType: {}, total: 0 },
      });
      const page1 = (await admin('/attendance?limit=2')).body as { attendance: Array<{ personId: string }>; nextCursor?: string };
      expect(page1.attendance.map((i) => i.personId)).toEqual(['p-ke-1', 'p-ke-2']);
      const page2 = (await admin(`/attendance?limit=2&cursor=${page1.nextCursor}`)).body as { attendance: Array<{ personId: string; to?: string }>; nextCursor?: string };
      expect(page2.attendance.map((i) => [i.personId, Boolean(i.to)])).toEqual([['p-ke-1', false]]);
      expect(page2.nextCursor).toBeUndefined();
      expect((await admin('/attendance?presence=listener')).body).toEqual({ attendance: [] });
      expect((await admin('/attendance?cursor=x')).status).toBe(400);
      expect(code(await call(amina, 'requestFloor', {}))).toBe('ok');
      await waitFor(
        async () => {
          const row = await second.store.db.selectFrom('floor_state').selectAll().where('session_id', '=', 'demo-council').executeTakeFirst();
          return row && row.epoch > firstEpoch && (row.snapshot as { queue: Array<{ id: string }> }).queue.map((e) => e.id).join() === 'p-ke-2,p-ke-1';
        },
        { what: 'the floor saved under the new epoch' },
      );
      amina.close();
    } finally {
      await second.close();
    }
  });
});

function code(answer: { ok: boolean; error?: { code: string } }): string {
  return answer.ok ? 'ok' : answer.error!.code;
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import { joinedSocket } from '../helpers/accreditation-client.js';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { call } from '../helpers/signaling-client.js';

const ADMIN_KEY = 'admin-api-key-admin-api-key-0123456789';

async function api(server: ServerProcess, method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}/api/admin/events/${DEMO_EVENT_ID}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
}

describe('conduct across a restart of the server process', () => {
  it('keeps the meeting, its session, the speakers list and attendance', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'plenum-restart-'));
    const env = { PLENUM_DATA_DIR: dataDir, PLENUM_ADMIN_API_KEY: ADMIN_KEY };
    const first = await spawnServer(env);
    try {
      await api(first, 'PUT', '/meetings/assembly', { title: 'Assembly' });
      await api(first, 'PUT', '/sessions/assembly-1', { meetingId: 'assembly', title: 'Assembly — day 1', lobby: false, floorControl: true, status: 'open' });
      const amina = await joinedSocket(first.url, 'amina.odhiambo@demo.ke', 'assembly-1');
      const brian = await joinedSocket(first.url, 'brian.kamau@demo.ke', 'assembly-1');
      expect((await call(amina, 'requestFloor', {})).ok).toBe(true);
      expect((await call(brian, 'requestFloor', { kind: 'point_of_order' })).ok).toBe(true);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      amina.close();
      brian.close();
    } finally {
      first.child.kill('SIGKILL');
    }

    const second = await spawnServer(env);
    try {
      expect(await api(second, 'GET', '/meetings')).toEqual({ meetings: [{ meetingId: 'assembly', eventId: DEMO_EVENT_ID, title: 'Assembly' }] });
      expect(await api(second, 'GET', '/sessions/assembly-1/floor')).toMatchObject({
        queue: [
          { id: 'p-ke-2', kind: 'point_of_order' },
          { id: 'p-ke-1', kind: 'speaker' },
        ],
      });
      const { attendance } = (await api(second, 'GET', '/sessions/assembly-1/attendance')) as { attendance: Array<{ personId: string; entity: string; from: string; to?: string }> };
      expect(attendance.map((a) => [a.personId, a.entity, Boolean(a.from), Boolean(a.to)]).sort()).toEqual([
        ['p-ke-1', 'Kenya', true, true],
        ['p-ke-2', 'Kenya', true, true],
      ]);
      // The restored list is the room's list once people are back.
      const amina = await joinedSocket(second.url, 'amina.odhiambo@demo.ke', 'assembly-1');
      const floorState = (await api(second, 'GET', '/sessions/assembly-1/floor')) as { queue: Array<{ id: string }> };
      expect(floorState.queue.map((e) => e.id)).toEqual(['p-ke-2', 'p-ke-1']);
      amina.close();
    } finally {
      second.child.kill('SIGKILL');
    }
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { waitFor } from '../helpers/wait.js';

// The harness itself: a real postgres that survives kill -9 with its commits, and a synchronous standby
// that loses no committed row when the primary dies.
describe('PostgresProcess', () => {
  const servers: PostgresProcess[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it('keeps a committed row across SIGKILL and restart', async () => {
    const server = await PostgresProcess.start();
    servers.push(server);
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/plenum`);

    await server.withClient(async (c) => {
      await c.query('create table notes (id int primary key, body text not null)');
      await c.query('insert into notes values (1, $1)', ['kept']);
      expect((await c.query('select body from notes where id = 1')).rows).toEqual([{ body: 'kept' }]);
    });

    const pid = server.pid;
    await server.kill('SIGKILL');
    expect(server.pid).toBeUndefined();
    await server.restart();
    expect(server.pid).not.toBe(pid);

    const rows = await server.withClient(async (c) => (await c.query('select id, body from notes')).rows);
    expect(rows).toEqual([{ id: 1, body: 'kept' }]);
  });

  it('loses no committed row when the primary is killed and the standby promoted', async () => {
    const { primary, standby } = await PostgresProcess.startPrimaryWithStandby();
    servers.push(primary, standby);

    const replication = await primary.withClient(async (c) => (await c.query('select state, sync_state from pg_stat_replication')).rows);
    expect(replication).toEqual([{ state: 'streaming', sync_state: 'sync' }]);
    await primary.withClient((c) => c.query('create table ledger (id int primary key)'));
    const committed: number[] = [];
    await primary.withClient(async (c) => {
      for (let id = 1; id <= 50; id++) {
        await c.query('insert into ledger values ($1)', [id]);
        committed.push(id);
      }
    });
    // Synchronous commit: the standby has flushed every row; replay makes it visible a moment later.
    await waitFor(() => standby.withClient(async (c) => (await c.query('select count(*)::int as n from ledger')).rows[0].n === committed.length), {
      what: 'the standby to show every committed row',
    });
    await expect(standby.withClient((c) => c.query('insert into ledger values (999)'))).rejects.toThrow(/read-only/);

    // Kill the primary under load: every commit it acknowledged must be on the standby.
    const writer = await primary.connect();
    const inFlight = (async () => {
      for (let id = 51; ; id++) {
        await writer.query('insert into ledger values ($1)', [id]);
        committed.push(id);
      }
    })().catch(() => undefined);
    await waitFor(() => committed.length >= 60, { what: 'commits under load' });
    await primary.kill('SIGKILL');
    await inFlight;
    await writer.end().catch(() => {});

    await standby.promote();
    const ids = await standby.withClient(async (c) => (await c.query<{ id: number }>('select id from ledger order by id')).rows.map((r) => r.id));
    for (const id of committed) expect(ids).toContain(id);

    await standby.withClient((c) => c.query('insert into ledger values (1000)'));
    const after = await standby.withClient(async (c) => (await c.query('select count(*)::int as n from ledger where id = 1000')).rows[0].n);
    expect(after).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { call, connectSignaling, devToken } from '../helpers/signaling-client.js';
import { spawnServer } from '../helpers/server-process.js';

describe('the server process', () => {
  it('on SIGTERM tells joined clients the room closed for shutdown, then exits 0', async () => {
    const server = await spawnServer({ PLENUM_DEV_MODE: 'true' });
    try {
      const socket = await connectSignaling(server.url, await devToken(server.url, 'Ana', 'shutdown'));
      const caps = (await call(socket, 'getRouterRtpCapabilities', {})) as { ok: true; data: { rtpCapabilities: object } };
      expect((await call(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities })).ok).toBe(true);
      const notice = new Promise((resolve) => socket.once('roomClosed', resolve));

      server.child.kill('SIGTERM');
      expect(await notice).toEqual({ reason: 'SERVER_SHUTDOWN' });
      expect(await server.exited).toBe(0);
      expect(server.logs.some((l) => l.msg === 'shut down')).toBe(true);
      socket.close();
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('refuses to start on invalid configuration, naming the variable, with exit code 2', async () => {
    await expect(spawnServer({ PLENUM_PORT: 'not-a-port' })).rejects.toThrow(/exited \(2\)[\s\S]*PLENUM_PORT/);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../server/config.js';
import { createLogger, type Logger } from '../../server/logger.js';
import { MeetingServer } from '../../server/meeting-server.js';

/** Data directories made here (about 100 MB each with the embedded database): removed when the test process ends. */
const madeDirs: string[] = [];
process.once('exit', () => {
  for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'plenum-test-'));
  madeDirs.push(dir);
  return dir;
}

/**
 * A test server's environment: loopback, free ports, one worker, a fresh data directory, and the demo event
 * (PLENUM_DEMO=true), whose people most tests sign in as. Pass PLENUM_DEMO: 'false' for a production start.
 */
export function loopbackEnv(): Record<string, string> {
  return {
    PLENUM_DEMO: 'true',
    PLENUM_HOST: '127.0.0.1',
    PLENUM_PORT: '0',
    PLENUM_MEDIA_WORKERS: '1',
    PLENUM_MEDIA_LISTEN_IP: '127.0.0.1',
    PLENUM_MEDIA_ANNOUNCED_ADDRESS: '127.0.0.1',
    PLENUM_MEDIA_PORT_BASE: '0',
    PLENUM_DATA_DIR: dataDir(),
  };
}

/**
 * A real meeting server on a free loopback port with one real mediasoup worker and its own data directory.
 * `log`: a logger of the test's own, to read what the server logged.
 */
export function startTestServer(env: Record<string, string> = {}, log?: Logger): Promise<MeetingServer> {
  const config = loadConfig({ ...loopbackEnv(), PLENUM_DEV_MODE: 'true', PLENUM_ROOM_IDLE_CLOSE_MS: '2000', ...env });
  return MeetingServer.start(config, log ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'));
}

import { createLogger } from '../../server/logger.js';
import { WorkerPool, type EndpointLimits, type WorkerPoolOptions } from '../../media/index.js';

export const testLog = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

export const testLimits: EndpointLimits = {
  maxTransportsPerDirection: 2,
  maxProducers: 4,
  maxConsumers: 100,
  initialAvailableOutgoingBitrate: 600_000,
};

/** A pool of real mediasoup workers on loopback. */
export async function startPool(overrides: Partial<WorkerPoolOptions> = {}): Promise<WorkerPool> {
  const pool = new WorkerPool(
    {
      numWorkers: 1,
      rtcPortBase: 0,
      listenIp: '127.0.0.1',
      announcedAddress: '127.0.0.1',
      rtcMinPort: 20000,
      rtcMaxPort: 29999,
      logLevel: 'warn',
      respawnDelayMs: 50,
      ...overrides,
    },
    testLog,
  );
  await pool.start();
  return pool;
}

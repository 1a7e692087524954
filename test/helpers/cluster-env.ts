import { CLUSTER_SECRET } from './redis-process.js';

/** What every test node of a cluster shares besides Redis and PostgreSQL: the secrets a cluster requires. */
export const CLUSTER_JOIN_TOKEN_SECRET = 'a-join-token-secret-shared-by-the-cluster-0123';
export const CLUSTER_IDP_SECRET = 'an-embedded-idp-secret-shared-0123456789';

/**
 * A cluster node's environment: its id, the shared Redis and PostgreSQL, the shared secrets, no dev mode,
 * fast heartbeats. `extra` adds or overrides variables.
 */
export function clusterNodeEnv(nodeId: string, shared: { redisUrl: string; databaseUrl: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PLENUM_DEV_MODE: 'false',
    PLENUM_NODE_ID: nodeId,
    PLENUM_REDIS_URL: shared.redisUrl,
    PLENUM_DATABASE_URL: shared.databaseUrl,
    PLENUM_JOIN_TOKEN_SECRET: CLUSTER_JOIN_TOKEN_SECRET,
    PLENUM_CLUSTER_SECRET: CLUSTER_SECRET,
    PLENUM_EMBEDDED_IDP_SECRET: CLUSTER_IDP_SECRET,
    PLENUM_HEARTBEAT_INTERVAL_MS: '200',
    ...extra,
  };
}

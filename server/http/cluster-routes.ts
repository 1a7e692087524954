import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { ClusterMembership } from '../cluster/cluster-membership.js';
import { parseOr400, route, sendError } from './http-errors.js';
import { sameSecret } from './secretariat-auth.js';

const drainBody = z.object({ draining: z.boolean() }).strict();

/**
 * The operator's view of the cluster (admin API key only): live nodes with their load, and draining this
 * node before maintenance. A draining node keeps its rooms and listeners but takes no new room or edge.
 */
export function clusterRoutes(deps: { membership: ClusterMembership; adminApiKey?: string }): Router {
  const router = express.Router();
  router.use(express.json({ limit: '1kb' }));
  router.use((req: Request, res: Response, next: NextFunction) => {
    const key = req.header('x-api-key');
    if (!deps.adminApiKey) return sendError(res, ErrorCode.FORBIDDEN, 'the cluster API needs PLENUM_ADMIN_API_KEY to be configured');
    if (!key || !sameSecret(key, deps.adminApiKey)) return sendError(res, ErrorCode.UNAUTHENTICATED, 'the admin API key (x-api-key) is required');
    next();
  });
  router.get(
    '/nodes',
    route(async (_req, res) => {
      res.json({ self: deps.membership.coordinator.nodeId, nodes: await deps.membership.liveNodes() });
    }),
  );
  router.post(
    '/drain',
    route(async (req, res) => {
      const { draining } = parseOr400(drainBody, req.body);
      deps.membership.draining = draining;
      // Tell the others now rather than at the next heartbeat.
      if (!(await deps.membership.beat())) throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the cluster store did not take the change; try again');
      res.json({ draining });
    }),
  );
  return express.Router().use('/api/admin/cluster', router);
}

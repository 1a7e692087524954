import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import { ErrorCode, type ErrorBody } from '../../protocol/errors.js';
import type { JoinTokenService } from '../auth/join-token.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { demoDir, sdkBundleDir } from '../project-paths.js';

export interface HttpAppDeps {
  devMode: boolean;
  tokens: JoinTokenService;
  metrics: Metrics;
  isReady: () => boolean;
  log: Logger;
}

const devTokenBody = z
  .object({
    name: z.string().trim().min(1).max(64),
    room: z.string().trim().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash and underscore; at most 64'),
  })
  .strict();

function sendError(res: Response, status: number, code: ErrorBody['code'], message: string): void {
  res.status(status).json({ error: { code, message } satisfies ErrorBody });
}

export function createHttpApp(deps: HttpAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  app.use(express.json({ limit: '16kb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = deps.isReady();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready' });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });

  app.get('/api/config', (_req, res) => {
    res.json({ devMode: deps.devMode });
  });

  // Dev mode only: a join token for any name. The accreditation flow replaces it everywhere else.
  app.post('/dev/token', (req, res) => {
    if (!deps.devMode) return sendError(res, 404, ErrorCode.ROUTE_NOT_FOUND, 'not found');
    const body = devTokenBody.safeParse(req.body);
    if (!body.success) {
      return sendError(res, 400, ErrorCode.BAD_REQUEST, body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    }
    const token = deps.tokens.issue(`dev-${randomUUID()}`, {
      room: body.data.room,
      name: body.data.name,
      role: 'participant',
      canPublish: true,
      canSubscribe: true,
    });
    res.json({ token });
  });

  app.use('/sdk', express.static(sdkBundleDir, { fallthrough: true }));
  app.use('/', express.static(demoDir, { index: 'index.html' }));

  app.use((_req, res) => sendError(res, 404, ErrorCode.ROUTE_NOT_FOUND, 'not found'));
  // Body-parser errors (bad JSON, too large) and anything else: a code, never a stack trace.
  app.use((error: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (error.type === 'entity.too.large') return sendError(res, 413, ErrorCode.PAYLOAD_TOO_LARGE, 'the body is too large');
    if (error.status && error.status >= 400 && error.status < 500) return sendError(res, error.status, ErrorCode.BAD_REQUEST, 'the body is not valid JSON');
    deps.log.error({ err: error }, 'http request failed');
    sendError(res, 500, ErrorCode.INTERNAL, 'internal error');
  });
  return app;
}

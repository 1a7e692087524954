import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { ErrorCode } from '../../protocol/errors.js';
import { DEV_MODE_STATUS, type JoinTokenService } from '../auth/join-token.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { demoDir, openApiDir, sdkBundleDir } from '../project-paths.js';
import type { TrustProxy } from './client-address.js';
import { isTransient } from '../../store/transient.js';
import { sendError } from './http-errors.js';
import { mainPortMetrics, type MetricsAccess } from './metrics-endpoint.js';
import type { OidcBrowserSettings } from '../config.js';
import { securityHeadersFor } from './security-headers.js';
import { webPagesRouter } from './web-pages.js';

export interface HttpAppDeps {
  devMode: boolean;
  embeddedSignIn: boolean;
  /** The web app's sign-in through the organisation's OpenID provider, when configured (told to browsers by /api/config). */
  oidc?: OidcBrowserSettings;
  /** Express's `trust proxy`: which proxies' X-Forwarded-For sets `req.ip` (per-address limits use it). */
  trustProxy: TrustProxy;
  tokens: JoinTokenService;
  metrics: Metrics;
  metricsAccess: MetricsAccess;
  isReady: () => boolean;
  log: Logger;
  /** Feature routers (accreditation, ...), mounted before the generic JSON parser. */
  routers: Router[];
}

const devTokenBody = z
  .object({
    name: z.string().trim().min(1).max(64),
    room: z.string().trim().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash and underscore; at most 64'),
  })
  .strict();

export function createHttpApp(deps: HttpAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  // The pages fetch the provider's discovery document and token endpoint themselves.
  app.use(securityHeadersFor(deps.oidc ? [new URL(deps.oidc.issuer).origin] : []));
  for (const router of deps.routers) app.use(router);
  app.use(express.json({ limit: '16kb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = deps.isReady();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready' });
  });
  app.get('/metrics', mainPortMetrics(deps.metrics, deps.metricsAccess));

  app.get('/api/config', (_req, res) => {
    // Only what a browser needs to start a sign-in: no secret is part of a public client's settings.
    res.json({ devMode: deps.devMode, embeddedSignIn: deps.embeddedSignIn, ...(deps.oidc && { oidc: deps.oidc }) });
  });

  // Dev mode only: a join token for any name. The accreditation flow replaces it everywhere else.
  app.post('/dev/token', (req, res) => {
    if (!deps.devMode) return sendError(res, ErrorCode.ROUTE_NOT_FOUND, 'not found');
    const body = devTokenBody.safeParse(req.body);
    if (!body.success) {
      return sendError(res, ErrorCode.BAD_REQUEST, body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    }
    const person = `dev-${randomUUID()}`;
    const token = deps.tokens.issue(person, {
      room: body.data.room,
      event: 'dev',
      person,
      name: body.data.name,
      role: 'delegate',
      entity: { name: 'Dev mode', type: 'other' },
      publish: { floor: true, booths: [], captions: false },
      subscribe: true,
      moderate: false,
      lobby: false,
      accreditation: { status: DEV_MODE_STATUS, source: 'none' },
    });
    res.json({ token });
  });

  app.use('/sdk', express.static(sdkBundleDir, { fallthrough: true }));
  app.use(webPagesRouter());
  app.use('/api/docs', express.static(openApiDir, { fallthrough: true }));
  // The SDK's plain-JavaScript example pages (no build step), also used by the media tests.
  app.use('/demo', express.static(demoDir, { index: 'index.html' }));

  app.use((_req, res) => sendError(res, ErrorCode.ROUTE_NOT_FOUND, 'not found'));
  // Body-parser errors (bad JSON, too large) and anything else: a code, never a stack trace.
  app.use((error: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (error.type === 'entity.too.large') return sendError(res, ErrorCode.PAYLOAD_TOO_LARGE, 'the body is too large');
    if (error.status && error.status >= 400 && error.status < 500) return sendError(res, ErrorCode.BAD_REQUEST, 'the body is not valid JSON');
    // The system of record cannot answer (down, restarting, failing over): worth a retry, and its error text
    // (SQLSTATE, tables, addresses) stays in the log.
    if (isTransient(error)) {
      deps.log.warn({ err: error.message }, 'the database did not answer a request');
      return sendError(res, ErrorCode.UNAVAILABLE, 'the service is briefly unavailable; try again shortly');
    }
    deps.log.error({ err: error }, 'http request failed');
    sendError(res, ErrorCode.INTERNAL, 'internal error');
  });
  return app;
}

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { ErrorCode } from '../../protocol/errors.js';
import type { Metrics } from '../metrics.js';
import { sendError } from './http-errors.js';
import { bearer, sameSecret } from './secretariat-auth.js';
import { securityHeaders } from './security-headers.js';

/**
 * Where /metrics is served and who may read it:
 * - `PLENUM_METRICS_PORT` set: on its own listener (`PLENUM_METRICS_HOST`, loopback by default), not on the
 *   main port; with `PLENUM_METRICS_TOKEN` too, the token is required there as well;
 * - else `PLENUM_METRICS_TOKEN` set: on the main port, with `Authorization: Bearer <token>`;
 * - else: on the main port only when the server itself is bound to a loopback address (nothing outside the
 *   host can reach it); otherwise refused, saying what to configure.
 */
export interface MetricsAccess {
  token?: string;
  separateListener: boolean;
  /** Bound to loopback and not behind a proxy (a local proxy would publish a loopback port to everyone). */
  mainHostIsLoopback: boolean;
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function serveMetrics(metrics: Metrics, token: string | undefined): RequestHandler {
  return (req: Request, res: Response) => {
    const given = bearer(req);
    if (token && (!given || !sameSecret(given, token))) return sendError(res, ErrorCode.UNAUTHENTICATED, 'the metrics token is required (Authorization: Bearer)');
    res.setHeader('Content-Type', metrics.registry.contentType);
    metrics.registry.metrics().then(
      (text) => res.send(text),
      () => sendError(res, ErrorCode.INTERNAL, 'internal error'),
    );
  };
}

/** The /metrics handler of the main port, following `access`. */
export function mainPortMetrics(metrics: Metrics, access: MetricsAccess): RequestHandler {
  if (access.separateListener) return (_req, res) => sendError(res, ErrorCode.ROUTE_NOT_FOUND, 'not found');
  if (access.token || access.mainHostIsLoopback) return serveMetrics(metrics, access.token);
  return (_req, res) =>
    sendError(res, ErrorCode.FORBIDDEN, 'metrics are not public: set PLENUM_METRICS_TOKEN, or PLENUM_METRICS_PORT for a separate listener');
}

/** /metrics on its own listener (PLENUM_METRICS_HOST:PLENUM_METRICS_PORT). */
export class MetricsListener {
  private constructor(private readonly server: Server) {}

  static async listen(metrics: Metrics, options: { host: string; port: number; token?: string }): Promise<MetricsListener> {
    const app = express();
    app.disable('x-powered-by');
    app.use(securityHeaders);
    app.get('/metrics', serveMetrics(metrics, options.token));
    app.use((_req, res) => sendError(res, ErrorCode.ROUTE_NOT_FOUND, 'not found'));
    const server = createServer(app);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new MetricsListener(server);
  }

  get url(): string {
    const a = this.server.address() as AddressInfo;
    const host = a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

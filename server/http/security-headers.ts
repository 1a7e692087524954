import type { NextFunction, Request, Response } from 'express';

/**
 * The pages load only their own scripts and styles (no inline code, no eval), cannot be framed, and send no
 * referrer. `connect-src` also allows other origins over http(s)/ws(s): in a cluster the SDK follows a
 * redirect to the node that serves the room, whose address is known only at run time.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self' http: https: ws: wss:",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The policy with `connectOrigins` named in connect-src (the OpenID provider's origin, from the configuration). */
export function contentSecurityPolicy(connectOrigins: readonly string[]): string {
  if (connectOrigins.length === 0) return CONTENT_SECURITY_POLICY;
  return CONTENT_SECURITY_POLICY.replace("connect-src 'self'", `connect-src 'self' ${connectOrigins.join(' ')}`);
}

export function securityHeadersFor(connectOrigins: readonly string[]): (req: Request, res: Response, next: NextFunction) => void {
  const policy = contentSecurityPolicy(connectOrigins);
  return (_req, res, next) => {
    res.setHeader('Content-Security-Policy', policy);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY'); // for browsers without frame-ancestors
    next();
  };
}

export const securityHeaders = securityHeadersFor([]);

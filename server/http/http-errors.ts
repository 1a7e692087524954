import type { NextFunction, Request, Response } from 'express';
import type { z } from 'zod';
import { ErrorCode, ProtocolError, type ErrorBody } from '../../protocol/errors.js';
import { isTransient } from '../../store/transient.js';
import type { Logger } from '../logger.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  BAD_REQUEST: 400,
  CSV_INVALID: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_ACCREDITED: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  DOCUMENT_TOO_LARGE: 413,
  DOCUMENT_TYPE_REFUSED: 415,
  RATE_LIMITED: 429,
  LIMIT_REACHED: 429,
  NOT_SUPPORTED: 501,
  INVALID_TRANSITION: 409,
  EMAIL_IN_USE: 409,
  ID_IN_USE: 409,
  INVALID_STATE: 409,
  BOOTH_OCCUPIED: 409,
  RECORDING_ACTIVE: 409,
  RECORDING_NOT_ACTIVE: 409,
  UNAVAILABLE: 503,
};

export function sendError(res: Response, code: ErrorCode, message: string, extra: Record<string, unknown> = {}): void {
  res.status(STATUS[code] ?? 500).json({ error: { code, message } satisfies ErrorBody, ...extra });
}

/** At most this much of a path or message per problem: issues can quote what the client sent (unknown keys). */
const MAX_ISSUE_CHARS = 120;
const clip = (s: string): string => (s.length > MAX_ISSUE_CHARS ? `${s.slice(0, MAX_ISSUE_CHARS)}…` : s);

/** Parses a body or query against a schema, or throws BAD_REQUEST naming the first problems (bounded). */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ProtocolError(ErrorCode.BAD_REQUEST, parsed.error.issues.slice(0, 3).map((i) => `${clip(i.path.join('.')) || '(body)'}: ${clip(i.message)}`).join('; '));
  }
  return parsed.data;
}

/** Lets async handlers throw: ProtocolErrors become their code, anything else goes to the error handler. */
export function route(handler: (req: Request, res: Response) => Promise<void> | void) {
  return (req: Request, res: Response, next: NextFunction): void => {
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((error: unknown) => {
        if (error instanceof ProtocolError) sendError(res, error.code, error.message);
        else next(error);
      });
  };
}

/**
 * The error handler of routers over the system of record: a ProtocolError as its code, a database that does
 * not answer as UNAVAILABLE (logged), a body the JSON parser refused as BAD_REQUEST or PAYLOAD_TOO_LARGE;
 * anything else goes on to the app's handler (500, no detail to the client). `what`: "the documents".
 */
export function answerStoreErrors(log: Logger, what: string) {
  return (error: unknown, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(error);
    if (error instanceof ProtocolError) return sendError(res, error.code, error.message);
    if (isTransient(error)) {
      log.warn({ err: (error as Error).message }, `the system of record did not answer a request for ${what}`);
      return sendError(res, ErrorCode.UNAVAILABLE, `${what} are unavailable; try again shortly`);
    }
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') return sendError(res, ErrorCode.PAYLOAD_TOO_LARGE, 'the body is too large');
    if (type !== undefined) return sendError(res, ErrorCode.BAD_REQUEST, 'the body is not valid JSON');
    next(error);
  };
}

import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { EVENT_ID_PATTERN, PERSON_ID_PATTERN, SESSION_ID_PATTERN } from '../../accreditation/ids.js';
import { ErrorCode } from '../../protocol/errors.js';
import { sendError } from './http-errors.js';

const PATTERNS: Record<string, RegExp> = {
  eventId: EVENT_ID_PATTERN,
  personId: PERSON_ID_PATTERN,
  sessionId: SESSION_ID_PATTERN,
  meetingId: SESSION_ID_PATTERN,
};

/** Whether a path parameter has its id format (the same formats the data is stored with). */
export function validId(name: keyof typeof PATTERNS, value: unknown): value is string {
  return typeof value === 'string' && PATTERNS[name]!.test(value);
}

/** BAD_REQUEST, before anything else runs, for a mounted path id without its format (a router's own `param` hooks do not see those). */
export function idFormats(names: Array<keyof typeof PATTERNS>): RequestHandler {
  return (req, res, next) => {
    const bad = names.find((name) => !validId(name, req.params[name]));
    if (bad) sendError(res, ErrorCode.BAD_REQUEST, `${bad}: not a valid id`);
    else next();
  };
}

/**
 * Refuses, with BAD_REQUEST and before any handler or lookup runs, a path whose ids do not have their
 * format. Only the router's own parameters trigger these (a mounted `:eventId` is checked by the auth).
 */
export function validateIdParams(router: Router): void {
  for (const name of Object.keys(PATTERNS)) {
    router.param(name, (_req: Request, res: Response, next: NextFunction, value: unknown) => {
      if (validId(name, value)) next();
      else sendError(res, ErrorCode.BAD_REQUEST, `${name}: not a valid id`);
    });
  }
}

import type { z } from 'zod';
import { ErrorCode, ProtocolError, type Ack, type ErrorBody } from '../../protocol/errors.js';
import { isRequestMethod, requestSchemas, type RequestData, type RequestMethod } from '../../protocol/signaling.js';
import { MediaLimitError, MediaNotFoundError, MediaStateError } from '../../media/index.js';
import type { Logger } from '../logger.js';
import type { RateLimiter } from './rate-limiter.js';

export type ValidRequest = { [M in RequestMethod]: { method: M; data: RequestData<M> } }[RequestMethod];

/**
 * Checks one inbound message before any handler sees it: rate, size, method, schema. Throws a
 * ProtocolError with a stable code; never lets a malformed message reach the media layer.
 */
export function admitRequest(method: string, payload: unknown, maxBytes: number, limiter: RateLimiter): ValidRequest {
  if (!limiter.tryTake()) throw new ProtocolError(ErrorCode.RATE_LIMITED, 'too many messages; slow down');
  // Sockets deliver at most socket.io's own buffer size; this is the tighter, per-message limit.
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(payload ?? null));
  } catch {
    throw new ProtocolError(ErrorCode.BAD_REQUEST, 'the message is not serialisable');
  }
  if (size > maxBytes) throw new ProtocolError(ErrorCode.PAYLOAD_TOO_LARGE, `the message is ${size} bytes; the limit is ${maxBytes}`);
  if (!isRequestMethod(method)) throw new ProtocolError(ErrorCode.UNKNOWN_METHOD, `unknown method "${method.slice(0, 64)}"`);
  const parsed = requestSchemas[method].safeParse(payload ?? {});
  if (!parsed.success) throw new ProtocolError(ErrorCode.BAD_REQUEST, describeIssues(method, parsed.error));
  return { method, data: parsed.data } as ValidRequest;
}

/** Each issue's text is cut short: zod quotes the received value (and unknown keys), which the sender chose. */
const MAX_ISSUE_CHARS = 160;

function describeIssues(method: string, error: z.ZodError): string {
  const first = error.issues.slice(0, 3).map((i) => clip(`${i.path.slice(0, 8).join('.') || '(message)'}: ${i.message}`));
  return `invalid ${method}: ${first.join('; ')}`;
}

function clip(text: string): string {
  return text.length > MAX_ISSUE_CHARS ? `${text.slice(0, MAX_ISSUE_CHARS)}…` : text;
}

/** Maps any failure to an answer safe to send: codes for known errors, a bare INTERNAL for the rest. */
export function toErrorBody(error: unknown, log: Logger, method: string): ErrorBody {
  if (error instanceof ProtocolError) return error.toBody();
  if (error instanceof MediaNotFoundError) return { code: ErrorCode.NOT_FOUND, message: error.message };
  if (error instanceof MediaLimitError) return { code: ErrorCode.LIMIT_REACHED, message: error.message };
  if (error instanceof MediaStateError) return { code: ErrorCode.INVALID_STATE, message: error.message };
  // mediasoup rejects bad RTP/DTLS parameters with TypeError; its messages name the field, not our internals.
  if (error instanceof TypeError && (error.stack ?? '').includes('mediasoup')) {
    return { code: ErrorCode.MEDIA_ERROR, message: error.message.slice(0, 200) };
  }
  log.error({ err: error, method }, 'signaling request failed');
  return { code: ErrorCode.INTERNAL, message: 'internal error' };
}

export function failure(error: ErrorBody): Ack<never> {
  return { ok: false, error };
}

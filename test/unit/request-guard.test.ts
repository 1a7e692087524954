import { describe, expect, it } from 'vitest';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import { MediaNotFoundError } from '../../media/index.js';
import { RateLimiter } from '../../server/signaling/rate-limiter.js';
import { admitRequest, toErrorBody } from '../../server/signaling/request-guard.js';
import { testLog } from '../helpers/media.js';

const roomy = (): RateLimiter => new RateLimiter(1000, 1000);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof ProtocolError ? error.code : 'not a ProtocolError';
  }
}

describe('admitRequest', () => {
  it('admits a valid request with its parsed data', () => {
    expect(admitRequest('createWebRtcTransport', { direction: 'recv' }, 1024, roomy())).toEqual({
      method: 'createWebRtcTransport',
      data: { direction: 'recv' },
    });
  });

  it('checks rate first, then size, then method, then schema', () => {
    const empty = new RateLimiter(0.001, 1);
    empty.tryTake();
    expect(codeOf(() => admitRequest('leave', {}, 1024, empty))).toBe(ErrorCode.RATE_LIMITED);
    expect(codeOf(() => admitRequest('nope', 'x'.repeat(2000), 1024, roomy()))).toBe(ErrorCode.PAYLOAD_TOO_LARGE);
    expect(codeOf(() => admitRequest('nope', {}, 1024, roomy()))).toBe(ErrorCode.UNKNOWN_METHOD);
    expect(codeOf(() => admitRequest('toString', {}, 1024, roomy()))).toBe(ErrorCode.UNKNOWN_METHOD);
    expect(codeOf(() => admitRequest('leave', { x: 1 }, 1024, roomy()))).toBe(ErrorCode.BAD_REQUEST);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(codeOf(() => admitRequest('leave', circular, 1024, roomy()))).toBe(ErrorCode.BAD_REQUEST);
  });
});

describe('toErrorBody', () => {
  it('keeps codes of known errors and hides everything else behind INTERNAL', () => {
    expect(toErrorBody(new ProtocolError(ErrorCode.FORBIDDEN, 'no'), testLog, 'm')).toEqual({ code: 'FORBIDDEN', message: 'no' });
    expect(toErrorBody(new MediaNotFoundError('no producer p'), testLog, 'm').code).toBe(ErrorCode.NOT_FOUND);
    const hidden = toErrorBody(new Error('database password is hunter2'), testLog, 'm');
    expect(hidden).toEqual({ code: ErrorCode.INTERNAL, message: 'internal error' });
  });
});

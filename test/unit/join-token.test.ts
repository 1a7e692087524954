import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import { JoinTokenService, type JoinGrants } from '../../server/auth/join-token.js';
import { grants as testGrants } from '../helpers/grants.js';

const secret = 'a-test-secret-that-is-long-enough-0123456789';
const grants: JoinGrants = testGrants({ room: 'r1', name: 'Ana' });

function refusal(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
  return undefined;
}

describe('JoinTokenService', () => {
  const service = new JoinTokenService(secret, 60);

  it('round-trips grants, subject and a unique jti', () => {
    const a = service.verify(service.issue('p1', grants));
    const b = service.verify(service.issue('p1', grants));
    expect(a.grants).toEqual(grants);
    expect(a.subject).toBe('p1');
    expect(a.jti).not.toBe(b.jti);
  });

  it('refuses a token signed with another secret, alg none, expired, wrong audience, or without grants', () => {
    const other = new JoinTokenService('another-secret-that-is-long-enough-0123456', 60).issue('p1', grants);
    const none = jwt.sign({ grants, sub: 'p1', jti: 'x', iss: 'plenum', aud: 'plenum-join' }, '', { algorithm: 'none' });
    const expired = jwt.sign({ grants, sub: 'p1', jti: 'x', iss: 'plenum', aud: 'plenum-join', exp: Math.floor(Date.now() / 1000) - 10 }, secret);
    const wrongAudience = jwt.sign({ grants, sub: 'p1', jti: 'x', iss: 'plenum', aud: 'elsewhere' }, secret, { expiresIn: 60 });
    const noGrants = jwt.sign({ sub: 'p1', jti: 'x', iss: 'plenum', aud: 'plenum-join' }, secret, { expiresIn: 60 });
    const badGrants = jwt.sign({ grants: { ...grants, subscribe: 'yes' }, sub: 'p1', jti: 'x', iss: 'plenum', aud: 'plenum-join' }, secret, { expiresIn: 60 });
    for (const token of [other, none, expired, wrongAudience, noGrants, badGrants, '', 42, undefined, 'x'.repeat(10_000)]) {
      expect(refusal(() => service.verify(token))).toBe(ErrorCode.UNAUTHENTICATED);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { PinAttemptLimiter } from '../../accreditation/dial-in/pin-attempt-limiter.js';

/** A limiter on a clock the test moves. */
function limiter(maxFailures: number, windowMs: number) {
  const clock = { t: 1000 };
  return { clock, limit: new PinAttemptLimiter(maxFailures, windowMs, () => clock.t) };
}

describe('dial-in PIN attempt limiter', () => {
  it('refuses checks once a session has had its wrong PINs within the window, and per session only', () => {
    const { limit } = limiter(3, 60_000);
    for (let i = 0; i < 3; i++) {
      expect(limit.begin('s1')).toBe(true);
      limit.end('s1', true);
    }
    expect(limit.failures('s1')).toBe(3);
    expect(limit.begin('s1')).toBe(false);
    expect(limit.begin('s2')).toBe(true);
  });

  it('does not count right PINs', () => {
    const { limit } = limiter(2, 60_000);
    for (let i = 0; i < 10; i++) {
      expect(limit.begin('s')).toBe(true);
      limit.end('s', false);
    }
    expect(limit.failures('s')).toBe(0);
  });

  it('counts checks under way against the limit, so parallel calls cannot overshoot it', () => {
    const { limit } = limiter(2, 60_000);
    expect(limit.begin('s')).toBe(true);
    expect(limit.begin('s')).toBe(true);
    expect(limit.begin('s')).toBe(false);
    // One turned out right: its slot is free again.
    limit.end('s', false);
    expect(limit.begin('s')).toBe(true);
  });

  it('opens again once the oldest failure leaves the sliding window', () => {
    const { clock, limit } = limiter(2, 10_000);
    limit.begin('s');
    limit.end('s', true);
    clock.t += 4000;
    limit.begin('s');
    limit.end('s', true);
    expect(limit.begin('s')).toBe(false);
    clock.t += 6000; // the first failure is now exactly one window old
    expect(limit.failures('s')).toBe(1);
    expect(limit.begin('s')).toBe(true);
    limit.end('s', true);
    expect(limit.begin('s')).toBe(false);
  });

  it('rejects a meaningless configuration', () => {
    expect(() => new PinAttemptLimiter(0, 1000)).toThrow(RangeError);
    expect(() => new PinAttemptLimiter(3, 0)).toThrow(RangeError);
  });
});

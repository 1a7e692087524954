import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../server/signaling/rate-limiter.js';

describe('RateLimiter', () => {
  it('allows a burst, refuses beyond it, and refills at the configured rate', () => {
    let now = 0;
    const limiter = new RateLimiter(10, 5, () => now);
    expect(Array.from({ length: 7 }, () => limiter.tryTake())).toEqual([true, true, true, true, true, false, false]);
    now += 100; // 10/s for 0.1 s: one token
    expect(limiter.tryTake()).toBe(true);
    expect(limiter.tryTake()).toBe(false);
    now += 10_000; // never more than the burst
    expect(Array.from({ length: 6 }, () => limiter.tryTake()).filter(Boolean)).toHaveLength(5);
  });
});

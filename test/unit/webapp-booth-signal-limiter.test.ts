import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../protocol/errors.js';
import { BoothSignalLimiter } from '../../server/interpretation/booth-signals.js';

// The booths' "slow down" / "repeat" lamps: one per booth and kind per interval, on a clock the test moves.
describe('BoothSignalLimiter', () => {
  it('lets each booth light each lamp once per interval, and again once it has passed', () => {
    let now = 1_000;
    const limiter = new BoothSignalLimiter(5_000, () => now);
    limiter.take('fr', 'slow_down');
    const refused = (() => {
      try {
        limiter.take('fr', 'slow_down');
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(ProtocolError);
    expect((refused as ProtocolError).code).toBe('RATE_LIMITED');
    expect((refused as ProtocolError).message).toContain('5 s');
    // Another lamp, another booth: independent.
    expect(() => limiter.take('fr', 'repeat')).not.toThrow();
    expect(() => limiter.take('es', 'slow_down')).not.toThrow();
    now += 4_999;
    expect(() => limiter.take('fr', 'slow_down')).toThrow(ProtocolError);
    now += 1;
    expect(() => limiter.take('fr', 'slow_down')).not.toThrow();
    // A refusal does not restart the interval: the lamp lit at 6 000 is free again at 11 000.
    now += 4_000;
    expect(() => limiter.take('fr', 'slow_down')).toThrow(ProtocolError);
    now += 1_000;
    expect(() => limiter.take('fr', 'slow_down')).not.toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { DialInPinHasher, generatePin, PIN_MAX_LENGTH, PIN_MIN_LENGTH, PIN_PATTERN } from '../../accreditation/dial-in/pin-hasher.js';

const SECRET = 'a-dial-in-secret-of-at-least-32-characters';

describe('dial-in PIN hashing', () => {
  it('gives one PIN in one event one hash, and a different one in another event or under another secret', () => {
    const hasher = new DialInPinHasher(SECRET);
    const hash = hasher.digest('event-a', '12345678');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hasher.digest('event-a', '12345678')).toBe(hash);
    expect(new DialInPinHasher(SECRET).digest('event-a', '12345678')).toBe(hash);
    expect(hasher.digest('event-b', '12345678')).not.toBe(hash);
    expect(hasher.digest('event-a', '12345679')).not.toBe(hash);
    expect(new DialInPinHasher(`${SECRET}!`).digest('event-a', '12345678')).not.toBe(hash);
    // The event and the PIN cannot be shifted into each other.
    expect(hasher.digest('event-a1', '2345678')).not.toBe(hasher.digest('event-a', '12345678'));
  });

  it('refuses a short secret', () => {
    expect(() => new DialInPinHasher('too-short')).toThrow();
  });
});

describe('dial-in PIN generation', () => {
  it('draws PINs of the asked length, digits only, leading zeros kept', () => {
    for (let length = PIN_MIN_LENGTH; length <= PIN_MAX_LENGTH; length++) {
      for (let i = 0; i < 50; i++) {
        const pin = generatePin(length);
        expect(pin).toHaveLength(length);
        expect(pin).toMatch(PIN_PATTERN);
      }
    }
    expect(() => generatePin(PIN_MIN_LENGTH - 1)).toThrow(RangeError);
    expect(() => generatePin(PIN_MAX_LENGTH + 1)).toThrow(RangeError);
  });

  it('uses every digit in every position (uniform draws)', () => {
    const seen = Array.from({ length: 8 }, () => new Set<string>());
    for (let i = 0; i < 2000; i++) [...generatePin(8)].forEach((d, p) => seen[p]!.add(d));
    for (const digits of seen) expect(digits.size).toBe(10);
    const pins = new Set(Array.from({ length: 2000 }, () => generatePin(8)));
    expect(pins.size).toBeGreaterThan(1990);
  });
});

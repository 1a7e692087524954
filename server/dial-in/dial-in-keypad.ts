// The caller's keypad: what a key means once they are in the meeting, and how a PIN is collected. Pure, so
// the grammar is tested without a phone.

/** What a key does in the meeting: 0 the floor, 1 to 9 a language by its place, star the floor, hash the menu. */
export type KeypadAction = { kind: 'listen'; channel: string } | { kind: 'floor' } | { kind: 'menu' } | { kind: 'none' };

export function keypadAction(key: string, languages: readonly string[]): KeypadAction {
  if (key === '*') return { kind: 'floor' };
  if (key === '#') return { kind: 'menu' };
  if (key === '0') return { kind: 'listen', channel: 'floor' };
  if (/^[1-9]$/.test(key)) {
    const language = languages[Number(key) - 1];
    return language ? { kind: 'listen', channel: language } : { kind: 'none' };
  }
  return { kind: 'none' };
}

/**
 * Collects one PIN: digits until the hash key. Star clears what was keyed (a caller who slipped starts
 * again). Longer than `maxLength` is still collected to the hash, then refused as wrong, so the length
 * of a real PIN is not given away.
 */
export class PinCollector {
  private digits = '';
  private overflow = false;

  constructor(private readonly maxLength: number) {}

  /** A key; returns the PIN when the hash key ends it (empty string: nothing keyed), else undefined. */
  push(key: string): string | undefined {
    if (key === '#') {
      const pin = this.overflow ? 'x' : this.digits;
      this.digits = '';
      this.overflow = false;
      return pin;
    }
    if (key === '*') {
      this.digits = '';
      this.overflow = false;
    } else if (/^[0-9]$/.test(key)) {
      if (this.digits.length >= this.maxLength) this.overflow = true;
      else this.digits += key;
    }
    return undefined;
  }

  get keyed(): number {
    return this.digits.length;
  }
}

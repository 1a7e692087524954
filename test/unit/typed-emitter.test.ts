import { describe, expect, it } from 'vitest';
import { TypedEmitter } from '../../client-sdk/src/typed-emitter.js';

class Emitter extends TypedEmitter<{ n: number }> {
  fire(n: number): void {
    this.emit('n', n);
  }
}

describe('TypedEmitter (SDK)', () => {
  it('delivers to listeners, honours once() and off()', () => {
    const e = new Emitter();
    const all: number[] = [];
    const first: number[] = [];
    const off = e.on('n', (n) => all.push(n));
    e.once('n', (n) => first.push(n));
    e.fire(1);
    e.fire(2);
    off();
    e.fire(3);
    expect(all).toEqual([1, 2]);
    expect(first).toEqual([1]);
  });
});

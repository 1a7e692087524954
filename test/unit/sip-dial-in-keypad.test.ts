import { describe, expect, it } from 'vitest';
import { keypadAction, PinCollector } from '../../server/dial-in/dial-in-keypad.js';
import { prompts, spokenLanguage } from '../../server/dial-in/dial-in-prompts.js';
import { DigitQueue } from '../../server/dial-in/digit-queue.js';

describe('dial-in keypad', () => {
  const languages = ['en', 'fr', 'es'];

  it('maps 0 to the floor, 1..n to the session languages in order, star to the floor, hash to the menu', () => {
    expect(keypadAction('0', languages)).toEqual({ kind: 'listen', channel: 'floor' });
    expect(keypadAction('2', languages)).toEqual({ kind: 'listen', channel: 'fr' });
    expect(keypadAction('4', languages)).toEqual({ kind: 'none' });
    expect(keypadAction('*', languages)).toEqual({ kind: 'floor' });
    expect(keypadAction('#', languages)).toEqual({ kind: 'menu' });
    expect(keypadAction('A', languages)).toEqual({ kind: 'none' });
  });

  it('collects a PIN to the hash key; star starts again; an overlong PIN is collected and spoiled', () => {
    const pin = new PinCollector(8);
    for (const k of '12*3456') expect(pin.push(k)).toBeUndefined();
    expect(pin.push('#')).toBe('3456');
    for (const k of '123456789') pin.push(k);
    expect(pin.push('#')).toBe('x');
    expect(pin.push('#')).toBe('');
  });

  it('the menu names each language with its key, and says what star does on each kind of floor', () => {
    expect(spokenLanguage('fr')).toBe('French');
    const menu = prompts.menu(languages, true);
    expect(menu).toContain('For French, press 2.');
    expect(menu).toContain('ask for the floor, press star');
    expect(prompts.menu([], false)).toContain('microphone on or off, press star');
  });
});

describe('digit queue', () => {
  it('keeps keys typed ahead, hands them over in order, and times out when none come', async () => {
    const q = new DigitQueue(2);
    q.push('1');
    q.push('2');
    q.push('3'); // beyond the bound: dropped
    expect(await q.next(10)).toBe('1');
    expect(await q.next(10)).toBe('2');
    expect(await q.next(10)).toBeUndefined();
    const waiting = q.next(10_000);
    q.push('9');
    expect(await waiting).toBe('9');
    const cancelled = q.next(10_000);
    q.cancel();
    expect(await cancelled).toBeUndefined();
  });
});

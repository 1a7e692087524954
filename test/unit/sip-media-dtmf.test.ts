import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DtmfDecoder, parseTelephoneEvent, telephoneEventPayload } from '../../server/dial-in/media/rfc4733-dtmf.js';

/** The packets a phone sends for one key press: start, updates every 20 ms, then the end three times. */
function keyPress(event: number, updates: number, step = 160): Buffer[] {
  const packets: Buffer[] = [];
  for (let i = 1; i <= updates; i++) packets.push(telephoneEventPayload({ event, end: false, duration: i * step }));
  for (let i = 0; i < 3; i++) packets.push(telephoneEventPayload({ event, end: true, duration: (updates + 1) * step }));
  return packets;
}

describe('RFC 4733 telephone-event payloads', () => {
  it('parses the four bytes and refuses any other length', () => {
    expect(parseTelephoneEvent(Buffer.from([11, 0x8a, 0x03, 0x20]))).toEqual({ event: 11, end: true, volume: 10, duration: 800 });
    expect(parseTelephoneEvent(Buffer.from([1, 0x0a, 0x00]))).toBeUndefined();
    expect(parseTelephoneEvent(Buffer.from([1, 0x0a, 0x00, 0xa0, 0]))).toBeUndefined();
  });
});

describe('DtmfDecoder', () => {
  it('reports each key once, with its duration, despite the redundant end packets', () => {
    const decoder = new DtmfDecoder(8000);
    const digits = keyPress(1, 5).flatMap((p) => decoder.push(1000, p));
    expect(digits).toEqual([{ digit: '1', durationMs: 120, timestamp: 1000 }]);
  });

  it('ignores late retransmissions of an ended event, and reports the same key pressed again', () => {
    const decoder = new DtmfDecoder(8000);
    const first = keyPress(11, 3);
    const out = [...first, first[first.length - 1]!].flatMap((p) => decoder.push(5000, p));
    out.push(...keyPress(11, 3).flatMap((p) => decoder.push(9000, p)));
    out.push(...decoder.push(5000, first[0]!));
    expect(out.map((d) => d.digit)).toEqual(['#', '#']);
  });

  it('maps the sixteen event codes to 0-9 * # A-D, and ignores other events', () => {
    const decoder = new DtmfDecoder();
    const out = [];
    for (let event = 0; event < 20; event++) out.push(...keyPress(event, 1).flatMap((p) => decoder.push(event * 1000, p)));
    expect(out.map((d) => d.digit).join('')).toBe('0123456789*#ABCD');
  });

  it('reports a key whose end packets were all lost when the next one starts, or on flush()', () => {
    const decoder = new DtmfDecoder();
    const out = keyPress(5, 4).slice(0, 4).flatMap((p) => decoder.push(2000, p));
    expect(out).toEqual([]);
    out.push(...keyPress(6, 2).flatMap((p) => decoder.push(3000, p)));
    expect(out.map((d) => [d.digit, d.durationMs])).toEqual([['5', 80], ['6', 60]]);
    expect(decoder.flush()).toBeUndefined();
    decoder.push(4000, telephoneEventPayload({ event: 7, end: false, duration: 160 }));
    expect(decoder.flush()).toMatchObject({ digit: '7', durationMs: 20 });
  });

  it('uses the negotiated clock rate for the duration', () => {
    const decoder = new DtmfDecoder(48000);
    expect(keyPress(9, 4, 960).flatMap((p) => decoder.push(77, p))).toMatchObject([{ digit: '9', durationMs: 100 }]);
  });

  it('does not trust a packet that changes the key within one event', () => {
    const decoder = new DtmfDecoder();
    decoder.push(100, telephoneEventPayload({ event: 3, end: false, duration: 160 }));
    expect(decoder.push(100, telephoneEventPayload({ event: 4, end: true, duration: 320 }))).toEqual([]);
    expect(decoder.push(100, telephoneEventPayload({ event: 3, end: true, duration: 320 }))).toMatchObject([{ digit: '3' }]);
  });

  it('never throws on arbitrary payloads and only ever reports keypad digits', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ maxLength: 8 })), { maxLength: 60 }), (packets) => {
        const decoder = new DtmfDecoder();
        for (const [ts, bytes] of packets) {
          for (const d of decoder.push(ts, Buffer.from(bytes))) expect('0123456789*#ABCD').toContain(d.digit);
        }
      }),
    );
  });
});

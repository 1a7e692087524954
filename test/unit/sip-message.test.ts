import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  getHeader,
  getHeaderValues,
  parseNameAddr,
  parseSipMessage,
  parseSipUri,
  parseVia,
  serializeSipMessage,
  type SipMessage,
} from '../../server/dial-in/sip/sip-message.js';
import { SipStreamFramer } from '../../server/dial-in/sip/sip-stream-framer.js';

const INVITE = [
  'INVITE sip:4711@gw.example.org SIP/2.0',
  'v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport, SIP/2.0/TCP proxy.example.org;branch=z9hG4bK0',
  'Via: SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bKa',
  'Max-Forwards: 70',
  'f: "Doe, Jane" <sip:jane@example.org>;tag=88',
  't: <sip:4711@gw.example.org>',
  'i: abc@10.0.0.1',
  'CSeq: 2 INVITE',
  'm: <sip:jane@10.0.0.1:5060;transport=udp>',
  'Record-Route: <sip:p1.example.org;lr>, <sip:p2.example.org;lr>',
  'X-Folded: one',
  '  two',
  'c: application/sdp',
  'l: 4',
  '',
  'v=0\r\nextra bytes beyond Content-Length',
].join('\r\n');

function parse(text: string | Buffer): SipMessage {
  const result = parseSipMessage(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.detail}`);
  return result.message;
}

describe('SIP message parser', () => {
  it('parses a request: compact forms, multi-value Via across lines, folding, body cut by Content-Length', () => {
    const message = parse(INVITE);
    expect(message.kind).toBe('request');
    if (message.kind !== 'request') return;
    expect(message.method).toBe('INVITE');
    expect(message.uri).toBe('sip:4711@gw.example.org');
    expect(getHeader(message, 'call-id')).toBe('abc@10.0.0.1');
    expect(getHeader(message, 'Content-Type')).toBe('application/sdp');
    expect(getHeaderValues(message, 'via')).toHaveLength(3);
    expect(parseVia(getHeaderValues(message, 'via')[2]!)).toMatchObject({ transport: 'UDP', host: '2001:db8::1', port: 5070 });
    const top = parseVia(getHeader(message, 'via')!);
    expect(top?.params.get('branch')).toBe('z9hG4bK1');
    expect(top?.params.has('rport')).toBe(true);
    expect(getHeaderValues(message, 'record-route')).toEqual(['<sip:p1.example.org;lr>', '<sip:p2.example.org;lr>']);
    expect(getHeader(message, 'x-folded')).toBe('one two');
    const from = parseNameAddr(getHeader(message, 'from')!);
    expect(from?.displayName).toBe('Doe, Jane');
    expect(from?.params.get('tag')).toBe('88');
    expect(parseSipUri(from!.uri)).toMatchObject({ scheme: 'sip', user: 'jane', host: 'example.org' });
    expect(message.body.toString()).toBe('v=0\r');
  });

  it('round-trips through serialize', () => {
    const message = parse(INVITE);
    const again = parse(serializeSipMessage(message));
    expect(again).toEqual(message);
  });

  it('parses a response', () => {
    const message = parse('SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nContent-Length: 0\r\n\r\n');
    expect(message).toMatchObject({ kind: 'response', status: 180, reason: 'Ringing' });
  });

  it.each([
    ['too large', `OPTIONS sip:a SIP/2.0\r\nX: ${'a'.repeat(17_000)}\r\n\r\n`, 'TOO_LARGE'],
    ['too many headers', `SIP/2.0 200 OK\r\n${'X-A: 1\r\n'.repeat(65)}\r\n`, 'TOO_MANY_HEADERS'],
    ['no end of headers', 'SIP/2.0 200 OK\r\nVia: x', 'BAD_HEADER'],
    ['header without colon', 'SIP/2.0 200 OK\r\nnonsense\r\n\r\n', 'BAD_HEADER'],
    ['bad start line', 'HELLO\r\nVia: x\r\n\r\n', 'BAD_START_LINE'],
    ['status out of range', 'SIP/2.0 999 Nope\r\n\r\n', 'BAD_START_LINE'],
    ['negative Content-Length', 'SIP/2.0 200 OK\r\nContent-Length: -1\r\n\r\n', 'BAD_CONTENT_LENGTH'],
    ['huge Content-Length', 'SIP/2.0 200 OK\r\nContent-Length: 99999999999\r\n\r\n', 'BAD_CONTENT_LENGTH'],
    ['body shorter than Content-Length', 'SIP/2.0 200 OK\r\nl: 10\r\n\r\nabc', 'TRUNCATED_BODY'],
    ['request without Call-ID', 'BYE sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a>\r\nTo: <sip:b>\r\nCSeq: 1 BYE\r\n\r\n', 'MISSING_HEADER'],
    ['CSeq method mismatch', 'BYE sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a>\r\nTo: <sip:b>\r\nCall-ID: 1\r\nCSeq: 1 INVITE\r\n\r\n', 'BAD_HEADER'],
  ])('refuses %s', (_name, text, code) => {
    const result = parseSipMessage(Buffer.from(text, 'latin1'));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe(code);
  });

  it('never throws on arbitrary bytes or mutated messages (fuzz)', () => {
    const base = Buffer.from(INVITE, 'latin1');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        parseSipMessage(Buffer.from(bytes));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }), (edits) => {
        const copy = Buffer.from(base);
        for (const [at, value] of edits) copy[at] = value;
        const result = parseSipMessage(copy);
        if (result.ok) {
          // Whatever parses must serialize and parse again.
          expect(parseSipMessage(serializeSipMessage(result.message)).ok).toBe(true);
          for (const via of getHeaderValues(result.message, 'via')) parseVia(via);
          parseNameAddr(getHeader(result.message, 'from') ?? '');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('SIP header value parsers', () => {
  it('parse URIs, Via and name-addr, and refuse junk without throwing (fuzz)', () => {
    expect(parseSipUri('sip:alice@[2001:db8::1]:5070;transport=tcp?subject=x')).toMatchObject({ user: 'alice', host: '2001:db8::1', port: 5070 });
    expect(parseSipUri('sip:alice@h:99999')).toBeUndefined();
    expect(parseSipUri(`sip:${'a'.repeat(2000)}`)).toBeUndefined();
    expect(parseVia('SIP/2.0/TCP h:0;branch=z')).toBeUndefined();
    expect(parseNameAddr('<sip:unterminated')).toBeUndefined();
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        parseSipUri(text);
        parseVia(text);
        parseNameAddr(text);
      }),
      { numRuns: 3000 },
    );
  });

  it('stay linear on pathological input (no catastrophic backtracking)', () => {
    const long = `sip:${'a'.repeat(1000)}? x`;
    expect(parseSipUri(long)).toBeUndefined();
    expect(parseVia(`SIP/2.0/UDP ${'a'.repeat(1000)};b\nb`)).toBeUndefined();
  });
});

describe('SIP stream framer (TCP)', () => {
  const message = 'OPTIONS sip:a SIP/2.0\r\nContent-Length: 3\r\n\r\nabc';

  it('cuts messages by Content-Length across arbitrary chunk boundaries, answering CRLF pings', () => {
    const stream = Buffer.from(`\r\n\r\n${message}${message}\r\n${message}`);
    for (let cut = 1; cut < stream.length; cut += 7) {
      const framer = new SipStreamFramer(16_384);
      const out = [...framer.push(stream.subarray(0, cut)), ...framer.push(stream.subarray(cut))];
      expect(out.filter((o) => o.kind === 'message').map((o) => (o.kind === 'message' ? o.data.toString() : ''))).toEqual([message, message, message]);
      expect(out.filter((o) => o.kind === 'ping')).toHaveLength(1);
    }
  });

  it('fails on a missing Content-Length, an over-long header block or an over-large body', () => {
    expect(new SipStreamFramer(1000).push(Buffer.from('OPTIONS sip:a SIP/2.0\r\n\r\n'))).toEqual([{ kind: 'error', detail: 'missing or bad Content-Length' }]);
    expect(new SipStreamFramer(1000).push(Buffer.alloc(1001, 0x41))[0]?.kind).toBe('error');
    expect(new SipStreamFramer(1000).push(Buffer.from('SIP/2.0 200 OK\r\nl: 5000\r\n\r\n'))[0]?.kind).toBe('error');
  });
});

import { describe, expect, it } from 'vitest';
import { buildAnswer, negotiate, parseSdp } from '../../server/dial-in/sip/sdp.js';

function offer(lines: string[]): string {
  return `${['v=0', 'o=- 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', ...lines].join('\r\n')}\r\n`;
}

const FULL = offer([
  'm=audio 40000 RTP/AVP 96 0 8 101 102',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 useinbandfec=1',
  'a=rtpmap:101 telephone-event/48000',
  'a=rtpmap:102 telephone-event/8000',
  'a=fmtp:102 0-16',
  'a=ptime:20',
  'm=video 40002 RTP/AVP 97',
  'a=rtpmap:97 VP8/90000',
]);

describe('SDP negotiation', () => {
  it('picks the first codec of the preference list the offer has, with the telephone-event of its clock rate', () => {
    const parsed = parseSdp(FULL)!;
    expect(negotiate(parsed)).toMatchObject({
      codec: { name: 'opus', payloadType: 96, clockRate: 48000 },
      dtmf: { payloadType: 101, clockRate: 48000 },
      remoteRtp: { address: '192.0.2.10', port: 40000 },
    });
    expect(negotiate(parsed, ['PCMA', 'PCMU'])).toMatchObject({ codec: { name: 'PCMA', payloadType: 8, clockRate: 8000 }, dtmf: { payloadType: 102, clockRate: 8000 } });
    expect(negotiate(parsed, ['PCMU'])).toMatchObject({ codec: { name: 'PCMU', payloadType: 0 } });
  });

  it('uses telephone-event/8000 next to Opus when that is all the phone offers', () => {
    const parsed = parseSdp(offer(['m=audio 4000 RTP/AVP 96 101', 'a=rtpmap:96 opus/48000/2', 'a=rtpmap:101 telephone-event/8000']))!;
    expect(negotiate(parsed)?.dtmf).toEqual({ payloadType: 101, clockRate: 8000 });
  });

  it('builds an answer: one sendrecv audio stream at our address, other streams refused with port 0', () => {
    const negotiation = negotiate(parseSdp(FULL)!)!;
    const answer = buildAnswer(negotiation, { localRtp: { address: '198.51.100.5', port: 30000 }, sessionId: '42', sessionVersion: 1 });
    expect(answer.split('\r\n')).toEqual([
      'v=0',
      'o=plenum 42 1 IN IP4 198.51.100.5',
      's=plenum',
      'c=IN IP4 198.51.100.5',
      't=0 0',
      'm=audio 30000 RTP/AVP 96 101',
      'a=rtpmap:96 opus/48000/2',
      'a=fmtp:96 useinbandfec=1',
      'a=rtpmap:101 telephone-event/48000',
      'a=fmtp:101 0-15',
      'a=ptime:20',
      'a=sendrecv',
      'm=video 0 RTP/AVP 97',
      '',
    ]);
    // The answer is itself valid SDP that negotiates the same codec.
    expect(negotiate(parseSdp(answer)!)?.codec.name).toBe('opus');
  });

  it('answers G.711 without DTMF when the offer has no telephone-event', () => {
    const parsed = parseSdp(offer(['m=audio 4000 RTP/AVP 0']))!;
    const negotiation = negotiate(parsed)!;
    expect(negotiation.dtmf).toBeUndefined();
    const answer = buildAnswer(negotiation, { localRtp: { address: '::1', port: 5000 }, sessionId: '1', sessionVersion: 1 });
    expect(answer).toContain('c=IN IP6 ::1');
    expect(answer).toContain('m=audio 5000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20');
  });

  it('finds no common codec (488) for G.722 only, mono "opus", SRTP or a disabled stream', () => {
    expect(negotiate(parseSdp(offer(['m=audio 4000 RTP/AVP 9', 'a=rtpmap:9 G722/8000']))!)).toBeUndefined();
    expect(negotiate(parseSdp(offer(['m=audio 4000 RTP/AVP 96', 'a=rtpmap:96 opus/48000']))!)).toBeUndefined();
    expect(negotiate(parseSdp(offer(['m=audio 4000 RTP/SAVP 0']))!)).toBeUndefined();
    expect(negotiate(parseSdp(offer(['m=audio 0 RTP/AVP 0']))!)).toBeUndefined();
    expect(negotiate(parseSdp(offer(['m=audio 4000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000']))!, ['opus'])).toBeUndefined();
  });

  it('refuses malformed or oversized SDP', () => {
    expect(parseSdp('hello')).toBeUndefined();
    expect(parseSdp(offer(['m=audio 4000 RTP/AVP 200']))).toBeUndefined();
    expect(parseSdp(offer(['c=IN IP4 not-an-address']))).toBeUndefined();
    expect(parseSdp(offer(Array.from({ length: 300 }, () => 'a=x')))).toBeUndefined();
    expect(parseSdp(offer(['m=audio 4000 RTP/AVP 0', `a=x${'y'.repeat(9000)}`]))).toBeUndefined();
  });
});

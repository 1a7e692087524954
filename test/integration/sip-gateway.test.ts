// The SIP gateway against a real phone (Debian's baresip) on loopback, over UDP and TCP.
import dgram from 'node:dgram';
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingCall } from '../../server/dial-in/sip/incoming-call.js';
import { SipGateway } from '../../server/dial-in/sip/sip-gateway.js';
import { parseSipMessage, type SipResponse } from '../../server/dial-in/sip/sip-message.js';
import { readRtpHeader, rtpPacket } from '../../server/recording/rtp-packet.js';
import { decodeAudio, dominantTone } from '../helpers/recorded-audio.js';
import { SipPhone, type PhoneCodec } from '../helpers/sip-phone.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

const TRUNK = { username: 'trunk', password: 'c0rrect-h0rse', realm: 'plenum-test' };

/** A UDP socket standing for the media side: counts RTP by payload type and collects RFC 4733 event codes. */
class RtpReceiver {
  readonly byPayloadType = new Map<number, number>();
  readonly events: number[] = [];
  dtmfPayloadType: number | undefined;
  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (packet) => {
      const header = readRtpHeader(packet);
      if (!header) return;
      this.byPayloadType.set(header.payloadType, (this.byPayloadType.get(header.payloadType) ?? 0) + 1);
      if (header.payloadType === this.dtmfPayloadType) {
        const code = packet[header.payloadOffset];
        if (code !== undefined && this.events[this.events.length - 1] !== code) this.events.push(code);
      }
    });
  }
  static async open(): Promise<RtpReceiver> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new RtpReceiver(socket);
  }
  get port(): number {
    return this.socket.address().port;
  }
  close(): void {
    this.socket.close();
  }
}

/** G.711 mu-law (ITU-T G.711) of one 16-bit sample. */
function muLaw(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  const magnitude = Math.min(Math.abs(sample), 32635) + 0x84;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

describe('SIP gateway with a real baresip phone', () => {
  let gateway: SipGateway;
  const logLines: string[] = [];
  const phones: SipPhone[] = [];
  const receivers: RtpReceiver[] = [];
  const calls: IncomingCall[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    gateway = await SipGateway.listen({
      host: '127.0.0.1',
      udpPort: 0,
      tcpPort: 0,
      credentials: TRUNK,
      logger: pino({ level: 'debug' }, sink),
    });
    gateway.on('call', (call) => calls.push(call));
  });

  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.stop()));
    for (const r of receivers.splice(0)) r.close();
    for (const call of calls.splice(0)) call.hangUp();
  });

  afterAll(async () => {
    await gateway?.close();
  });

  async function startPhone(codec: PhoneCodec, password = TRUNK.password): Promise<SipPhone> {
    const phone = await SipPhone.start({ authUser: TRUNK.username, authPassword: password, codec, user: 'delegate7', displayName: 'Delegate Seven' });
    phones.push(phone);
    return phone;
  }

  function dialUri(transport: 'udp' | 'tcp', number = '4711'): string {
    return transport === 'udp' ? `sip:${number}@127.0.0.1:${gateway.udpPort}` : `sip:${number}@127.0.0.1:${gateway.tcpPort};transport=tcp`;
  }

  /** Dials, checks the offered call, answers it on a fresh RTP port and waits until both sides are up. */
  async function establish(transport: 'udp' | 'tcp', codec: PhoneCodec) {
    const phone = await startPhone(codec);
    const receiver = await RtpReceiver.open();
    receivers.push(receiver);
    const challengesBefore = logLines.filter((l) => l.includes('dial-in INVITE challenged')).length;
    const offered = nextEvent<[IncomingCall]>(gateway, 'call');
    await phone.dial(dialUri(transport));
    const [call] = await offered;
    // The phone's first INVITE was challenged; this one carried valid credentials.
    expect(logLines.filter((l) => l.includes('dial-in INVITE challenged')).length).toBeGreaterThan(challengesBefore);
    expect(call.transport).toBe(transport);
    expect(call.codec.name).toBe(codec);
    expect(call.from).toEqual({ user: 'delegate7', displayName: 'Delegate Seven' });
    expect(call.to.user).toBe('4711');
    expect(call.dtmfPayloadType).toBeDefined();
    receiver.dtmfPayloadType = call.dtmfPayloadType;
    await call.answer({ address: '127.0.0.1', port: receiver.port });
    await phone.waitForEvent('CALL_ESTABLISHED');
    return { phone, receiver, call };
  }

  for (const [transport, codec] of [
    ['udp', 'opus'],
    ['tcp', 'PCMU'],
    ['udp', 'PCMA'],
    ['tcp', 'opus'],
  ] as const) {
    it(`answers a ${codec} call over ${transport}: RTP and DTMF reach the answered port, the phone's BYE ends it`, async () => {
      const { phone, receiver, call } = await establish(transport, codec);
      await waitFor(() => (receiver.byPayloadType.get(call.codec.payloadType) ?? 0) >= 25, { what: `${codec} RTP from the phone` });
      await phone.sendDigits('5#');
      await waitFor(() => receiver.events.length >= 2, { what: 'RFC 4733 events' });
      expect(receiver.events).toEqual([5, 11]);
      const ended = nextEvent<[string]>(call, 'ended');
      await phone.hangUp();
      expect(await ended).toEqual(['remote-bye']);
      await phone.waitForEvent('CALL_CLOSED');
    });
  }

  it('the phone hears (and records) the audio sent to the RTP address of its offer', async () => {
    const { phone, receiver, call } = await establish('udp', 'PCMU');
    let sequence = 0;
    const timer = setInterval(() => {
      // 20 ms of a 1000 Hz tone per packet, 8 kHz mu-law.
      const payload = Buffer.alloc(160);
      for (let i = 0; i < 160; i++) payload[i] = muLaw(Math.round(Math.sin((2 * Math.PI * 1000 * (sequence * 160 + i)) / 8000) * 10000));
      const packet = rtpPacket({ payloadType: call.codec.payloadType, sequence: sequence & 0xffff, timestamp: sequence * 160, ssrc: 0x5151, marker: sequence === 0 }, payload);
      receiver.socket.send(packet, call.remoteRtp.port, call.remoteRtp.address);
      sequence++;
    }, 20);
    try {
      await waitFor(() => sequence >= 100, { what: '2 s of tone sent' });
    } finally {
      clearInterval(timer);
    }
    await phone.hangUp();
    await phone.waitForEvent('CALL_CLOSED');
    const path = await waitFor(() => phone.recordingPath(), { what: 'the phone recording' });
    expect(dominantTone(await decodeAudio(path), 500, 1500, [440, 1000])).toBe(1000);
    // The helper's own reading (8 kHz G.711 dump to 48 kHz) agrees.
    const heard = await phone.recordedAudio();
    expect(heard && dominantTone(heard, 500, 1500, [440, 1000])).toBe(1000);
  });

  for (const transport of ['udp', 'tcp'] as const) {
    it(`hangUp() from the gateway ends the phone's call over ${transport}`, async () => {
      const { phone, call } = await establish(transport, 'PCMU');
      const ended = nextEvent<[string]>(call, 'ended');
      call.hangUp();
      expect(await ended).toEqual(['local']);
      const closed = await phone.waitForEvent('CALL_CLOSED');
      expect(closed.param).toMatch(/terminated|bye|reset/i);
      await waitFor(() => gateway.activeCalls.length === 0, { what: 'no active calls' });
    });
  }

  it('never offers a call from a phone with the wrong trunk password', async () => {
    let offered = 0;
    const count = () => offered++;
    gateway.on('call', count);
    try {
      const phone = await startPhone('PCMU', 'wrong-password');
      await phone.dial(dialUri('udp'));
      const closed = await phone.waitForEvent('CALL_CLOSED');
      expect(closed.param).toMatch(/401|unauthori/i);
      expect(logLines.some((l) => l.includes('dial-in digest authentication refused') && l.includes('bad-response'))).toBe(true);
      expect(offered).toBe(0);
      expect(logLines.some((l) => l.includes('wrong-password'))).toBe(false);
    } finally {
      gateway.off('call', count);
    }
  });

  it('survives malformed datagrams and TCP garbage, and still answers', async () => {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    try {
      const junk = [
        Buffer.from('\x00\x01\x02garbage'),
        Buffer.from('INVITE sip:x SIP/2.0\r\nVia: nonsense\r\nContent-Length: 99999\r\n\r\n'),
        Buffer.from(`OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n${'X-Long: a\r\n'.repeat(500)}\r\n`),
        Buffer.alloc(30_000, 0x41),
        Buffer.from('INVITE sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\r\nCSeq: 1 BYE\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: 1\r\n\r\n'),
      ];
      for (const datagram of junk) udp.send(datagram, gateway.udpPort!, '127.0.0.1');
      const tcp = net.connect({ host: '127.0.0.1', port: gateway.tcpPort! });
      const tcpClosed = new Promise((resolve) => tcp.on('close', resolve));
      tcp.on('error', () => undefined);
      tcp.write(`GARBAGE\r\n${'A'.repeat(40_000)}`);
      await tcpClosed; // an over-long header block closes the connection

      // An OPTIONS keep-alive is still answered.
      const answered = new Promise<SipResponse>((resolve) =>
        udp.on('message', (data) => {
          const parsed = parseSipMessage(data);
          if (parsed.ok && parsed.message.kind === 'response') resolve(parsed.message);
        }),
      );
      const port = udp.address().port;
      udp.send(
        Buffer.from(
          `OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKopt1;rport\r\nMax-Forwards: 70\r\n` +
            `From: <sip:trunk@127.0.0.1>;tag=a1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: opt-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
        ),
        gateway.udpPort!,
        '127.0.0.1',
      );
      const response = await answered;
      expect(response.status).toBe(200);
    } finally {
      udp.close();
    }
    // And a real call still goes through.
    const { phone, call } = await establish('udp', 'PCMU');
    const ended = nextEvent<[string]>(call, 'ended');
    await phone.hangUp();
    expect(await ended).toEqual(['remote-bye']);
  });
});

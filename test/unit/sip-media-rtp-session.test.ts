import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { CallRtpSession, type CallRtpSessionOptions } from '../../server/dial-in/media/call-rtp-session.js';
import { readRtpHeader, rtpPacket } from '../../server/recording/rtp-packet.js';
import { telephoneEventPayload } from '../../server/dial-in/media/rfc4733-dtmf.js';
import { waitFor } from '../helpers/wait.js';

const PCMU = { name: 'PCMU' as const, payloadType: 0, clockRate: 8000 };
const base = 42000 + 2 * Math.floor(Math.random() * 2000);
const ports = { min: base, max: base + 199 };

/** A phone's RTP socket: what it receives, and a way to send from it. */
class Phone {
  readonly received: Buffer[] = [];
  private constructor(readonly socket: Socket) {
    socket.on('message', (m) => this.received.push(m));
  }
  static async open(address = '127.0.0.1'): Promise<Phone> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, address, resolve));
    return new Phone(socket);
  }
  get port(): number {
    return this.socket.address().port;
  }
  send(packet: Buffer, session: CallRtpSession): Promise<void> {
    return new Promise((resolve) => this.socket.send(packet, session.localPort, '127.0.0.1', () => resolve()));
  }
  close(): void {
    this.socket.close();
  }
}

const open: { close(): void }[] = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

async function session(options: Partial<CallRtpSessionOptions> & Pick<CallRtpSessionOptions, 'remote'>): Promise<CallRtpSession> {
  const s = await CallRtpSession.open({ address: '127.0.0.1', ports, codec: PCMU, telephoneEvent: { payloadType: 101 }, ...options });
  open.push(s);
  return s;
}

async function phone(address?: string): Promise<Phone> {
  const p = await Phone.open(address);
  open.push(p);
  return p;
}

const voice = (seq: number, ts: number, ssrc = 0x1234, pt = 0): Buffer => rtpPacket({ payloadType: pt, sequence: seq, timestamp: ts, ssrc }, Buffer.alloc(160, 0x55));

describe('CallRtpSession ports', () => {
  it('binds an even port in the range, and fails clearly when the range is exhausted', async () => {
    const p = await phone();
    const a = await session({ remote: { address: '127.0.0.1', port: p.port } });
    expect(a.localPort % 2).toBe(0);
    expect(a.localPort).toBeGreaterThanOrEqual(ports.min);
    expect(a.localPort).toBeLessThanOrEqual(ports.max);
    await expect(session({ ports: { min: a.localPort, max: a.localPort + 1 }, remote: { address: '127.0.0.1', port: p.port } })).rejects.toThrow(
      /no free RTP port in range/,
    );
    await expect(session({ ports: { min: 5000, max: 4000 }, remote: { address: '127.0.0.1', port: p.port } })).rejects.toThrow(/invalid RTP port range/);
    // An address this host does not have is a configuration error, not a busy port.
    await expect(session({ address: '192.0.2.1', remote: { address: '127.0.0.1', port: p.port } })).rejects.toThrow(/EADDRNOTAVAIL/);
  });
});

describe('CallRtpSession inbound', () => {
  it('latches to the port the caller really sends from, then accepts only that source', async () => {
    const declared = await phone();
    const real = await phone();
    const other = await phone();
    const elsewhere = await phone('127.0.0.2');
    const s = await session({ remote: { address: '127.0.0.1', port: declared.port } });
    const audio: Buffer[] = [];
    s.on('audio', (packet) => audio.push(packet));

    await elsewhere.send(voice(1, 160), s);
    await real.send(Buffer.from('not rtp at all'), s);
    await real.send(voice(2, 320), s);
    await waitFor(() => audio.length === 1, { what: 'the first voice packet' });
    expect(s.remoteAddress).toEqual({ address: '127.0.0.1', port: real.port });
    expect(s.lastReceivedAt).toBeDefined();

    await other.send(voice(3, 480), s);
    await real.send(Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 1]), s); // RTCP sender report header
    await real.send(voice(4, 640, 0x1234, 8), s); // PCMA: not negotiated
    await real.send(Buffer.concat([voice(6, 960), Buffer.alloc(1500)]), s); // over the size bound
    await real.send(voice(5, 800), s);
    await waitFor(() => audio.length === 2, { what: 'the second voice packet' });
    expect(audio.map((p) => readRtpHeader(p)!.sequence)).toEqual([2, 5]);
    // Dropped: the other IP, the bytes that are not RTP, the other port after latching, PCMA, the oversized one.
    await waitFor(() => s.stats.dropped === 5 && s.stats.rtcp === 1, { what: `the drops counted (${JSON.stringify(s.stats)})` });

    // Replies go where the caller sends from.
    s.sendPayload(Buffer.alloc(160, 0xff), 160);
    await waitFor(() => real.received.length === 1, { what: 'the reply at the latched port' });
    expect(declared.received).toEqual([]);
  });

  it('emits each keyed digit once, despite redundant end packets', async () => {
    const p = await phone();
    const s = await session({ remote: { address: '127.0.0.1', port: p.port } });
    const digits: string[] = [];
    s.on('digit', (d) => digits.push(d));
    let seq = 10;
    for (const [event, ts] of [[1, 8000], [2, 16000], [2, 24000], [11, 32000]] as const) {
      for (const duration of [160, 320, 480]) await p.send(rtpPacket({ payloadType: 101, sequence: seq++, timestamp: ts, ssrc: 9 }, telephoneEventPayload({ event, end: false, duration })), s);
      for (let i = 0; i < 3; i++) await p.send(rtpPacket({ payloadType: 101, sequence: seq++, timestamp: ts, ssrc: 9 }, telephoneEventPayload({ event, end: true, duration: 640 })), s);
    }
    await waitFor(() => digits.length === 4, { what: 'four digits' });
    expect(digits).toEqual(['1', '2', '2', '#']);
  });

  it('reports a digit whose end packets were lost after a quiet while', async () => {
    const p = await phone();
    const s = await session({ remote: { address: '127.0.0.1', port: p.port }, dtmfEndTimeoutMs: 100 });
    const digits: string[] = [];
    s.on('digit', (d) => digits.push(d));
    await p.send(rtpPacket({ payloadType: 101, sequence: 1, timestamp: 500, ssrc: 9 }, telephoneEventPayload({ event: 0, end: false, duration: 160 })), s);
    await waitFor(() => digits.length === 1, { what: 'the digit without its end' });
    expect(digits).toEqual(['0']);
  });
});

describe('CallRtpSession outbound', () => {
  it('presents prompts and forwarded mixes as one continuous stream across source changes', async () => {
    const p = await phone();
    const s = await session({ remote: { address: '127.0.0.1', port: p.port } });
    let expected = 0;
    const sendAll = async (count: number, send: (i: number) => void): Promise<void> => {
      for (let i = 0; i < count; i++) send(i);
      expected += count;
      await waitFor(() => p.received.length === expected, { what: `${expected} packets at the phone` });
    };
    // Mix A (with a lost packet), a prompt, mix B, mix A again, then another prompt.
    await sendAll(3, (i) => s.forward(voice(100 + i + (i === 2 ? 1 : 0), 5000 + 160 * (i + (i === 2 ? 1 : 0)), 0xaaaa, 96)));
    await sendAll(3, () => s.sendPayload(Buffer.alloc(160, 0xff), 160));
    await sendAll(3, (i) => s.forward(voice(65534 + i, 4294967000 + 160 * i, 0xbbbb, 96)));
    await sendAll(2, (i) => s.forward(voice(200 + i, 90000 + 160 * i, 0xaaaa, 96)));
    await sendAll(2, (i) => s.sendPayload(Buffer.alloc(160, 0xff), 160, i === 0));
    expect(s.forward(Buffer.from('garbage'))).toBe(false);

    const headers = p.received.map((packet) => readRtpHeader(packet)!);
    expect(new Set(headers.map((h) => h.ssrc))).toEqual(new Set([s.ssrc]));
    expect(new Set(headers.map((h) => h.payloadType))).toEqual(new Set([0]));
    const seqSteps = headers.slice(1).map((h, i) => (h.sequence - headers[i]!.sequence) & 0xffff);
    const tsSteps = headers.slice(1).map((h, i) => (h.timestamp - headers[i]!.timestamp) >>> 0);
    // The lost packet of mix A stays visible as a gap of 2; everything else is +1.
    expect(seqSteps).toEqual([1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    // Within a source, its own spacing; at each change, at least one packet further and never backwards.
    const switches = new Set([3, 6, 9, 11]);
    tsSteps.forEach((step, i) => {
      if (switches.has(i + 1)) {
        expect(step).toBeGreaterThanOrEqual(160);
        expect(step).toBeLessThan(0x80000000);
      } else expect(step).toBe(i === 1 ? 320 : 160);
    });
    expect(headers.map((h, i) => (h.marker ? i : -1)).filter((i) => i >= 0)).toEqual([0, 3, 6, 9, 11]);
  });

  it('closes its socket and emits close once', async () => {
    const p = await phone();
    const s = await session({ remote: { address: '127.0.0.1', port: p.port } });
    let closes = 0;
    s.on('close', () => closes++);
    s.close();
    s.close();
    expect(closes).toBe(1);
    expect(s.isClosed).toBe(true);
    s.sendPayload(Buffer.alloc(160), 160);
    expect(s.forward(voice(1, 1))).toBe(false);
    expect(s.stats.sent).toBe(0);
  });
});

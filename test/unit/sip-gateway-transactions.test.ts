// The gateway's transaction rules, driven by a hand-written UDP client on loopback (short T1 for speed).
import dgram from 'node:dgram';
import net from 'node:net';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { digestResponse, parseAuthParams } from '../../server/dial-in/sip/digest-auth.js';
import type { IncomingCall } from '../../server/dial-in/sip/incoming-call.js';
import { SipGateway, type SipGatewayOptions } from '../../server/dial-in/sip/sip-gateway.js';
import { getHeader, getHeaderValues, parseNameAddr, parseSipMessage, type SipMessage, type SipRequest, type SipResponse } from '../../server/dial-in/sip/sip-message.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

const TRUNK = { username: 'trunk', password: 'pw', realm: 'r' };
const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n';

class TestClient {
  readonly received: SipMessage[] = [];
  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (data) => {
      const parsed = parseSipMessage(data);
      if (parsed.ok) this.received.push(parsed.message);
    });
  }
  static async open(): Promise<TestClient> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new TestClient(socket);
  }
  get port(): number {
    return this.socket.address().port;
  }
  send(text: string, port: number): void {
    this.socket.send(Buffer.from(text, 'latin1'), port, '127.0.0.1');
  }
  responses(callId: string, status?: number, method = 'INVITE'): SipResponse[] {
    return this.received.filter(
      (m): m is SipResponse =>
        m.kind === 'response' && getHeader(m, 'call-id') === callId && (status === undefined || m.status === status) && (getHeader(m, 'cseq') ?? '').endsWith(method),
    );
  }
  requests(callId: string, method: string): SipRequest[] {
    return this.received.filter((m): m is SipRequest => m.kind === 'request' && m.method === method && getHeader(m, 'call-id') === callId);
  }
  close(): void {
    this.socket.close();
  }
}

interface RequestSpec {
  method: string;
  callId: string;
  branch: string;
  cseq: number;
  toTag?: string;
  headers?: string[];
  body?: string;
}

function request(client: TestClient, spec: RequestSpec): string {
  const body = spec.body ?? '';
  return [
    `${spec.method} sip:4711@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${client.port};branch=${spec.branch};rport`,
    'Max-Forwards: 70',
    `From: "Caller" <sip:caller@127.0.0.1>;tag=ft`,
    `To: <sip:4711@127.0.0.1>${spec.toTag ? `;tag=${spec.toTag}` : ''}`,
    `Call-ID: ${spec.callId}`,
    `CSeq: ${spec.cseq} ${spec.method}`,
    `Contact: <sip:caller@127.0.0.1:${client.port}>`,
    ...(spec.headers ?? []),
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

function authorization(challenge: SipResponse, method = 'INVITE'): string {
  const params = parseAuthParams((getHeader(challenge, 'www-authenticate') ?? '').replace(/^Digest\s+/, ''))!;
  const nonce = params.get('nonce')!;
  const uri = 'sip:4711@127.0.0.1';
  const response = digestResponse({ algorithm: 'MD5', ...TRUNK, method, uri, nonce, nc: '00000001', cnonce: 'abc', qop: 'auth' });
  return `Authorization: Digest username="trunk", realm="r", nonce="${nonce}", uri="${uri}", response="${response}", qop=auth, nc=00000001, cnonce="abc", algorithm=MD5`;
}

/** The list once it has `n` entries (for waitFor). */
function atLeast<T>(list: T[], n: number): T[] | undefined {
  return list.length >= n ? list : undefined;
}

function toTagOf(message: SipMessage): string | undefined {
  return parseNameAddr(getHeader(message, 'to') ?? '')?.params.get('tag');
}

describe('SIP gateway transactions (UDP)', () => {
  const gateways: SipGateway[] = [];
  const clients: TestClient[] = [];
  let gateway: SipGateway;
  let client: TestClient;
  let sequence = 0;

  async function openGateway(options: Partial<SipGatewayOptions> = {}): Promise<SipGateway> {
    const g = await SipGateway.listen({ host: '127.0.0.1', udpPort: 0, credentials: TRUNK, logger: pino({ level: 'silent' }), t1Ms: 50, t2Ms: 200, ...options });
    gateways.push(g);
    return g;
  }

  beforeAll(async () => {
    gateway = await openGateway();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
    for (const call of gateway.activeCalls) call.hangUp();
  });
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
  });

  async function newClient(): Promise<TestClient> {
    const c = await TestClient.open();
    clients.push(c);
    return c;
  }

  /** Challenge, authenticate, and return the offered call. */
  async function offerCall(g = gateway): Promise<{ call: IncomingCall; callId: string; branch: string }> {
    client = await newClient();
    const callId = `call-${++sequence}`;
    client.send(request(client, { method: 'INVITE', callId, branch: `z9hG4bKa${sequence}`, cseq: 1, body: SDP }), g.udpPort!);
    const [challenge] = await waitFor(() => atLeast(client.responses(callId, 401), 1));
    client.send(request(client, { method: 'ACK', callId, branch: `z9hG4bKa${sequence}`, cseq: 1, toTag: toTagOf(challenge!) }), g.udpPort!);
    const offered = nextEvent<[IncomingCall]>(g, 'call');
    const branch = `z9hG4bKb${sequence}`;
    client.send(request(client, { method: 'INVITE', callId, branch, cseq: 2, body: SDP, headers: [authorization(challenge!)] }), g.udpPort!);
    const [call] = await offered;
    return { call, callId, branch };
  }

  it('challenges an INVITE with 401 and repeats the same 401 for a retransmission', async () => {
    const c = await newClient();
    const invite = request(c, { method: 'INVITE', callId: 'ch-1', branch: 'z9hG4bKch1', cseq: 1, body: SDP });
    c.send(invite, gateway.udpPort!);
    await waitFor(() => c.responses('ch-1', 401).length === 1);
    c.send(invite, gateway.udpPort!);
    const [first, second] = await waitFor(() => atLeast(c.responses('ch-1', 401), 2));
    expect(getHeader(first!, 'www-authenticate')).toMatch(/^Digest realm="r", nonce="[^"]+", qop="auth", algorithm=MD5$/);
    expect(getHeader(second!, 'www-authenticate')).toBe(getHeader(first!, 'www-authenticate'));
    expect(toTagOf(second!)).toBe(toTagOf(first!));
    // RFC 3581: the response went to the source port and says so.
    expect(getHeader(first!, 'via')).toContain(`rport=${c.port}`);
  });

  it('sends 100 Trying, absorbs a retransmitted INVITE, and CANCEL ends the call with 487 (repeated until ACK)', async () => {
    let calls = 0;
    const count = () => calls++;
    gateway.on('call', count);
    const { call, callId, branch } = await offerCall();
    await waitFor(() => client.responses(callId, 100).length === 1);
    client.send(request(client, { method: 'INVITE', callId, branch, cseq: 2, body: SDP, headers: ['Authorization: Digest x=1'] }), gateway.udpPort!);
    await waitFor(() => client.responses(callId, 100).length === 2, { what: 'a second 100 Trying' });
    expect(calls).toBe(1);
    gateway.off('call', count);

    const ended = nextEvent<[string]>(call, 'ended');
    client.send(request(client, { method: 'CANCEL', callId, branch, cseq: 2 }), gateway.udpPort!);
    expect(await ended).toEqual(['cancelled']);
    await waitFor(() => client.responses(callId, 200, 'CANCEL').length === 1);
    const finals = await waitFor(() => atLeast(client.responses(callId, 487), 2), { what: '487 retransmitted' });
    client.send(request(client, { method: 'ACK', callId, branch, cseq: 2, toTag: toTagOf(finals[0]!) }), gateway.udpPort!);
  });

  it('retransmits the 2xx until ACK, and without ACK ends the call with a BYE after 64*T1', async () => {
    const { call, callId } = await offerCall();
    const answered = call.answer({ address: '127.0.0.1', port: 30000 });
    const outcome = answered.then(
      () => 'acked',
      () => 'rejected',
    );
    const oks = await waitFor(() => atLeast(client.responses(callId, 200), 3), { what: '200 retransmitted' });
    expect(oks[0]!.body.toString()).toContain('m=audio 30000 RTP/AVP 0 101');
    expect(getHeader(oks[0]!, 'contact')).toBe(`<sip:127.0.0.1:${gateway.udpPort}>`);
    const [reason] = await nextEvent<[string]>(call, 'ended', 10_000);
    expect(reason).toBe('no-ack');
    expect(await outcome).toBe('rejected');
    const [bye] = await waitFor(() => atLeast(client.requests(callId, 'BYE'), 1), { what: 'BYE' });
    expect(bye!.uri).toBe(`sip:caller@127.0.0.1:${client.port}`);
    expect(parseNameAddr(getHeader(bye!, 'from')!)?.params.get('tag')).toBe(toTagOf(oks[0]!));
    expect(parseNameAddr(getHeader(bye!, 'to')!)?.params.get('tag')).toBe('ft');
  });

  it('confirms on ACK, answers a remote BYE (and its retransmission) with 200', async () => {
    const { call, callId } = await offerCall();
    const answered = call.answer({ address: '127.0.0.1', port: 30002 });
    const [ok] = await waitFor(() => atLeast(client.responses(callId, 200), 1));
    const tag = toTagOf(ok!);
    client.send(request(client, { method: 'ACK', callId, branch: 'z9hG4bKack', cseq: 2, toTag: tag }), gateway.udpPort!);
    await answered;
    const ended = nextEvent<[string]>(call, 'ended');
    const bye = request(client, { method: 'BYE', callId, branch: 'z9hG4bKbye', cseq: 3, toTag: tag });
    client.send(bye, gateway.udpPort!);
    expect(await ended).toEqual(['remote-bye']);
    client.send(bye, gateway.udpPort!);
    await waitFor(() => client.responses(callId, 200, 'BYE').length === 2, { what: 'two 200s to BYE' });
    // A BYE for a dialog we do not have.
    client.send(request(client, { method: 'BYE', callId: 'nope', branch: 'z9hG4bKnope', cseq: 1, toTag: 'x' }), gateway.udpPort!);
    await waitFor(() => client.responses('nope', 481, 'BYE').length === 1);
  });

  it('answers OPTIONS with 200, REGISTER with 405 and Allow, an unknown method with 501', async () => {
    const c = await newClient();
    c.send(request(c, { method: 'OPTIONS', callId: 'o1', branch: 'z9hG4bKo1', cseq: 1 }), gateway.udpPort!);
    c.send(request(c, { method: 'REGISTER', callId: 'r1', branch: 'z9hG4bKr1', cseq: 1 }), gateway.udpPort!);
    c.send(request(c, { method: 'FROBNICATE', callId: 'f1', branch: 'z9hG4bKf1', cseq: 1 }), gateway.udpPort!);
    await waitFor(() => c.responses('o1', 200, 'OPTIONS').length === 1);
    const [notAllowed] = await waitFor(() => atLeast(c.responses('r1', 405, 'REGISTER'), 1));
    expect(getHeaderValues(notAllowed!, 'allow')).toEqual(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS']);
    await waitFor(() => c.responses('f1', 501, 'FROBNICATE').length === 1);
  });

  it('refuses INVITEs beyond the call limit and beyond the per-source rate with 503, and an offer without a common codec with 488', async () => {
    const limited = await openGateway({ maxCalls: 1, invitesPerSecondPerSource: 0.001, inviteBurstPerSource: 4 });
    await offerCall(limited); // two INVITEs (challenge + authenticated)
    const c = client;
    c.send(request(c, { method: 'INVITE', callId: 'over', branch: 'z9hG4bKov1', cseq: 1, body: SDP }), limited.udpPort!);
    const [challenge] = await waitFor(() => atLeast(c.responses('over', 401), 1));
    c.send(request(c, { method: 'INVITE', callId: 'over', branch: 'z9hG4bKov2', cseq: 2, body: SDP, headers: [authorization(challenge!)] }), limited.udpPort!);
    const [busy] = await waitFor(() => atLeast(c.responses('over', 503), 1), { what: '503 over the call limit' });
    expect(getHeader(busy!, 'retry-after')).toBe('30');
    c.send(request(c, { method: 'INVITE', callId: 'rate', branch: 'z9hG4bKrt1', cseq: 1, body: SDP }), limited.udpPort!);
    const [slow] = await waitFor(() => atLeast(c.responses('rate', 503), 1), { what: '503 over the rate' });
    expect(getHeader(slow!, 'retry-after')).toBe('5');

    const g722 = SDP.replace('RTP/AVP 0 101', 'RTP/AVP 9');
    c.send(request(c, { method: 'INVITE', callId: 'codec', branch: 'z9hG4bKcd1', cseq: 1, body: g722 }), gateway.udpPort!);
    const [ch] = await waitFor(() => atLeast(c.responses('codec', 401), 1));
    c.send(request(c, { method: 'INVITE', callId: 'codec', branch: 'z9hG4bKcd2', cseq: 2, body: g722, headers: [authorization(ch!)] }), gateway.udpPort!);
    await waitFor(() => c.responses('codec', 488).length > 0, { what: '488' });
  });

  it('close() ends an answered call with a BYE and a ringing one with 503, then emits close once', async () => {
    const own = await openGateway();
    const answeredCall = await offerCall(own);
    const answeredClient = client;
    const answered = answeredCall.call.answer({ address: '127.0.0.1', port: 30004 });
    const [ok] = await waitFor(() => atLeast(answeredClient.responses(answeredCall.callId, 200), 1));
    answeredClient.send(request(answeredClient, { method: 'ACK', callId: answeredCall.callId, branch: 'z9hG4bKack2', cseq: 2, toTag: toTagOf(ok!) }), own.udpPort!);
    await answered;
    const ringing = await offerCall(own);
    const reasons: string[] = [];
    answeredCall.call.on('ended', (r) => reasons.push(r));
    ringing.call.on('ended', (r) => reasons.push(r));
    let closes = 0;
    own.on('close', () => closes++);
    // The phone answers our BYE, which lets close() finish without waiting out its grace time.
    answeredClient.socket.on('message', (data) => {
      const parsed = parseSipMessage(data);
      if (!parsed.ok || parsed.message.kind !== 'request' || parsed.message.method !== 'BYE') return;
      const bye = parsed.message;
      const reply = ['SIP/2.0 200 OK', ...bye.headers.filter((h) => ['via', 'from', 'to', 'call-id', 'cseq'].includes(h.key)).map((h) => `${h.name}: ${h.value}`), 'Content-Length: 0', '', ''];
      answeredClient.send(reply.join('\r\n'), own.udpPort!);
    });
    await Promise.all([own.close(), own.close()]);
    expect(closes).toBe(1);
    expect(reasons.sort()).toEqual(['gateway-closed', 'gateway-closed']);
    expect(answeredClient.requests(answeredCall.callId, 'BYE')).toHaveLength(1);
    await waitFor(() => atLeast(client.responses(ringing.callId, 503), 1), { what: '503 to the ringing call' });
  });

  it('TCP: answers on the same connection, refuses connections over the limit, closes idle ones', async () => {
    const tcpGateway = await openGateway({ udpPort: undefined, tcpPort: 0, maxTcpConnections: 1, tcpIdleTimeoutMs: 300 });
    expect(tcpGateway.ports.udp).toBe(0);
    const first = net.connect({ host: '127.0.0.1', port: tcpGateway.ports.tcp });
    const firstClosed = new Promise((resolve) => first.on('close', resolve));
    let answer = '';
    first.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    await new Promise((resolve) => first.once('connect', resolve));
    const options = [
      'OPTIONS sip:127.0.0.1 SIP/2.0',
      'Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKtcp1',
      'From: <sip:a@127.0.0.1>;tag=1',
      'To: <sip:127.0.0.1>',
      'Call-ID: tcp-1',
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    // Split across writes: the framer joins the pieces.
    first.write(options.slice(0, 20));
    first.write(options.slice(20));
    await waitFor(() => answer.startsWith('SIP/2.0 200 OK'), { what: '200 on the same connection' });
    const second = net.connect({ host: '127.0.0.1', port: tcpGateway.ports.tcp });
    second.on('error', () => undefined);
    await new Promise((resolve) => second.on('close', resolve)); // over maxTcpConnections
    await firstClosed; // idle past tcpIdleTimeoutMs
  });

  it('drops everything from sources outside the allow-list', async () => {
    const closed = await openGateway({ allowFrom: ['10.0.0.0/8', '192.0.2.7'] });
    const open = await openGateway({ allowFrom: ['127.0.0.0/8'] });
    const c = await newClient();
    for (let i = 0; i < 3; i++) {
      c.send(request(c, { method: 'OPTIONS', callId: `blocked-${i}`, branch: `z9hG4bKbl${i}`, cseq: 1 }), closed.udpPort!);
      c.send(request(c, { method: 'OPTIONS', callId: `allowed-${i}`, branch: `z9hG4bKal${i}`, cseq: 1 }), open.udpPort!);
      // The allowed gateway's answer to a later datagram shows the earlier one to the blocked gateway was handled.
      await waitFor(() => c.responses(`allowed-${i}`, 200, 'OPTIONS').length === 1);
    }
    expect(c.received.filter((m) => (getHeader(m, 'call-id') ?? '').startsWith('blocked'))).toEqual([]);
  });
});

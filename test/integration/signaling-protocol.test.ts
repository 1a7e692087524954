import jwt from 'jsonwebtoken';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { call, connectSignaling, devToken } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { grants } from '../helpers/grants.js';
import { waitFor } from '../helpers/wait.js';

let server: MeetingServer;
const sockets: Socket[] = [];

beforeAll(async () => {
  server = await startTestServer({ PLENUM_SIGNALING_RATE_PER_SECOND: '100', PLENUM_SIGNALING_RATE_BURST: '200' });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
});

async function client(room = 'protocol', name = 'Tester'): Promise<Socket> {
  const socket = await connectSignaling(server.url, await devToken(server.url, name, room));
  sockets.push(socket);
  return socket;
}

function errorCode(answer: { ok: boolean; error?: { code: string } }): string | undefined {
  return answer.ok ? undefined : answer.error?.code;
}

describe('signaling: authentication', () => {
  it('refuses a connection without a token, with a forged token, and with alg "none"', async () => {
    const forged = jwt.sign({ grants: { room: 'x', name: 'x', role: 'x', canPublish: true, canSubscribe: true } }, 'not-the-secret-not-the-secret-xx', {
      audience: 'plenum-join',
      issuer: 'plenum',
      subject: 's',
      jwtid: 'j',
      expiresIn: 60,
    });
    const unsigned = jwt.sign({ grants: {}, sub: 's', jti: 'j', aud: 'plenum-join', iss: 'plenum' }, '', { algorithm: 'none' });
    for (const token of [undefined, 'garbage', forged, unsigned]) {
      const error = (await connectSignaling(server.url, token).catch((e: unknown) => e)) as Error & { data?: { code: string } };
      expect(error).toBeInstanceOf(Error);
      expect(error.data?.code).toBe(ErrorCode.UNAUTHENTICATED);
    }
  });

  it('refuses an expired token', async () => {
    const token = server.tokens.issue('someone', grants());
    const payload = jwt.decode(token) as jwt.JwtPayload;
    const expired = jwt.sign({ ...payload, exp: Math.floor(Date.now() / 1000) - 60 }, server.config.joinToken.secret);
    const error = (await connectSignaling(server.url, expired).catch((e: unknown) => e)) as Error & { data?: { code: string } };
    expect(error.data?.code).toBe(ErrorCode.UNAUTHENTICATED);
  });
});

describe('signaling: malformed, oversized and out-of-order messages', () => {
  it('answers malformed payloads with BAD_REQUEST and unknown methods with UNKNOWN_METHOD', async () => {
    const s = await client();
    expect(errorCode(await call(s, 'join', { rtpCapabilities: 'nope' }))).toBe(ErrorCode.BAD_REQUEST);
    expect(errorCode(await call(s, 'join', 'a string'))).toBe(ErrorCode.BAD_REQUEST);
    expect(errorCode(await call(s, 'join', [1, 2, 3]))).toBe(ErrorCode.BAD_REQUEST);
    expect(errorCode(await call(s, 'createWebRtcTransport', { direction: 'sideways' }))).toBe(ErrorCode.BAD_REQUEST);
    expect(errorCode(await call(s, 'createWebRtcTransport', { direction: 'send', extra: 1 }))).toBe(ErrorCode.BAD_REQUEST);
    expect(errorCode(await call(s, 'consume', { producerId: 42 }))).toBe(ErrorCode.BAD_REQUEST);
    expect(errorCode(await call(s, 'dropDatabase', {}))).toBe(ErrorCode.UNKNOWN_METHOD);
    expect(errorCode(await call(s, '__proto__', {}))).toBe(ErrorCode.UNKNOWN_METHOD);
    expect(s.connected).toBe(true);
  });

  it('answers a message without acknowledgement with a protocolError event', async () => {
    const s = await client();
    const notice = new Promise<{ method: string; code: string }>((resolve) => s.once('protocolError', resolve));
    s.emit('join', { rtpCapabilities: {} });
    expect(await notice).toMatchObject({ method: 'join', code: ErrorCode.BAD_REQUEST });
  });

  it('answers an oversized message with PAYLOAD_TOO_LARGE and keeps the connection', async () => {
    const s = await client();
    const big = { rtpCapabilities: { codecs: [{ kind: 'audio', mimeType: 'x'.repeat(40_000), clockRate: 1 }] } };
    expect(errorCode(await call(s, 'join', big))).toBe(ErrorCode.PAYLOAD_TOO_LARGE);
    expect(s.connected).toBe(true);
    const caps = await call(s, 'getRouterRtpCapabilities', {});
    expect(caps.ok).toBe(true);
  });

  it('answers out-of-order requests with NOT_JOINED, ALREADY_JOINED, INVALID_STATE and NOT_FOUND', async () => {
    const s = await client();
    expect(errorCode(await call(s, 'createWebRtcTransport', { direction: 'send' }))).toBe(ErrorCode.NOT_JOINED);
    expect(errorCode(await call(s, 'consume', { producerId: 'p' }))).toBe(ErrorCode.NOT_JOINED);
    expect(errorCode(await call(s, 'leave', {}))).toBe(ErrorCode.NOT_JOINED);
    const caps = (await call<{ rtpCapabilities: object }>(s, 'getRouterRtpCapabilities', {})) as { ok: true; data: { rtpCapabilities: object } };
    expect((await call(s, 'join', { rtpCapabilities: caps.data.rtpCapabilities })).ok).toBe(true);
    expect(errorCode(await call(s, 'join', { rtpCapabilities: caps.data.rtpCapabilities }))).toBe(ErrorCode.ALREADY_JOINED);
    expect(errorCode(await call(s, 'connectWebRtcTransport', { transportId: 'nope', dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AA' }] } }))).toBe(
      ErrorCode.NOT_FOUND,
    );
    expect(errorCode(await call(s, 'resumeConsumer', { consumerId: 'nope' }))).toBe(ErrorCode.NOT_FOUND);
    // A producer of another room, or none: NOT_FOUND, never a consumer.
    expect(errorCode(await call(s, 'consume', { producerId: 'nope' }))).toBe(ErrorCode.NOT_FOUND);
    // Produce on a receive transport: the transport is not a send transport.
    const recv = (await call<{ id: string }>(s, 'createWebRtcTransport', { direction: 'recv' })) as { ok: true; data: { id: string } };
    const produce = await call(s, 'produce', {
      transportId: recv.data.id,
      kind: 'audio',
      source: 'mic',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 1 }] },
    });
    expect(errorCode(produce)).toBe(ErrorCode.NOT_FOUND);
  });

  it('enforces the join token grants on every message', async () => {
    const token = server.tokens.issue('listener-1', grants({ room: 'grants', person: 'listener-1', role: 'observer', publish: { floor: false, booths: [], captions: false } }));
    const s = await connectSignaling(server.url, token);
    sockets.push(s);
    const caps = (await call(s, 'getRouterRtpCapabilities', {})) as { ok: true; data: { rtpCapabilities: object } };
    expect((await call(s, 'join', { rtpCapabilities: caps.data.rtpCapabilities })).ok).toBe(true);
    expect(errorCode(await call(s, 'createWebRtcTransport', { direction: 'send' }))).toBe(ErrorCode.FORBIDDEN);
    const recv = (await call(s, 'createWebRtcTransport', { direction: 'recv' })) as { ok: true; data: { id: string } };
    expect(recv.ok).toBe(true);
    expect(
      errorCode(
        await call(s, 'produce', {
          transportId: recv.data.id,
          kind: 'audio',
          source: 'mic',
          rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000 }] },
        }),
      ),
    ).toBe(ErrorCode.FORBIDDEN);
  });

  it('a burst of 1,000 malformed messages: each gets an error code, and the server keeps serving others', async () => {
    const flooder = await client('flood', 'Flooder');
    const bystander = await client('flood-bystander', 'Bystander');
    const junk: Array<[string, unknown]> = [
      ['join', { rtpCapabilities: 7 }],
      ['produce', { transportId: '', kind: 'smell' }],
      ['nope', null],
      ['consume', 'x'.repeat(50_000)],
      ['connectWebRtcTransport', { dtlsParameters: { fingerprints: [] } }],
    ];
    const answers = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => {
        const [method, data] = junk[i % junk.length]!;
        return call(flooder, method, data);
      }),
    );
    const codes = new Map<string, number>();
    for (const a of answers) {
      expect(a.ok).toBe(false);
      const code = errorCode(a)!;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    expect([...codes.values()].reduce((a, b) => a + b, 0)).toBe(1000);
    for (const code of codes.keys()) {
      expect([ErrorCode.BAD_REQUEST, ErrorCode.UNKNOWN_METHOD, ErrorCode.PAYLOAD_TOO_LARGE, ErrorCode.RATE_LIMITED]).toContain(code);
    }
    expect(codes.get(ErrorCode.RATE_LIMITED) ?? 0).toBeGreaterThan(0);

    // The bystander is served as if nothing happened, and so is the flooder once its bucket refills.
    const caps = (await call(bystander, 'getRouterRtpCapabilities', {})) as { ok: true; data: { rtpCapabilities: object } };
    expect(caps.ok).toBe(true);
    expect((await call(bystander, 'join', { rtpCapabilities: caps.data.rtpCapabilities })).ok).toBe(true);
    expect(flooder.connected).toBe(true);
    await waitFor(async () => (await call(flooder, 'getRouterRtpCapabilities', {})).ok, { what: 'the flooder to be served again' });
  });
});

describe('HTTP', () => {
  it('serves health, readiness and Prometheus metrics', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: 'ready' });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^plenum_media_workers 1$/m);
    expect(metrics).toMatch(/^plenum_rooms \d+$/m);
    expect(metrics).toMatch(/^plenum_consumers \d+$/m);
    expect(metrics).toMatch(/plenum_signaling_requests_total\{method="join",outcome="ok"\} \d+/);
  });

  it('validates the dev token body and answers bad JSON with a code, not a stack trace', async () => {
    const bad = await fetch(`${server.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe(ErrorCode.BAD_REQUEST);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.js/);
    const invalid = await fetch(`${server.url}/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '', room: '../etc' }),
    });
    expect(invalid.status).toBe(400);
  });
});

describe('dev mode off', () => {
  it('has no dev token endpoint', async () => {
    const prod = await startTestServer({ PLENUM_DEV_MODE: 'false' });
    try {
      const res = await fetch(`${prod.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"a","room":"b"}' });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(ErrorCode.ROUTE_NOT_FOUND);
    } finally {
      await prod.close();
    }
  });
});

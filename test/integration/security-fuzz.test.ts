import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import { requestSchemas } from '../../protocol/signaling.js';
import { joinedSocket, opusRtpParameters, post, signInAs } from '../helpers/accreditation-client.js';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { call, connectSignaling } from '../helpers/signaling-client.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Fuzzing a real server process: 10,000 generated signaling messages and 2,000 generated HTTP bodies.
 * The process must stay up, every message must be answered with `ok` or a known error code, no answer may
 * carry a stack trace, and the server must still serve a normal join afterwards.
 * Replay a failure with the printed seed: FUZZ_SEED=<seed> npm test -- security-fuzz
 */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SIGNALING_MESSAGES = 10_000;
const HTTP_BODIES = 2_000;
const SESSION = 'demo-plenary';
const EVENT = 'demo-council-2026';
const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));
/** Emitting these from a client throws in socket.io-client itself; they never reach the server. */
const RESERVED_EVENTS = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);
/** Delegates the fuzzer may consume: a removal by the fuzzed secretariat socket bars one from the room. */
const DELEGATES = ['amina.odhiambo@demo.ke', 'brian.kamau@demo.ke', 'beatriz.souza@demo.br', 'camille.durand@demo.fr', 'haruto.sato@demo.jp'];

function leaksInternals(text: string): boolean {
  return /\n\s+at |node_modules|\.ts:\d+|\.js:\d+:\d+|Error: /.test(text);
}

function expectAnswer(answer: unknown, context: string): void {
  const a = answer as { ok?: unknown; data?: unknown; error?: { code?: unknown; message?: unknown } };
  if (a?.ok === true) return;
  expect(a?.ok, context).toBe(false);
  expect(KNOWN_CODES.has(String(a.error?.code)), `${context}: unknown code ${String(a.error?.code)}`).toBe(true);
  expect(typeof a.error?.message, context).toBe('string');
  expect(leaksInternals(String(a.error?.message)), `${context}: ${String(a.error?.message)}`).toBe(false);
}

describe('security: fuzzing signaling and HTTP on a real server process', () => {
  let server: ServerProcess;
  let secretariatToken: string;

  beforeAll(async () => {
    console.info(`security-fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED} npm test -- security-fuzz)`);
    server = await spawnServer({
      PLENUM_DEMO: 'true',
      // The fuzzer must reach the handlers, not the rate limiters (those are tested on their own).
      PLENUM_SIGNALING_RATE_PER_SECOND: '1000000',
      PLENUM_SIGNALING_RATE_BURST: '1000000',
      PLENUM_SIGN_IN_FAILURES_PER_MINUTE: '1000000',
      PLENUM_SIGN_IN_ATTEMPTS_PER_MINUTE: '1000000',
      PLENUM_LOG_LEVEL: 'warn',
    });
    secretariatToken = await signInAs(server.url, 'sofia.rossi@secretariat.example');
  });

  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
  });

  it(`answers ${SIGNALING_MESSAGES} generated signaling messages with ok or an error code, and stays up`, async () => {
    const pool = [...DELEGATES];
    const sockets: Array<{ socket: Socket; who: string }> = [];
    const ids = new Set<string>(['p-ke-1', 'p-sec-1', 'p-br-1', '00000000-0000-0000-0000-000000000000']);
    const connectDelegate = async (): Promise<void> => {
      while (pool.length > 0) {
        const who = pool.shift()!;
        try {
          const socket = await joinedSocket(server.url, who, SESSION);
          const transport = await call<{ id: string }>(socket, 'createWebRtcTransport', { direction: 'send' });
          if (transport.ok) {
            ids.add(transport.data.id);
            const produced = await call<{ producerId: string }>(socket, 'produce', {
              transportId: transport.data.id, kind: 'audio', source: 'mic', channel: 'floor', rtpParameters: opusRtpParameters(1000 + pool.length),
            });
            if (produced.ok) ids.add(produced.data.producerId);
          }
          sockets.push({ socket, who });
          return;
        } catch {
          // Removed from the room by an earlier fuzzed message: the next delegate takes the place.
        }
      }
    };
    await connectDelegate();
    sockets.push({ socket: await joinedSocket(server.url, 'sofia.rossi@secretariat.example', SESSION), who: 'secretariat' });
    // A connection that never joins: everything but the handshake must be refused by state.
    const joinAnswer = await post(`${server.url}/api/join`, { identityToken: await signInAs(server.url, 'beatriz.souza@demo.br'), sessionId: 'demo-member-states' });
    sockets.push({ socket: await connectSignaling(server.url, joinAnswer.body.joinToken), who: 'unjoined' });

    const methods = Object.keys(requestSchemas);
    const fieldNames = ['transportId', 'producerId', 'consumerId', 'participantId', 'direction', 'kind', 'source', 'channel', 'language',
      'rtpCapabilities', 'rtpParameters', 'dtlsParameters', 'text', 'final', 'active', 'action', 'position', 'spatialLayer', 'temporalLayer', 'reason', '__proto__', 'constructor'];
    const idLike = fc.oneof(fc.constantFrom(...ids), fc.uuid(), fc.string({ maxLength: 80 }));
    const value: fc.Arbitrary<unknown> = fc.oneof(
      idLike,
      fc.constantFrom('send', 'recv', 'audio', 'video', 'mic', 'camera', 'screen', 'floor', 'fr', 'en', 'zz', 'offer', 'take', true, false, null, 0, -1, 1e308, Number.NaN),
      fc.integer(),
      fc.double(),
      fc.jsonValue({ maxDepth: 3 }),
    );
    const structured = fc.dictionary(fc.constantFrom(...fieldNames), value, { maxKeys: 5 });
    const payload = fc.oneof(
      { weight: 5, arbitrary: structured },
      { weight: 2, arbitrary: fc.anything({ maxDepth: 3 }) },
      { weight: 1, arbitrary: fc.string({ minLength: 30_000, maxLength: 40_000 }).map((text) => ({ text })) },
    );
    const method = fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...methods) }, { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) });
    const message = fc.record({ to: fc.nat(), method: method.filter((m) => !RESERVED_EVENTS.has(m)), payload });
    const messages = fc.sample(message, { seed: SEED, numRuns: SIGNALING_MESSAGES });

    let answered = 0;
    const send = async (index: number): Promise<void> => {
      const m = messages[index]!;
      let target = sockets[m.to % sockets.length];
      if (target && !target.socket.connected) {
        // Removed by a fuzzed secretariat message: a delegate is replaced, the others are dropped.
        const at = sockets.indexOf(target);
        if (at >= 0) sockets.splice(at, 1);
        if (target.who !== 'secretariat' && target.who !== 'unjoined') await connectDelegate();
        target = sockets[m.to % Math.max(1, sockets.length)];
      }
      if (!target) return;
      let answer: unknown;
      try {
        answer = await target.socket.timeout(15_000).emitWithAck(m.method, m.payload);
      } catch (error) {
        // A socket the server closed (a removal) has no answer to give; anything else is a failure.
        if (!target.socket.connected) return;
        throw new Error(`message ${index} (${m.method}) got no answer: ${(error as Error).message}; seed ${SEED}`);
      }
      expectAnswer(answer, `message ${index} (${m.method}), seed ${SEED}`);
      answered++;
    };
    // A few messages in flight at once, as a busy client has; each batch is awaited before the next.
    const inFlight = 8;
    for (let start = 0; start < messages.length; start += inFlight) {
      await Promise.all(messages.slice(start, start + inFlight).map((_, i) => send(start + i)));
      if ((start + inFlight) % 2000 === 0) console.info(`security-fuzz: ${start + inFlight} signaling messages, ${answered} answered`);
    }
    for (const { socket } of sockets) socket.close();
    // Messages that lost their socket to a removal are the only ones unanswered; they are few.
    expect(answered).toBeGreaterThan(SIGNALING_MESSAGES * 0.9);
    expect(server.child.exitCode).toBeNull();

    // Still serving: a fresh delegate joins another session and publishes.
    const fresh = await joinedSocket(server.url, 'lena.vogel@acme-telecom.example', 'demo-plenary');
    const transport = await call<{ id: string }>(fresh, 'createWebRtcTransport', { direction: 'send' });
    expect(transport.ok).toBe(true);
    fresh.close();
  }, 300_000);

  it('answers a message sent without an acknowledgement with a protocolError event', async () => {
    const socket = await joinedSocket(server.url, 'camille.durand@demo.fr', 'demo-member-states');
    const got = new Promise<{ code: string }>((resolve) => socket.once('protocolError', resolve));
    socket.emit('produce', { nonsense: true });
    expect(KNOWN_CODES.has((await got).code)).toBe(true);
    socket.close();
  });

  it(`answers ${HTTP_BODIES} generated HTTP bodies with a JSON error code, never a 5xx, and stays up`, async () => {
    const auth = { authorization: `Bearer ${secretariatToken}` };
    const admin = `/api/admin/events/${EVENT}`;
    const targets: Array<{ method: string; path: string; headers?: Record<string, string> }> = [
      { method: 'POST', path: '/api/auth/sign-in' },
      { method: 'POST', path: '/api/join' },
      { method: 'POST', path: '/api/registry/webhook' },
      { method: 'POST', path: '/dev/token' },
      { method: 'PUT', path: `${admin}/registrations/p-fuzz-1`, headers: auth },
      { method: 'POST', path: `${admin}/registrations/p-fuzz-1/revoke`, headers: auth },
      { method: 'POST', path: `${admin}/registrations/import`, headers: auth },
      { method: 'PUT', path: `${admin}/sessions/fuzz-session`, headers: auth },
      { method: 'PUT', path: `${admin}/meetings/fuzz-meeting`, headers: auth },
      { method: 'POST', path: `${admin}/sessions/demo-council/lifecycle`, headers: auth },
      { method: 'POST', path: `${admin}/sessions/demo-council/lock`, headers: auth },
      { method: 'GET', path: `${admin}/audit`, headers: auth },
      { method: 'POST', path: '/api/admin/cluster/drain', headers: auth },
    ];
    const contentTypes = ['application/json', 'text/csv', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream'];
    const body = fc.oneof(
      { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
      { weight: 2, arbitrary: fc.string({ maxLength: 2000 }) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes).toString('latin1')) },
      { weight: 1, arbitrary: fc.constant('x'.repeat(40_000)) },
      { weight: 2, arbitrary: fc.array(fc.array(fc.string({ maxLength: 30 }), { maxLength: 10 }), { maxLength: 20 }).map((rows) => rows.map((r) => r.join(',')).join('\n')) },
    );
    const request = fc.record({ target: fc.constantFrom(...targets), body, contentType: fc.constantFrom(...contentTypes), query: fc.string({ maxLength: 40 }) });
    const requests = fc.sample(request, { seed: SEED + 1, numRuns: HTTP_BODIES });
    for (const [index, r] of requests.entries()) {
      const get = r.target.method === 'GET';
      const res = await fetch(`${server.url}${r.target.path}${get ? `?${encodeURIComponent(r.query)}=${encodeURIComponent(r.body.slice(0, 200))}` : ''}`, {
        method: r.target.method,
        headers: { 'content-type': r.contentType, ...r.target.headers },
        body: get ? undefined : r.body,
      });
      const text = await res.text();
      const context = `HTTP ${index} ${r.target.method} ${r.target.path} → ${res.status}, seed ${SEED}`;
      expect(res.status, `${context}: ${text.slice(0, 300)}`).toBeLessThan(500);
      expect(leaksInternals(text), `${context}: ${text.slice(0, 300)}`).toBe(false);
      if (res.status >= 400) {
        const parsed = JSON.parse(text) as { error?: { code?: string } };
        expect(KNOWN_CODES.has(String(parsed.error?.code)), `${context}: ${text.slice(0, 300)}`).toBe(true);
      }
    }
    expect(server.child.exitCode).toBeNull();
    await waitFor(async () => (await fetch(`${server.url}/healthz`)).ok, { what: 'healthz after the HTTP fuzz' });
  }, 180_000);
});

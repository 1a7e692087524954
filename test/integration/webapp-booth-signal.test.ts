import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeetingServer } from '../../server/meeting-server.js';
import { joinedSocket } from '../helpers/accreditation-client.js';
import { call } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

// "Slow down" and "repeat" from a booth (the interpreter's page, issue 13), over real signaling clients of a
// real server: the moderators and the current speaker get them, nobody else; only the booth's own
// interpreters may send them, and each booth lights each lamp at most once every few seconds.

type Signal = { language: string; kind: string; from: Record<string, unknown>; at: number };
const SESSION = 'demo-council'; // a moderated floor: the chair gives it, so the speaker is known without audio

let server: MeetingServer;
const sockets: Socket[] = [];
const join = async (email: string): Promise<Socket> => {
  const s = await joinedSocket(server.url, email, SESSION);
  sockets.push(s);
  return s;
};
const code = (a: { ok: boolean; error?: { code: string } }): string => (a.ok ? 'ok' : a.error!.code);

/** Collects every boothSignal a socket receives. */
function collect(socket: Socket): Signal[] {
  const got: Signal[] = [];
  socket.on('boothSignal', (s: Signal) => got.push(s));
  return got;
}

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
});

describe('booth signals (slow down, repeat)', () => {
  it('reach the moderators and the speaker only, from the booth’s interpreters only, once per kind and interval', async () => {
    const chair = await join('kwame.mensah@demo.gh');
    const secretariat = await join('sofia.rossi@secretariat.example');
    const speaker = await join('amina.odhiambo@demo.ke');
    const delegate = await join('beatriz.souza@demo.br');
    const elodie = await join('elodie.martin@interpreters.example');
    const julien = await join('julien.petit@interpreters.example');
    const grace = await join('grace.taylor@interpreters.example');
    const received = { chair: collect(chair), secretariat: collect(secretariat), speaker: collect(speaker), delegate: collect(delegate), julien: collect(julien), grace: collect(grace) };

    // Amina asks for the floor and the chair gives it: she is the current speaker.
    const speaking = nextEvent<[{ peerId: string | null }]>(delegate, 'activeSpeaker');
    expect(code(await call(speaker, 'requestFloor', {}))).toBe('ok');
    expect(code(await call(chair, 'giveFloor', { participantId: 'p-ke-1' }))).toBe('ok');
    expect((await speaking)[0].peerId).toBe('p-ke-1');

    // Refusals: not an interpreter, another booth's interpreter, an unknown booth, a malformed kind.
    expect(code(await call(delegate, 'boothSignal', { language: 'fr', kind: 'slow_down' }))).toBe('FORBIDDEN');
    expect(code(await call(chair, 'boothSignal', { language: 'fr', kind: 'slow_down' }))).toBe('FORBIDDEN');
    expect(code(await call(grace, 'boothSignal', { language: 'fr', kind: 'slow_down' }))).toBe('FORBIDDEN');
    expect(code(await call(elodie, 'boothSignal', { language: 'fr', kind: 'louder' }))).toBe('BAD_REQUEST');
    expect(code(await call(elodie, 'boothSignal', { language: 'fr', kind: 'repeat', extra: 1 }))).toBe('BAD_REQUEST');

    const toChair = nextEvent<[Signal]>(chair, 'boothSignal');
    const toSecretariat = nextEvent<[Signal]>(secretariat, 'boothSignal');
    const toSpeaker = nextEvent<[Signal]>(speaker, 'boothSignal');
    expect(code(await call(elodie, 'boothSignal', { language: 'fr', kind: 'slow_down' }))).toBe('ok');
    for (const [signal] of await Promise.all([toChair, toSecretariat, toSpeaker])) {
      expect(signal).toMatchObject({ language: 'fr', kind: 'slow_down', from: { name: 'Élodie Martin' } });
      // The interpreter's name only: no id, e-mail or entity.
      expect(Object.keys(signal.from)).toEqual(['name']);
    }

    // The same lamp again from the partner, at once: refused; the other lamp and another booth still light.
    const limited = await call(julien, 'boothSignal', { language: 'fr', kind: 'slow_down' });
    expect(limited).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
    expect(code(await call(julien, 'boothSignal', { language: 'fr', kind: 'repeat' }))).toBe('ok');
    expect(code(await call(grace, 'boothSignal', { language: 'en', kind: 'slow_down' }))).toBe('ok');
    await waitFor(() => received.chair.length === 3 && received.speaker.length === 3 && received.secretariat.length === 3, { what: 'three signals at the chair, the secretariat and the speaker' });
    expect(received.chair.map((s) => `${s.language}:${s.kind}:${s.from.name as string}`)).toEqual(['fr:slow_down:Élodie Martin', 'fr:repeat:Julien Petit', 'en:slow_down:Grace Taylor']);

    // After a marker event that everyone gets (the floor taken back), nobody else had any signal.
    const marker = Promise.all([delegate, julien, grace].map((s) => nextEvent(s, 'floorState')));
    expect(code(await call(chair, 'takeFloor', {}))).toBe('ok');
    await marker;
    expect(received.delegate).toEqual([]);
    expect(received.julien).toEqual([]);
    expect(received.grace).toEqual([]);

    // Without a speaker, the signal still reaches the moderators (and Amina, no longer speaking, does not get it).
    const toChairAgain = nextEvent<[Signal]>(chair, 'boothSignal');
    expect(code(await call(grace, 'boothSignal', { language: 'en', kind: 'repeat' }))).toBe('ok');
    expect((await toChairAgain)[0]).toMatchObject({ language: 'en', kind: 'repeat' });
    const marker2 = nextEvent(speaker, 'floorState');
    expect(code(await call(speaker, 'requestFloor', {}))).toBe('ok');
    await marker2;
    expect(received.speaker).toHaveLength(3);
  });
});

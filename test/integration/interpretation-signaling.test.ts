import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { joinedSocket, tryProduce } from '../helpers/accreditation-client.js';
import { call } from '../helpers/signaling-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { nextEvent } from '../helpers/wait.js';

const ADMIN_KEY = 'admin-api-key-admin-api-key-0123456789';
let server: MeetingServer;
const sockets: Socket[] = [];
const join = async (email: string): Promise<Socket> => {
  const s = await joinedSocket(server.url, email, 'demo-plenary');
  sockets.push(s);
  return s;
};
const code = (a: { ok: boolean; error?: { code: string } }): string => (a.ok ? 'ok' : a.error!.code);

beforeAll(async () => {
  server = await startTestServer({ PLENUM_DEV_MODE: 'false', PLENUM_ADMIN_API_KEY: ADMIN_KEY });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
});

describe('interpretation over signaling: booths, refusals, captions', () => {
  it('refuses a second live microphone (BOOTH_OCCUPIED), other booths, the floor, and resuming a booth producer directly', async () => {
    const elodie = await join('elodie.martin@interpreters.example');
    const julien = await join('julien.petit@interpreters.example');
    expect(await tryProduce(elodie, 'es', 2001)).toBe('FORBIDDEN');
    expect(await tryProduce(elodie, 'floor', 2002)).toBe('FORBIDDEN');
    expect(await tryProduce(elodie, 'fr', 2003)).toBe('ok');
    expect(await tryProduce(julien, 'fr', 2004)).toBe('ok');

    const state = nextEvent<[{ live: string | null }]>(julien, 'boothState');
    expect(code(await call(elodie, 'boothGoLive', { language: 'fr' }))).toBe('ok');
    expect((await state)[0].live).toBe('p-int-fr-1');
    const occupied = await call(julien, 'boothGoLive', { language: 'fr' });
    expect(occupied).toMatchObject({ ok: false, error: { code: 'BOOTH_OCCUPIED', message: expect.stringContaining('Élodie Martin') } });
    expect(code(await call(julien, 'boothGoLive', { language: 'es' }))).toBe('FORBIDDEN');

    // Julien's producer is paused by the server; resuming it directly would bypass the booth.
    const room = [...server.rooms.all].find((r) => r.id === 'demo-plenary')!;
    const julienProducer = [...room.participants.get('p-int-fr-2')!.endpoint.producers.values()][0]!;
    expect(julienProducer.paused).toBe(true);
    expect(code(await call(julien, 'resumeProducer', { producerId: julienProducer.id }))).toBe('INVALID_STATE');
    expect(julienProducer.paused).toBe(true);

    // Booth chat reaches the partner.
    const chat = nextEvent<[{ text: string; from: { name: string } }]>(julien, 'boothChat');
    expect(code(await call(elodie, 'boothChat', { language: 'fr', text: 'Speaker switches to Spanish next' }))).toBe('ok');
    expect((await chat)[0]).toMatchObject({ text: 'Speaker switches to Spanish next', from: { name: 'Élodie Martin' } });

    // Handover over signaling.
    expect(code(await call(elodie, 'boothHandover', { language: 'fr', action: 'offer' }))).toBe('ok');
    expect(code(await call(julien, 'boothHandover', { language: 'fr', action: 'accept' }))).toBe('ok');
    expect(julienProducer.paused).toBe(false);
  });

  it('listeners cannot produce or work in a booth; they choose a channel and learn whether it is live', async () => {
    const omar = await join('omar.haddad@openaccess.example');
    expect(await tryProduce(omar, 'floor', 2010)).toBe('FORBIDDEN');
    expect(code(await call(omar, 'boothGoLive', { language: 'fr' }))).toBe('FORBIDDEN');
    expect(code(await call(omar, 'boothChat', { language: 'fr', text: 'hi' }))).toBe('FORBIDDEN');
    expect(await call(omar, 'selectChannel', { channel: 'fr' })).toEqual({ ok: true, data: { channel: 'fr', live: true } });
    expect(await call(omar, 'selectChannel', { channel: 'ar' })).toEqual({ ok: true, data: { channel: 'ar', live: false } });
    expect(code(await call(omar, 'selectChannel', { channel: 'de' }))).toBe('NOT_FOUND');
    expect(code(await call(omar, 'selectChannel', { channel: '../x' }))).toBe('BAD_REQUEST');
  });

  it('the secretariat assigns an interpreter to a booth live; others may not', async () => {
    const grace = await join('grace.taylor@interpreters.example');
    const sofia = await join('sofia.rossi@secretariat.example');
    expect(code(await call(grace, 'boothGoLive', { language: 'ar' }))).toBe('FORBIDDEN');
    expect(code(await call(grace, 'assignInterpreter', { participantId: 'p-int-en-1', language: 'ar' }))).toBe('FORBIDDEN');
    const state = nextEvent<[{ language: string; interpreters: Array<{ id: string }> }]>(grace, 'boothState');
    expect(code(await call(sofia, 'assignInterpreter', { participantId: 'p-int-en-1', language: 'ar' }))).toBe('ok');
    expect((await state)[0]).toMatchObject({ language: 'ar', interpreters: [{ id: 'p-int-en-1' }] });
    expect(code(await call(grace, 'boothGoLive', { language: 'ar' }))).toBe('ok');
  });

  it('captions reach the listeners; final lines are stored and downloadable per language', async () => {
    const noor = await join('noor.rahman@captions.example');
    const haruto = await join('haruto.sato@demo.jp');
    expect(code(await call(haruto, 'publishCaption', { language: 'floor', text: 'x', final: true }))).toBe('FORBIDDEN');
    const caption = nextEvent<[{ language: string; text: string; final: boolean }]>(haruto, 'caption');
    expect(code(await call(noor, 'publishCaption', { language: 'fr', text: 'La séance est ouverte.', final: true }))).toBe('ok');
    expect((await caption)[0]).toMatchObject({ language: 'fr', text: 'La séance est ouverte.', final: true });
    expect(code(await call(noor, 'publishCaption', { language: 'fr', text: 'Nous examinons', final: false }))).toBe('ok');
    expect(code(await call(noor, 'publishCaption', { language: 'fr', text: 'Nous examinons le point 3.', final: true }))).toBe('ok');

    const res = await fetch(`${server.url}/api/admin/events/${DEMO_EVENT_ID}/sessions/demo-plenary/transcripts/fr`, { headers: { 'x-api-key': ADMIN_KEY } });
    expect(res.status).toBe(200);
    const lines = (await res.text()).split('\n');
    expect(lines.map((l) => l.replace(/^\[\d\d:\d\d:\d\d\] /, ''))).toEqual(['La séance est ouverte.', 'Nous examinons le point 3.']);
    const traversal = await fetch(`${server.url}/api/admin/events/${DEMO_EVENT_ID}/sessions/../transcripts/fr`, { headers: { 'x-api-key': ADMIN_KEY } });
    expect(traversal.status).toBe(404);
  });
});

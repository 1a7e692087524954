import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { signInAndJoinPage, waitForPeak } from '../helpers/audio-pages.js';
import { launchChromium } from '../helpers/browser.js';
import { httpRequest } from '../helpers/http-client.js';
import { dominantTone } from '../helpers/recorded-audio.js';
import { SipPhone } from '../helpers/sip-phone.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

// Dial-in with a real SIP phone (Debian's baresip) against the whole server: the trunk's digest, the PIN
// through the same accreditation as the web, the language chosen by keypad and heard as the server mixes it,
// the caller's voice on a moderated floor heard by a delegate in Chromium, three wrong PINs, a revocation.
// Tones: the French interpreter 880 Hz, the phone's microphone 600 Hz.

const ADMIN_KEY = 'sip-dial-in-admin-api-key-0123456789';
const TRUNK = { user: 'pbx-trunk', password: 'a-long-trunk-password-for-tests' };
const SESSION = 'sip-council';
const NUMBER = '4201';
const INTERPRETER_HZ = 880;
const PHONE_HZ = 600;
const rtpBase = 42000 + 2 * Math.floor(Math.random() * 4000);

let server: MeetingServer;
let browser: Browser;
let interpreter: Page;
let listener: Page;
const phones: SipPhone[] = [];
const apiKey = { 'x-api-key': ADMIN_KEY };

async function issuePin(personId: string): Promise<string> {
  const res = await httpRequest('POST', `${server.url}/api/admin/events/${DEMO_EVENT_ID}/people/${personId}/dial-in-pin`, undefined, apiKey);
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json!.pin as string;
}

async function phone(options: { authPassword?: string; toneHz?: number } = {}): Promise<SipPhone> {
  const p = await SipPhone.start({ authUser: TRUNK.user, authPassword: options.authPassword ?? TRUNK.password, codec: 'PCMU', toneHz: options.toneHz ?? PHONE_HZ });
  phones.push(p);
  return p;
}

const dialUri = (): string => `sip:${NUMBER}@127.0.0.1:${server.dialIn!.ports.udp}`;
const room = () => server.rooms.get(SESSION)!;

/** The last `ms` of what the phone heard (48 kHz mono), read during the call. */
async function heardByPhone(p: SipPhone, ms: number): Promise<Int16Array | undefined> {
  const samples = await p.recordedAudio();
  return samples && samples.length >= ms * 48 ? samples.subarray(samples.length - ms * 48) : undefined;
}

beforeAll(async () => {
  server = await startTestServer({
    PLENUM_DEV_MODE: 'false',
    PLENUM_ADMIN_API_KEY: ADMIN_KEY,
    PLENUM_SIP_PORT: '0',
    PLENUM_SIP_HOST: '127.0.0.1',
    PLENUM_SIP_MEDIA_ADDRESS: '127.0.0.1',
    PLENUM_SIP_RTP_PORTS: `${rtpBase}-${rtpBase + 199}`,
    PLENUM_SIP_TRUNK_USER: TRUNK.user,
    PLENUM_SIP_TRUNK_PASSWORD: TRUNK.password,
  });
  const put = await httpRequest(
    'PUT',
    `${server.url}/api/admin/events/${DEMO_EVENT_ID}/sessions/${SESSION}`,
    { title: 'Dial-in council', lobby: false, floorControl: true, languages: ['en', 'fr'], dialIn: { number: NUMBER } },
    apiKey,
  );
  expect(put.status, JSON.stringify(put.json)).toBe(200);
  browser = await launchChromium();
  interpreter = await signInAndJoinPage(browser, server.url, 'elodie.martin@interpreters.example', SESSION, { path: '/demo/booth.html', toneHz: INTERPRETER_HZ });
  await interpreter.click('#mic-on');
  // The listener is an observer on the floor: it hears whoever the floor lets through.
  listener = await signInAndJoinPage(browser, server.url, 'omar.haddad@openaccess.example', SESSION, {});
}, 120_000);

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('dial-in with a real SIP phone (baresip)', () => {
  it('a caller keys the PIN and a language, hears that booth, appears as a phone, and is heard while holding the floor', async () => {
    const pin = await issuePin('p-ke-2');
    const caller = await phone();
    await caller.dial(dialUri());
    await caller.waitForEvent('CALL_ESTABLISHED');
    await caller.sendDigits(`${pin}#`);

    // Seated as Brian Kamau of Kenya, marked as a phone, counted for the quorum.
    const seated = await waitFor(() => room().participants.get('p-ke-2'), { timeoutMs: 20_000, what: 'the caller in the room' });
    expect(seated.info).toMatchObject({ name: 'Brian Kamau', entity: { name: 'Kenya' }, via: 'phone' });
    expect(room().quorum().byType.member_state?.entities).toContain('Kenya');

    // 2: French (the session's languages are en, fr). The phone hears the interpreter's tone, mixed on the server.
    await caller.sendDigits('2');
    await waitFor(
      async () => {
        const last = await heardByPhone(caller, 1000);
        return last !== undefined && dominantTone(last, 0, 1000, [INTERPRETER_HZ, PHONE_HZ, 440]) === INTERPRETER_HZ;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'the French booth on the phone' },
    );

    // Star asks for the moderated floor; given it, the caller is heard by a delegate in Chromium.
    await caller.sendDigits('*');
    await waitFor(() => room().floor.state().queue.some((s) => s.id === 'p-ke-2'), { timeoutMs: 15_000, what: 'the floor request' });
    const microphone = () => [...room().participants.get('p-ke-2')!.endpoint.producers.values()][0]!;
    expect(microphone().paused).toBe(true); // asked for, not yet given: not heard
    room().floor.give('p-ke-2');
    await waitForPeak(listener, PHONE_HZ, [], 30_000);
    expect(microphone().paused).toBe(false);
    // The floor taken back: the caller's microphone is closed on the server again.
    room().floor.take();
    await waitFor(() => microphone().paused, { timeoutMs: 10_000, what: 'the microphone paused' });

    // Hanging up leaves the room.
    await caller.hangUp();
    await waitFor(() => !room().participants.has('p-ke-2'), { timeoutMs: 15_000, what: 'the caller gone' });
  });

  it('a wrong PIN three times ends the call, each try audited as PIN_INVALID', async () => {
    const caller = await phone();
    await caller.dial(dialUri());
    await caller.waitForEvent('CALL_ESTABLISHED');
    await caller.sendDigits('999999#');
    await caller.sendDigits('888888#');
    await caller.sendDigits('777777#');
    await caller.waitForEvent('CALL_CLOSED', 60_000);
    const { records } = await server.accreditation.service.audit.query({ sessionId: SESSION, limit: 100 });
    expect(records.filter((r) => r.reasons.includes('PIN_INVALID')).length).toBeGreaterThanOrEqual(3);
  });

  it('a trunk with a wrong password never reaches the PIN prompt', async () => {
    const caller = await phone({ authPassword: 'not-the-trunk-password' });
    await caller.dial(dialUri());
    await caller.waitForEvent('CALL_CLOSED', 30_000);
    expect(caller.events.some((e) => e.type === 'CALL_ESTABLISHED')).toBe(false);
  });

  it("a revoked person's call is ended", async () => {
    const pin = await issuePin('p-fr-1');
    const caller = await phone();
    await caller.dial(dialUri());
    await caller.waitForEvent('CALL_ESTABLISHED');
    await caller.sendDigits(`${pin}#`);
    await waitFor(() => room().participants.get('p-fr-1'), { timeoutMs: 20_000, what: 'the caller in the room' });
    const revoke = await httpRequest('POST', `${server.url}/api/admin/events/${DEMO_EVENT_ID}/registrations/p-fr-1/revoke`, {}, apiKey);
    expect(revoke.status, JSON.stringify(revoke.json)).toBeLessThan(300);
    await caller.waitForEvent('CALL_CLOSED', 30_000);
    expect(room().participants.has('p-fr-1')).toBe(false);
  });
});

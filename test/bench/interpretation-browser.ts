// A listener's channel switch in real Chromium, through the SDK and the real server: from the page's
// `client.selectChannel(language)` call to the first RTP packet of the new channel at the page's receiver
// (the consumer's inbound-rtp stats). Language to language (fr <-> es), in each listenerChannels mode:
// `selected` (the default: the old consumer is closed, a new one created) and `all` (a paused consumer resumed).
import type { Browser, Page } from 'playwright-core';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { signInAndJoinPage, waitForPeak } from '../helpers/audio-pages.js';
import { launchChromium } from '../helpers/browser.js';
import { startTestServer } from '../helpers/test-server.js';

const ADMIN_KEY = 'bench-admin-api-key-bench-admin-api-key';
const SWITCHES = Number(process.env.BENCH_SWITCHES ?? 20);

/** One switch as the page saw it, in ms from the selectChannel call. */
interface SwitchTiming {
  answered: number;
  firstPacket: number;
  /** Where firstPacket came from: the receiver's own arrival timestamp, or the stats poll that saw it. */
  clock: 'lastPacketReceivedTimestamp' | 'poll';
}

/**
 * Runs in the page: selects `channel` and polls the chosen channel's audio consumers' inbound-rtp stats
 * (every 2 ms) until one has received a packet since the call. A packet interval is 20 ms, so a poll that
 * sees `k` new packets dates the first at the last one's arrival minus (k - 1) intervals.
 */
function switchInPage(channel: string): Promise<SwitchTiming> {
  type Stats = { type: string; packetsReceived?: number; lastPacketReceivedTimestamp?: number };
  type Consumer = { getStats(): Promise<Map<string, Stats>> };
  const client = (
    window as unknown as {
      plenum: { client: { selectChannel(c: string): Promise<void>; remoteTracks: Map<string, { channel: string; kind: string }>; consumers: Map<string, Consumer> } };
    }
  ).plenum.client;
  const received = async (consumer: Consumer) => {
    for (const s of (await consumer.getStats()).values()) if (s.type === 'inbound-rtp') return { n: s.packetsReceived ?? 0, last: s.lastPacketReceivedTimestamp };
    return { n: 0, last: undefined };
  };
  const audioOf = (c: string) => [...client.remoteTracks].filter(([, r]) => r.channel === c && r.kind === 'audio').map(([id]) => id);
  return (async () => {
    // Consumers of the channel that already exist (`all`: paused ones) count only packets after the call.
    const before = new Map<string, number>();
    for (const id of audioOf(channel)) {
      const consumer = client.consumers.get(id);
      if (consumer) before.set(id, (await received(consumer)).n);
    }
    const t0 = performance.now();
    const epoch0 = performance.timeOrigin + t0;
    await client.selectChannel(channel);
    const answered = performance.now() - t0;
    const deadline = t0 + 5000;
    while (performance.now() < deadline) {
      for (const id of audioOf(channel)) {
        const consumer = client.consumers.get(id);
        if (!consumer) continue;
        const { n, last } = await received(consumer);
        const fresh = n - (before.get(id) ?? 0);
        if (fresh <= 0) continue;
        const polled = performance.now() - t0;
        const first = last === undefined ? undefined : last - (fresh - 1) * 20 - epoch0;
        // The receiver's own timestamp, when it is on the page's clock (it falls inside the call and this poll).
        if (first !== undefined && first >= 0 && first <= polled) return { answered, firstPacket: first, clock: 'lastPacketReceivedTimestamp' as const };
        return { answered, firstPacket: polled, clock: 'poll' as const };
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    throw new Error(`no packet of ${channel} within 5 s`);
  })();
}

const round = (n: number): number => Math.round(n * 10) / 10;
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN);
};

async function createSession(server: MeetingServer, sessionId: string, extra: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${server.url}/api/admin/events/${DEMO_EVENT_ID}/sessions/${sessionId}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY },
    body: JSON.stringify({ title: `Switch bench (${sessionId})`, lobby: false, languages: ['fr', 'es'], ...extra }),
  });
  if (!res.ok) throw new Error(`session ${sessionId}: ${res.status} ${await res.text()}`);
}

/** A floor speaker (440 Hz), a live French (880 Hz) and Spanish (1320 Hz) interpreter, and one listener switching. */
async function measure(browser: Browser, server: MeetingServer, sessionId: string) {
  const join = (email: string, options: Parameters<typeof signInAndJoinPage>[4]) => signInAndJoinPage(browser, server.url, email, sessionId, options);
  const pages: Page[] = [];
  try {
    pages.push(await join('amina.odhiambo@demo.ke', { toneHz: 440 }));
    const fr = await join('elodie.martin@interpreters.example', { path: '/demo/booth.html', toneHz: 880 });
    const es = await join('lucia.fernandez@interpreters.example', { path: '/demo/booth.html', toneHz: 1320 });
    pages.push(fr, es);
    for (const booth of [fr, es]) await booth.click('#mic-on');
    const listener = await join('omar.haddad@openaccess.example', {});
    pages.push(listener);
    // tsx (esbuild, keepNames) wraps named functions in `__name(...)`: functions evaluated in the page need it.
    await listener.evaluate('globalThis.__name = (f) => f');
    // Both booths are heard before measuring: the switch then measures the switch, not a booth warming up.
    for (const [channel, hz] of [['fr', 880], ['es', 1320]] as const) {
      await listener.selectOption('#channel', channel);
      await waitForPeak(listener, hz);
    }
    const mode = await listener.evaluate(() => (window as unknown as { plenum: { client: { listenerChannels: string } } }).plenum.client.listenerChannels);
    const timings: SwitchTiming[] = [];
    for (let i = 0; i < SWITCHES; i++) {
      timings.push(await listener.evaluate(switchInPage, i % 2 === 0 ? 'fr' : 'es'));
      await listener.waitForTimeout(300); // the previous channel's consumer closed, the new one settled
    }
    const first = timings.map((t) => t.firstPacket);
    const answered = timings.map((t) => t.answered);
    return {
      session: sessionId,
      listenerChannels: mode,
      switches: timings.length,
      selectChannelToFirstPacketMs: { p50: pct(first, 50), p95: pct(first, 95), max: pct(first, 100) },
      selectChannelAnsweredMs: { p50: pct(answered, 50), p95: pct(answered, 95) },
      timedByReceiverTimestamp: timings.filter((t) => t.clock === 'lastPacketReceivedTimestamp').length,
    };
  } finally {
    for (const page of pages) await page.context().close();
  }
}

/** Both modes on one server, one after the other (the same people), `selected` first. */
export async function browserChannelSwitch() {
  const server = await startTestServer({ PLENUM_DEV_MODE: 'false', PLENUM_ADMIN_API_KEY: ADMIN_KEY });
  let browser: Browser | undefined;
  try {
    await createSession(server, 'switch-default', {});
    await createSession(server, 'switch-all', { listenerChannels: 'all' });
    browser = await launchChromium();
    const byDefault = await measure(browser, server, 'switch-default');
    const all = await measure(browser, server, 'switch-all');
    return { target: { selectChannelToFirstPacketMs: 150 }, default: byDefault, all };
  } finally {
    await browser?.close();
    await server.close();
  }
}

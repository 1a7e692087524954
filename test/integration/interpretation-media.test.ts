import type { types } from 'mediasoup';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RoomMedia, type WorkerPool } from '../../media/index.js';
import { CloseReason } from '../../protocol/errors.js';
import type { ServerEvents } from '../../protocol/signaling.js';
import { applyChannelSelection } from '../../server/interpretation/channel-selection.js';
import type { Participant } from '../../server/rooms/participant.js';
import { Room } from '../../server/rooms/room.js';
import { grants } from '../helpers/grants.js';
import { startPool, testLimits, testLog } from '../helpers/media.js';
import { RtpInjector, RtpSink } from '../helpers/rtp.js';
import { waitFor } from '../helpers/wait.js';

// Real mediasoup: RTP injected through PlainTransports into the floor and the booths, and plain RTP sinks
// as listeners. The server's own booth and channel-selection code decides what each listener receives.

type Events = Array<{ event: keyof ServerEvents; data: unknown }>;

let pool: WorkerPool;
let room: Room;
const injectors: RtpInjector[] = [];
const sinks: RtpSink[] = [];

beforeEach(async () => {
  pool = await startPool();
  const media = await RoomMedia.create(pool.leastLoaded()!, testLimits, testLog);
  room = new Room('plenary', media, { idleCloseMs: 60_000, languages: ['fr', 'es'], handoverTakeAfterMs: 300, floor: { controlled: false, speakingTimeLimitMs: 180_000, speakingTimeWarningMs: 30_000 } }, testLog);
});
afterEach(() => {
  for (const i of injectors.splice(0)) i.close();
  for (const s of sinks.splice(0)) s.close();
  room.close(CloseReason.SERVER_SHUTDOWN);
  pool.close();
});

function person(id: string, booths: string[] = [], floor = false): { p: Participant; events: Events } {
  const events: Events = [];
  const p = room.join(id, grants({ room: 'plenary', person: id, name: id, publish: { floor, booths, captions: false } }), room.media.rtpCapabilities, (event, data) =>
    events.push({ event, data }),
  );
  return { p, events };
}

/** An audio stream into a channel from a participant, through the same path a real producer takes. */
async function talk(p: Participant, channel: string, ssrc: number): Promise<RtpInjector> {
  const injector = await RtpInjector.create(room.media.router, ssrc, { channel, source: 'mic', endpointId: p.id });
  injectors.push(injector);
  await room.interpretation.onProducer(p, injector.producer);
  injector.start();
  return injector;
}

/** A listener: consumes every channel (as the SDK does) and applies a channel choice with the server's code. */
class Listener {
  readonly consumers = new Map<string, types.Consumer>();
  private constructor(readonly sink: RtpSink) {}

  static async create(sources: Record<string, RtpInjector>): Promise<Listener> {
    const listener = new Listener(await RtpSink.create(room.media.router));
    sinks.push(listener.sink);
    for (const [label, injector] of Object.entries(sources)) listener.consumers.set(label, await listener.sink.consume(injector.producer, true));
    return listener;
  }

  select(channel: string): Promise<void> {
    return applyChannelSelection(this.consumers.values(), channel);
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [label, c] of this.consumers) out[label] = this.sink.packetsBySsrc.get(c.rtpParameters.encodings![0]!.ssrc!) ?? 0;
    return out;
  }

  /** Which sources reached this listener while `reference` delivered 25 more packets. */
  async hears(reference = 'floor'): Promise<string[]> {
    const before = this.counts();
    await waitFor(() => (this.counts()[reference] ?? 0) - (before[reference] ?? 0) >= 25, { what: `25 packets of ${reference}` });
    const after = this.counts();
    return Object.keys(after)
      .filter((label) => (after[label] ?? 0) - (before[label] ?? 0) >= 5)
      .sort();
  }
}

/** The floor (chair), two French interpreters A and B, and a listener on French. */
async function frenchBoothOfTwo() {
  const chair = person('chair', [], true);
  const a = person('interp-a', ['fr']);
  const b = person('interp-b', ['fr']);
  const sources = { floor: await talk(chair.p, 'floor', 0x1000), a: await talk(a.p, 'fr', 0x4000), b: await talk(b.p, 'fr', 0x5000) };
  const listener = await Listener.create(sources);
  await listener.select('fr');
  return { chair, a, b, listener };
}

describe('interpretation on real mediasoup: channels, booths, handover, fallback', () => {
  it('each listener receives exactly the floor plus the language they chose', async () => {
    const chair = person('chair', [], true);
    const fr = person('interp-fr', ['fr']);
    const es = person('interp-es', ['es']);
    const sources = { floor: await talk(chair.p, 'floor', 0x1000), fr: await talk(fr.p, 'fr', 0x2000), es: await talk(es.p, 'es', 0x3000) };
    await room.interpretation.act('fr', (b) => b.goLive('interp-fr'));
    await room.interpretation.act('es', (b) => b.goLive('interp-es'));

    const floorOnly = await Listener.create(sources);
    const french = await Listener.create(sources);
    const spanish = await Listener.create(sources);
    await floorOnly.select('floor');
    await french.select('fr');
    await spanish.select('es');

    expect(await floorOnly.hears()).toEqual(['floor']);
    expect(await french.hears()).toEqual(['floor', 'fr']);
    expect(await spanish.hears()).toEqual(['es', 'floor']);

    // Switching is a resume and a pause on the same consumers.
    const ids = [...french.consumers.values()].map((c) => c.id);
    await french.select('es');
    expect(await french.hears()).toEqual(['es', 'floor']);
    expect([...french.consumers.values()].map((c) => c.id)).toEqual(ids);
    expect(room.interpretation.channels()).toEqual([
      { language: 'fr', live: true, interpreter: 'interp-fr' },
      { language: 'es', live: true, interpreter: 'interp-es' },
    ]);
  });

  it('one live microphone per booth; a handover moves it with no gap; without anyone live the booth is silent', async () => {
    const { chair, b, listener } = await frenchBoothOfTwo();

    // Nobody live: both interpreters' microphones are paused on the server.
    expect(await listener.hears()).toEqual(['floor']);
    expect(room.interpretation.channels()).toEqual([
      { language: 'fr', live: false },
      { language: 'es', live: false },
    ]);

    await room.interpretation.act('fr', (booth) => booth.goLive('interp-a'));
    expect(await listener.hears()).toEqual(['a', 'floor']);
    await expect(room.interpretation.act('fr', (booth) => booth.goLive('interp-b'))).rejects.toMatchObject({ code: 'BOOTH_OCCUPIED' });
    expect(await listener.hears()).toEqual(['a', 'floor']);

    // Booth members are told who is live; everyone is told the channel is live.
    expect(b.events.filter((e) => e.event === 'boothState').at(-1)?.data).toMatchObject({ language: 'fr', live: 'interp-a' });
    expect(chair.events.filter((e) => e.event === 'channelsChanged').at(-1)?.data).toEqual({
      channels: [
        { language: 'fr', live: true, interpreter: 'interp-a' },
        { language: 'es', live: false },
      ],
    });

    // Offer and accept: B resumes before A pauses, so the channel never goes quiet.
    await room.interpretation.act('fr', (booth) => booth.handoverAction('interp-a', 'offer'));
    const before = listener.counts();
    await room.interpretation.act('fr', (booth) => booth.handoverAction('interp-b', 'accept'));
    expect(await listener.hears()).toEqual(['b', 'floor']);
    const after = listener.counts();
    // Across the handover the French channel delivered as many packets as the floor did in the same
    // window, give or take timing at the edges: a gap of 100 ms would cost it five.
    const french = (after.a ?? 0) - (before.a ?? 0) + (after.b ?? 0) - (before.b ?? 0);
    expect(french).toBeGreaterThanOrEqual((after.floor ?? 0) - (before.floor ?? 0) - 3);

    // Cough: B stays live (the channel does not fall back) but is not heard.
    await room.interpretation.act('fr', (booth) => booth.cough('interp-b', true));
    expect(await listener.hears()).toEqual(['floor']);
    expect(room.interpretation.isLive('fr')).toBe(true);
    await room.interpretation.act('fr', (booth) => booth.cough('interp-b', false));
    expect(await listener.hears()).toEqual(['b', 'floor']);

    // Mic off: nobody live, the channel is marked unavailable (listeners fall back to the floor).
    await room.interpretation.act('fr', (booth) => booth.goOff('interp-b'));
    expect(await listener.hears()).toEqual(['floor']);
    expect(room.interpretation.isLive('fr')).toBe(false);
  });

  it('request, no answer, take now; and the live interpreter leaving frees the booth', async () => {
    const { a, b, listener } = await frenchBoothOfTwo();
    await room.interpretation.act('fr', (booth) => booth.goLive('interp-a'));

    await room.interpretation.act('fr', (booth) => booth.handoverAction('interp-b', 'request'));
    expect(a.events.filter((e) => e.event === 'boothState').at(-1)?.data).toMatchObject({ handover: { kind: 'request', from: 'interp-b' } });
    await expect(room.interpretation.act('fr', (booth) => booth.handoverAction('interp-b', 'take'))).rejects.toMatchObject({ code: 'INVALID_STATE' });
    // After the configured 300 ms without an answer, the partner may take the microphone.
    await waitFor(() => room.interpretation.act('fr', (booth) => booth.handoverAction('interp-b', 'take')).then(() => true), { what: 'take now to be allowed' });
    expect(await listener.hears()).toEqual(['b', 'floor']);

    b.p.close(CloseReason.DISCONNECTED);
    expect(room.interpretation.isLive('fr')).toBe(false);
    expect(await listener.hears()).toEqual(['floor']);
  });
});

import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { CallRtpSession } from '../../server/dial-in/media/call-rtp-session.js';
import { PromptPlayer } from '../../server/dial-in/media/prompt-player.js';
import { readRtpHeader } from '../../server/recording/rtp-packet.js';
import { waitFor } from '../helpers/wait.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

async function call(): Promise<{ session: CallRtpSession; received: Buffer[] }> {
  const phone = createSocket('udp4');
  await new Promise<void>((resolve) => phone.bind(0, '127.0.0.1', resolve));
  const received: Buffer[] = [];
  phone.on('message', (m) => received.push(m));
  const base = 44000 + 2 * Math.floor(Math.random() * 2000);
  const session = await CallRtpSession.open({
    address: '127.0.0.1',
    ports: { min: base, max: base + 99 },
    codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 },
    remote: { address: '127.0.0.1', port: phone.address().port },
  });
  cleanup.push(() => session.close(), () => phone.close());
  return { session, received };
}

const frames = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.alloc(160, i));

describe('PromptPlayer', () => {
  it('plays every frame, in order, on one contiguous timeline', async () => {
    const { session, received } = await call();
    const player = new PromptPlayer(session);
    expect(await player.play({ frames: frames(15), samplesPerFrame: 160 })).toBe('done');
    expect(player.playing).toBe(false);
    await waitFor(() => received.length === 15, { what: '15 frames' });
    const headers = received.map((p) => readRtpHeader(p)!);
    expect(received.map((p) => p[12])).toEqual([...Array(15).keys()]);
    expect(headers.slice(1).map((h, i) => (h.timestamp - headers[i]!.timestamp) >>> 0)).toEqual(Array(14).fill(160));
    expect(headers[0]!.marker).toBe(true);
  });

  it('stops when told (a key was pressed) and when the call closes', async () => {
    const { session, received } = await call();
    const player = new PromptPlayer(session);
    const playing = player.play({ frames: frames(500), samplesPerFrame: 160 });
    expect(player.playing).toBe(true);
    await waitFor(() => received.length >= 3, { what: 'the prompt started' });
    player.stop();
    expect(await playing).toBe('interrupted');
    const sent = session.stats.sent;
    expect(sent).toBeLessThan(500);

    const again = player.play({ frames: frames(500), samplesPerFrame: 160 });
    await waitFor(() => session.stats.sent > sent, { what: 'the next prompt started' });
    session.close();
    expect(await again).toBe('interrupted');
    expect(await player.play({ frames: frames(5), samplesPerFrame: 160 })).toBe('interrupted');
  });

  it('interrupts the prompt playing when another one starts', async () => {
    const { session } = await call();
    const player = new PromptPlayer(session);
    const first = player.play({ frames: frames(500), samplesPerFrame: 160 });
    const second = player.play({ frames: frames(2), samplesPerFrame: 160 });
    expect(await first).toBe('interrupted');
    expect(await second).toBe('done');
  });
});

// The plenary benchmark's crowd: a child process (so that its sockets' CPU and memory are not the server's)
// that joins many delegates, open loop at a fixed rate, each receiving what the server pushes or announces
// (with a stage and a gallery page on its screen) and publishing a microphone and a camera. The parent talks to it over IPC (plenary.ts: CrowdProcess).
import { Delegate, sumStats } from './plenary-delegate.js';

export type CrowdRequest =
  | { type: 'join'; delegates: Array<{ url: string; token: string; ssrc: number }>; joinsPerSecond: number }
  | { type: 'stats' }
  | { type: 'close' };

export type CrowdReply =
  | { type: 'joined'; joinMs: number[]; failures: Record<string, number>; failureSamples: string[]; byUrl: Record<string, number> }
  | { type: 'stats'; stats: ReturnType<typeof sumStats>; connected: number };

const delegates: Delegate[] = [];
const reply = (message: CrowdReply): void => void process.send!(message);

async function joinAll(list: Array<{ url: string; token: string; ssrc: number }>, joinsPerSecond: number): Promise<void> {
  const joinMs: number[] = [];
  const failures: Record<string, number> = {};
  const failureSamples: string[] = [];
  const byUrl: Record<string, number> = {};
  const start = performance.now();
  await Promise.all(
    list.map(async ({ url, token, ssrc }, i) => {
      const wait = start + (i / joinsPerSecond) * 1000 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      try {
        const { delegate, answer } = await Delegate.join(url, token);
        delegates.push(delegate);
        joinMs.push(delegate.joinMs);
        byUrl[delegate.url] = (byUrl[delegate.url] ?? 0) + 1;
        // As the SDK: the receive transport (and the screen) right after the join, then the tracks.
        await delegate.receive(answer);
        await delegate.publish(ssrc);
      } catch (error) {
        const code = (error as { code?: string; data?: { code?: string } }).code ?? (error as { data?: { code?: string } }).data?.code ?? (error as Error).message.slice(0, 60);
        failures[code] = (failures[code] ?? 0) + 1;
        if (failureSamples.length < 5) failureSamples.push((error as Error).message.slice(0, 200));
      }
    }),
  );
  reply({ type: 'joined', joinMs, failures, failureSamples, byUrl });
}

process.on('message', (message: CrowdRequest) => {
  if (message.type === 'join') void joinAll(message.delegates, message.joinsPerSecond);
  else if (message.type === 'stats') reply({ type: 'stats', stats: sumStats(delegates.map((d) => d.stats())), connected: delegates.filter((d) => d.socket.connected).length });
  else {
    for (const d of delegates) d.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

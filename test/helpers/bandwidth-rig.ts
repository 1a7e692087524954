import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { MeetingServer } from '../../server/meeting-server.js';
import { launchChromium } from './browser.js';
import { NetworkNamespace } from './network-namespace.js';
import { devToken } from './signaling-client.js';
import { startTestServer } from './test-server.js';
import { UdpDelayRelay } from './udp-delay-relay.js';

const run = promisify(execFile);

/** The receiving page's own audio figures, from its consumers' getStats (inbound-rtp). */
export interface AudioReceipt {
  concealedSamples: number;
  concealmentEvents: number;
  totalSamplesReceived: number;
  jitterBufferDelay: number;
  jitterBufferEmittedCount: number;
  bytesReceived: number;
  packetsLost: number;
  packetsReceived: number;
  /** Every consumer's bytes (audio and video) received so far. */
  allBytesReceived: number;
  videoFramesDecoded: number;
}

/**
 * The low-bandwidth test bed: a real server in this process; a "delegate" Chromium inside its own network
 * namespace, reaching the server only over a veth pair (shaped with `shape()`), its media through a UDP
 * relay that can add delay (`relay.delayMs`); a "speaker" Chromium on the host, unshaped. The server
 * announces the relay's address in its ICE candidates, so every WebRTC flow goes through it.
 */
export class BandwidthRig {
  /** The pages' contexts, closed between tests: a page left open keeps receiving over the shaped link. */
  private readonly contexts: BrowserContext[] = [];

  private constructor(
    readonly ns: NetworkNamespace,
    readonly relay: UdpDelayRelay,
    readonly server: MeetingServer,
    readonly host: Browser,
    readonly inside: Browser,
  ) {}

  /** `speechWav`: the speaker's fake microphone plays this file (48 kHz 16-bit WAV, looped) where no tone is asked for. */
  static async start(env: Record<string, string> = {}, options: { speechWav?: string } = {}): Promise<BandwidthRig> {
    const ns = await NetworkNamespace.create();
    let relay: UdpDelayRelay | undefined;
    let server: MeetingServer | undefined;
    let host: Browser | undefined;
    try {
      // The relay's port is the server's media port too (on loopback), so the candidate it announces is the relay.
      relay = await UdpDelayRelay.start({ address: ns.hostAddress, port: 0 }, { address: '127.0.0.1', port: 0 }, (remote) => remote.address === ns.address);
      relay.setTarget(relay.port);
      server = await startTestServer({
        PLENUM_HOST: '0.0.0.0',
        PLENUM_MEDIA_LISTEN_IP: '127.0.0.1',
        PLENUM_MEDIA_ANNOUNCED_ADDRESS: ns.hostAddress,
        PLENUM_MEDIA_PORT_BASE: String(relay.port),
        ...env,
      });
      host = await launchChromium(options.speechWav ? [`--use-file-for-fake-audio-capture=${options.speechWav}`] : []);
      const inside = await chromium.launch({
        executablePath: await ns.chromiumWrapper(),
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required',
          '--use-fake-ui-for-media-stream',
          '--use-fake-device-for-media-stream',
          // The server is not on loopback from inside: a secure context (mediasoup-client needs one) only by this flag.
          `--unsafely-treat-insecure-origin-as-secure=http://${ns.hostAddress}:${server.port}`,
        ],
      });
      return new BandwidthRig(ns, relay, server, host, inside);
    } catch (error) {
      await host?.close();
      await server?.close();
      relay?.close();
      await ns.close();
      throw error;
    }
  }

  /** The server as the namespace reaches it. */
  get insideUrl(): string {
    return `http://${this.ns.hostAddress}:${this.server.port}`;
  }

  /** Closes every speaker's and delegate's page (their clients leave). */
  async closePages(): Promise<void> {
    await Promise.all(this.contexts.splice(0).map((c) => c.close().catch(() => undefined)));
  }

  async close(): Promise<void> {
    await this.inside.close().catch(() => undefined);
    await this.host.close().catch(() => undefined);
    await this.server.close().catch(() => undefined);
    this.relay.close();
    await this.ns.close();
  }

  /**
   * A speaker on the host: a tone as microphone, else the fake device (and Chromium's fake camera, with
   * simulcast, when `camera`). `booth`: an interpreter publishing into that language's booth and going live
   * (with `token`, grants for it: dev tokens have no booth).
   */
  async speaker(name: string, room: string, options: { toneHz?: number; camera: boolean; opus?: Record<string, boolean>; token?: string; booth?: string }): Promise<Page> {
    const context = await this.host.newContext();
    this.contexts.push(context);
    if (options.toneHz !== undefined) await context.addInitScript(toneScript(options.toneHz));
    const page = await context.newPage();
    page.on('pageerror', (error) => console.error(`[${name}] page error:`, error.message));
    await page.goto(`${this.server.url}/api/config`);
    await loadSdk(page);
    const token = options.token ?? (await devToken(this.server.url, name, room));
    const booth = JSON.stringify(options.booth ?? null);
    await page.evaluate(
      `(async () => {
        const client = new window.PlenumSDK.MeetingClient({ token: ${JSON.stringify(token)}, opus: ${JSON.stringify(options.opus)} });
        window.plenum = { client };
        await client.join();
        if (${booth}) {
          const [track] = (await navigator.mediaDevices.getUserMedia({ audio: true })).getAudioTracks();
          await client.publish(track, 'mic', { channel: ${booth} });
          await client.boothGoLive(${booth});
        } else await client.publishMicrophone();
        if (${options.camera}) await client.publishCamera();
      })()`,
    );
    return page;
  }

  /**
   * A delegate inside the namespace: joins `room` listening to the floor (audio only or not), shows the
   * stage (the speaker's camera at 640×360) unless audio only, and logs the SDK's `audioOnly` events.
   */
  async delegate(name: string, room: string, options: { audioOnly: boolean; token?: string }): Promise<Page> {
    const context = await this.inside.newContext();
    this.contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => console.error(`[${name}] page error:`, error.message));
    await page.goto(`${this.insideUrl}/api/config`);
    await loadSdk(page);
    const token = options.token ?? (await devToken(this.server.url, name, room));
    await page.evaluate(
      `(async () => {
        const client = new window.PlenumSDK.MeetingClient({ token: ${JSON.stringify(token)}, url: ${JSON.stringify(this.insideUrl)}, audioOnly: ${options.audioOnly} });
        window.plenum = { client };
        window.fallbacks = [];
        client.on('audioOnly', (s) => window.fallbacks.push(s.videoFallback));
        await client.join();
        await client.setView({ stage: { width: 640, height: 360 }, tiles: [] });
      })()`,
    );
    return page;
  }
}

/**
 * Speech for the speaker's fake microphone: espeak-ng's voice, resampled by GStreamer to 48 kHz 16-bit mono
 * (what Chromium's fake capture reads). Speech, not a tone: Opus puts its in-band FEC (LBRR) in SILK and
 * hybrid frames only, and a pure tone is coded as CELT.
 */
export async function speechWav(dir: string): Promise<string> {
  const raw = join(dir, 'speech-22k.wav');
  const out = join(dir, 'speech.wav');
  const text =
    'Mister President, distinguished delegates, the committee will now consider the draft resolution on the reach of ' +
    'telecommunication networks in developing countries. The delegation of Kenya has the floor. We thank the secretariat ' +
    'for the report and we support the proposal to extend the study period by two years.';
  await run('espeak-ng', ['-s', '150', '-w', raw, text]);
  await run('gst-launch-1.0', ['-q', 'filesrc', `location=${raw}`, '!', 'wavparse', '!', 'audioconvert', '!', 'audioresample', '!', 'audio/x-raw,rate=48000,channels=1,format=S16LE', '!', 'wavenc', '!', 'filesink', `location=${out}`]);
  return out;
}

function loadSdk(page: Page): Promise<unknown> {
  // Given as text: vitest would rewrite an import() inside a function.
  return page.evaluate("import('/sdk/plenum-sdk.js').then((sdk) => { window.PlenumSDK = sdk; })");
}

/** getUserMedia's microphone is a pure tone (its camera stays Chromium's fake one). */
function toneScript(hz: number): string {
  return `(() => {
    const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (constraints = {}) => {
      if (!constraints.audio) return original(constraints);
      const ctx = new AudioContext();
      const osc = ctx.createOscillator();
      osc.frequency.value = ${hz};
      const gain = ctx.createGain();
      gain.gain.value = 0.3;
      const dest = ctx.createMediaStreamDestination();
      osc.connect(gain).connect(dest);
      osc.start();
      return dest.stream;
    };
  })();`;
}

/** The delegate page's received audio (summed over its audio consumers) and every consumer's bytes. */
export function audioReceipt(page: Page): Promise<AudioReceipt> {
  return page.evaluate(async () => {
    const client = (window as unknown as { plenum: { client: { consumers: Map<string, { kind: string; getStats(): Promise<RTCStatsReport> }> } } }).plenum.client;
    const sum: AudioReceipt = {
      concealedSamples: 0,
      concealmentEvents: 0,
      totalSamplesReceived: 0,
      jitterBufferDelay: 0,
      jitterBufferEmittedCount: 0,
      bytesReceived: 0,
      packetsLost: 0,
      packetsReceived: 0,
      allBytesReceived: 0,
      videoFramesDecoded: 0,
    };
    for (const consumer of client.consumers.values()) {
      const report = await consumer.getStats();
      report.forEach((s: Record<string, number | string>) => {
        if (s.type !== 'inbound-rtp') return;
        const n = (k: string): number => (typeof s[k] === 'number' ? (s[k] as number) : 0);
        sum.allBytesReceived += n('bytesReceived');
        if (consumer.kind === 'video') {
          sum.videoFramesDecoded += n('framesDecoded');
          return;
        }
        sum.concealedSamples += n('concealedSamples');
        sum.concealmentEvents += n('concealmentEvents');
        sum.totalSamplesReceived += n('totalSamplesReceived');
        sum.jitterBufferDelay += n('jitterBufferDelay');
        sum.jitterBufferEmittedCount += n('jitterBufferEmittedCount');
        sum.bytesReceived += n('bytesReceived');
        sum.packetsLost += n('packetsLost');
        sum.packetsReceived += n('packetsReceived');
      });
    }
    return sum;
  });
}

/** What was received between two receipts: concealment %, mean jitter-buffer delay (ms), bytes. */
export function between(a: AudioReceipt, b: AudioReceipt): { concealedPercent: number; concealmentEvents: number; jitterBufferMs: number; audioBytes: number; allBytes: number; seconds: number; lossPercent: number } {
  const total = b.totalSamplesReceived - a.totalSamplesReceived;
  const emitted = b.jitterBufferEmittedCount - a.jitterBufferEmittedCount;
  const packets = b.packetsReceived - a.packetsReceived + (b.packetsLost - a.packetsLost);
  return {
    concealedPercent: total > 0 ? ((b.concealedSamples - a.concealedSamples) / total) * 100 : 100,
    concealmentEvents: b.concealmentEvents - a.concealmentEvents,
    jitterBufferMs: emitted > 0 ? ((b.jitterBufferDelay - a.jitterBufferDelay) / emitted) * 1000 : 0,
    audioBytes: b.bytesReceived - a.bytesReceived,
    allBytes: b.allBytesReceived - a.allBytesReceived,
    seconds: total / 48_000,
    lossPercent: packets > 0 ? ((b.packetsLost - a.packetsLost) / packets) * 100 : 0,
  };
}

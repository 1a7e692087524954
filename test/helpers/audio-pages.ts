import type { Browser, Page } from 'playwright-core';
import { DEMO_ACCESS_CODE } from '../../accreditation/demo-seed.js';

/**
 * Replaces the page's microphone with a pure tone (a WebAudio oscillator) so a listening page can tell
 * channels apart by frequency. Video still comes from Chromium's fake camera.
 */
export function toneMicrophone(frequency: number): string {
  return `(() => {
    const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (constraints = {}) => {
      const stream = constraints.video ? await original({ video: constraints.video }) : new MediaStream();
      if (constraints.audio) {
        const ctx = new AudioContext();
        const osc = ctx.createOscillator();
        osc.frequency.value = ${frequency};
        const gain = ctx.createGain();
        gain.gain.value = ${frequency > 0 ? 0.3 : 0};
        const dest = ctx.createMediaStreamDestination();
        osc.connect(gain).connect(dest);
        osc.start();
        window.__tone = ctx;
        stream.addTrack(dest.stream.getAudioTracks()[0]);
      }
      return stream;
    };
  })();`;
}

export interface Spectrum {
  peakHz: number;
  peakDb: number;
  /** Level (dB) around each asked frequency. */
  levels: Record<number, number>;
}

/** Reads the SDK's output analyser: what this page's user hears. */
export function spectrum(page: Page, frequencies: number[] = []): Promise<Spectrum> {
  return page.evaluate((freqs) => {
    const analyser = (window as unknown as { plenum: { client: { audio: { analyser: AnalyserNode } } } }).plenum.client.audio.analyser;
    const data = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(data);
    const binHz = analyser.context.sampleRate / analyser.fftSize;
    let peak = 1;
    for (let i = 2; i < data.length; i++) if (data[i]! > data[peak]!) peak = i;
    const level = (f: number): number => {
      const b = Math.round(f / binHz);
      return Math.max(...Array.from(data.slice(b - 2, b + 3)));
    };
    return { peakHz: peak * binHz, peakDb: data[peak]!, levels: Object.fromEntries(freqs.map((f) => [f, level(f)])) };
  }, frequencies);
}

/** Polls the page's analyser until the loudest frequency is `hz` (within two FFT bins), or fails after the deadline. */
export async function waitForPeak(page: Page, hz: number, frequencies: number[] = [], timeoutMs = 20_000): Promise<Spectrum> {
  const deadline = Date.now() + timeoutMs;
  let last: Spectrum | undefined;
  while (Date.now() < deadline) {
    last = await spectrum(page, frequencies);
    if (Math.abs(last.peakHz - hz) < 12 && last.peakDb > -80) return last;
    await page.waitForTimeout(100);
  }
  throw new Error(`the page never heard ${hz} Hz; last peak ${last?.peakHz.toFixed(0)} Hz at ${last?.peakDb.toFixed(1)} dB`);
}

/** Opens a page (delegate page by default), signs in with the demo code and joins a session through the UI. */
export async function signInAndJoinPage(
  browser: Browser,
  baseUrl: string,
  email: string,
  sessionId: string,
  /** toneHz: the microphone's tone; 0 for a silent microphone; absent for Chromium's fake device. */
  options: { path?: string; toneHz?: number; untilStatus?: string } = {},
): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
  if (options.toneHz !== undefined) await context.addInitScript(toneMicrophone(options.toneHz));
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${email}] page error:`, error.message));
  await page.goto(`${baseUrl}${options.path ?? '/demo/'}`);
  await page.fill('#email', email);
  await page.fill('#access-code', DEMO_ACCESS_CODE);
  await page.click('#sign-in-button');
  await page.click(`#session-list li[data-session="${sessionId}"] button`);
  const until = options.untilStatus ?? 'Connected.';
  await page.waitForFunction((text) => document.querySelector('#status')?.textContent === text, until, { timeout: 30_000 }).catch(async (error: Error) => {
    throw new Error(`${email} did not reach "${until}"; the page says "${await page.textContent('#status')}": ${error.message}`);
  });
  return page;
}

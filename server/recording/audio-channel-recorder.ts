import { EventEmitter } from 'node:events';
import type { Logger } from '../logger.js';
import { AudioSplicer } from './audio-splicer.js';
import { OPUS_PAYLOAD_TYPE, opusToOgg } from './gst-pipelines.js';
import { ContinuousOggFile } from './ogg-continuation.js';
import { SAMPLES_PER_MS } from './opus-packet.js';
import { RecorderProcess } from './recorder-process.js';
import { monotonicMs } from './rtcp-sender-report.js';
import { framed } from './rtp-packet.js';

export interface RecorderSettings {
  /** gst-launch-1.0's path (PLENUM_GST_LAUNCH). */
  gstLaunch: string;
  /** How far behind real time output runs, for packets that arrive late. */
  delayMs: number;
  /** First wait before a recorder that died is started again; doubles up to 8x while it keeps dying. */
  restartDelayMs: number;
}

export interface AudioChannelRecorderOptions extends RecorderSettings {
  channel: string;
  path: string;
  /** The session clock's origin on this node, in monotonic ms. */
  originMs: number;
  /** Where a new file starts on the session clock (ms); an existing file keeps its own start. */
  startMs: number;
  log: Logger;
}

export interface RecordedGap {
  channel: string;
  fromMs: number;
  toMs: number;
  reason: 'recorder-exited' | 'resumed';
}

const FLUSH_EVERY_MS = 40;

/**
 * One audio channel of a recording, as a file: a splicer that makes the channel's sources one continuous
 * Opus stream, a GStreamer process that muxes it into Ogg, and the Ogg file that outlives processes. A
 * recorder that dies is started again (with backoff); the time it missed becomes silence in the file and a
 * `gap` event, so the file stays on the session clock.
 */
export class AudioChannelRecorder extends EventEmitter<{ gap: [RecordedGap] }> {
  private process: RecorderProcess | undefined;
  private readonly splicer: AudioSplicer;
  private readonly timer: NodeJS.Timeout;
  private restartTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  /** Where output had got to when the recorder died: from the file's end to here is lost. */
  private lostUntil = 0;
  private closing = false;
  /** The file's start on the session clock, in samples. */
  private readonly startAt: number;
  /** A continued file: the time between its end and now, filled with silence. */
  resumedGap: RecordedGap | undefined;
  /** How many times the process was started: tests and logs. */
  starts = 0;

  private constructor(
    private readonly options: AudioChannelRecorderOptions,
    private readonly file: ContinuousOggFile,
  ) {
    super();
    this.startAt = Math.round(options.startMs * SAMPLES_PER_MS);
    this.splicer = new AudioSplicer({
      originMs: options.originMs,
      startAt: this.fileEnd,
      delayMs: options.delayMs,
      payloadType: OPUS_PAYLOAD_TYPE,
      now: monotonicMs,
      send: (packet) => this.process?.write(framed(packet)),
    });
    this.timer = setInterval(() => this.splicer.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  /** Opens the channel's file (continuing it if it exists) and starts its recorder. */
  static async open(options: AudioChannelRecorderOptions): Promise<AudioChannelRecorder> {
    const file = await ContinuousOggFile.open(options.path);
    const recorder = new AudioChannelRecorder(options, file);
    const toMs = recorder.horizonMs();
    if (file.samples > 0 && toMs > recorder.endMs) recorder.resumedGap = { channel: options.channel, fromMs: recorder.endMs, toMs, reason: 'resumed' };
    recorder.start();
    return recorder;
  }

  get channel(): string {
    return this.options.channel;
  }

  /** Where the file's recorded audio ends on the session clock (ms). */
  get endMs(): number {
    return this.fileEnd / SAMPLES_PER_MS;
  }

  get bytes(): number {
    return this.file.bytes;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get stats(): AudioSplicer['stats'] {
    return this.splicer.stats;
  }

  /** The source this channel follows from now on (an SSRC of the tap's consumers), or none. */
  follow(ssrc: number | undefined): void {
    this.splicer.follow(ssrc);
  }

  forget(ssrc: number): void {
    this.splicer.forget(ssrc);
  }

  rtp(packet: Buffer, arrivalMs?: number): void {
    this.splicer.rtp(packet, arrivalMs);
  }

  rtcp(packet: Buffer): void {
    this.splicer.rtcp(packet);
  }

  /** Sends what is due, ends the stream, and waits for the file to be complete on disk. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.timer);
    clearTimeout(this.restartTimer);
    this.splicer.flush(true);
    await this.process?.stop();
    await this.file.close();
  }

  private get fileEnd(): number {
    return this.startAt + this.file.samples;
  }

  private horizonMs(): number {
    return monotonicMs() - this.options.originMs - this.options.delayMs;
  }

  private start(): void {
    this.starts += 1;
    const process = new RecorderProcess(this.options.gstLaunch, opusToOgg(), this.file.stream(), this.options.log);
    this.process = process;
    process.once('exit', ({ expected }) => {
      if (expected || this.closing || this.process !== process) return;
      this.lostUntil = this.splicer.pause();
      this.failures += 1;
      const wait = this.options.restartDelayMs * Math.min(8, 2 ** (this.failures - 1));
      this.restartTimer = setTimeout(() => void this.restart(), wait);
    });
  }

  private async restart(): Promise<void> {
    if (this.closing) return;
    await this.file.flush();
    const fromMs = this.endMs;
    const toMs = Math.max(fromMs, this.lostUntil / SAMPLES_PER_MS);
    this.splicer.resumeAt(this.fileEnd);
    this.start();
    this.emit('gap', { channel: this.options.channel, fromMs, toMs, reason: 'recorder-exited' });
    this.options.log.warn({ channel: this.options.channel, fromMs, toMs, attempt: this.failures }, 'recorder restarted; the gap is silence in the file');
    // A recorder that then runs for a while is healthy again: the backoff starts over.
    const started = this.process;
    setTimeout(() => {
      if (this.process === started && started?.running) this.failures = 0;
    }, 30_000).unref();
  }
}

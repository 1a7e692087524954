import { EventEmitter } from 'node:events';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.js';
import type { RecordedGap } from './audio-channel-recorder.js';
import { vp8ToWebm } from './gst-pipelines.js';
import type { RecordingFileRecord } from './recording-model.js';
import { recordingFileName } from './recording-paths.js';
import { RecorderProcess } from './recorder-process.js';
import { framed, readRtpHeader } from './rtp-packet.js';
import { startsVp8Keyframe } from './vp8-keyframe.js';

export interface VideoChannelRecorderOptions {
  channel: string;
  recordingId: string;
  folder: string;
  /** The channel's highest part so far (0: none). */
  lastPart: number;
  gstLaunch: string;
  /** Now on the session clock (ms). */
  nowMs: () => number;
  /** Asks the followed camera for a keyframe (a part starts on one). */
  requestKeyFrame: () => void;
  log: Logger;
}

interface Part {
  ssrc: number;
  file?: RecordingFileRecord;
  process?: RecorderProcess;
}

const KEYFRAME_ASK_EVERY_MS = 1000;

/**
 * The floor's video: one WebM part per camera followed (the floor holder's, or the active speaker's), each
 * starting on that camera's first keyframe, frames copied as they are. A recorder that dies ends its part;
 * the next keyframe starts another, and the time between is a gap. `part` reports each part as it starts
 * and as it ends.
 */
export class VideoChannelRecorder extends EventEmitter<{ part: [RecordingFileRecord]; gap: [RecordedGap] }> {
  private current: Part | undefined;
  private lastPart: number;
  private readonly asking: NodeJS.Timeout;
  private lostAt: number | undefined;
  private closed = false;
  private readonly ending = new Set<Promise<void>>();

  constructor(private readonly options: VideoChannelRecorderOptions) {
    super();
    this.lastPart = options.lastPart;
    this.asking = setInterval(() => {
      if (this.current && !this.current.process) options.requestKeyFrame();
    }, KEYFRAME_ASK_EVERY_MS);
    this.asking.unref();
  }

  get pid(): number | undefined {
    return this.current?.process?.pid;
  }

  /** Follows another camera (its SSRC at the tap), or none: the part under way ends. */
  follow(ssrc: number | undefined): void {
    if (ssrc === this.current?.ssrc) return;
    this.endPart();
    this.current = ssrc === undefined ? undefined : { ssrc };
  }

  rtp(packet: Buffer): void {
    const part = this.current;
    if (!part || this.closed) return;
    const header = readRtpHeader(packet);
    if (!header || header.ssrc !== part.ssrc) return;
    if (!part.process) {
      if (!startsVp8Keyframe(packet.subarray(header.payloadOffset, header.payloadEnd))) return;
      this.startPart(part);
    }
    part.process!.write(framed(packet));
  }

  rtcp(): void {
    // Video parts are stamped on arrival; sender reports are not needed here.
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.asking);
    this.endPart();
    await Promise.all([...this.ending]);
  }

  private startPart(part: Part): void {
    this.lastPart += 1;
    const fileName = recordingFileName(this.options.channel, this.lastPart, 'video/webm');
    const startMs = Math.round(this.options.nowMs());
    part.file = { recordingId: this.options.recordingId, channel: this.options.channel, part: this.lastPart, kind: 'video', fileName, mediaType: 'video/webm', startMs, endMs: null, bytes: 0 };
    const process = new RecorderProcess(this.options.gstLaunch, vp8ToWebm(join(this.options.folder, fileName)), () => undefined, this.options.log);
    part.process = process;
    if (this.lostAt !== undefined) this.emit('gap', { channel: this.options.channel, fromMs: this.lostAt, toMs: startMs, reason: 'recorder-exited' });
    this.lostAt = undefined;
    this.emit('part', part.file);
    process.once('exit', ({ expected }) => {
      if (expected || this.current !== part || part.process !== process) return;
      // Died: this part ends here; the next keyframe starts another.
      this.lostAt = Math.round(this.options.nowMs());
      part.process = undefined;
      this.track(this.report(part.file!, this.lostAt));
      this.options.requestKeyFrame();
    });
  }

  private endPart(): void {
    const part = this.current;
    this.current = undefined;
    if (!part?.process || !part.file) return;
    const process = part.process;
    const file = part.file;
    // The part ends now, when its camera stops being followed, not when its muxer has finished the file.
    const endMs = Math.round(this.options.nowMs());
    this.track(process.stop().then(() => this.report(file, endMs)));
  }

  private async report(file: RecordingFileRecord, endMs: number): Promise<void> {
    const bytes = (await stat(join(this.options.folder, file.fileName)).catch(() => undefined))?.size ?? 0;
    this.emit('part', { ...file, endMs, bytes });
  }

  private track(work: Promise<void>): void {
    const done = work.catch((error: unknown) => this.options.log.warn({ err: (error as Error).message }, 'video part not finished')).finally(() => this.ending.delete(done));
    this.ending.add(done);
  }
}

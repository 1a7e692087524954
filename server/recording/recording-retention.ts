// Deletes a stopped recording's files once its retention has run out (the session's `recording.retentionDays`,
// copied onto the recording when it started). The recording's rows stay, marked `expired`: the index of
// what happened outlives the media. Any node may sweep: deleting a folder twice, or marking a row expired
// twice, does no harm.
import { rm } from 'node:fs/promises';
import type { Logger } from '../logger.js';
import { recordingFolder } from './recording-paths.js';
import type { RecordingStore } from './recording-store.js';

export class RecordingRetention {
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<string[]>;

  constructor(
    private readonly store: RecordingStore,
    private readonly storageDir: string,
    private readonly log: Logger,
  ) {}

  /** Sweeps every `intervalMs` (the first one after an interval); the timer does not keep the process up. */
  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => void this.sweep().catch((error: unknown) => this.log.warn({ err: (error as Error).message }, 'recording retention sweep failed')), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Waits for a sweep under way (at shutdown, before the store closes). */
  async idle(): Promise<void> {
    await this.sweeping?.catch(() => undefined);
  }

  /** Deletes the files of every recording past its expiry and marks it expired; the ids swept. One sweep at a time. */
  sweep(now = new Date()): Promise<string[]> {
    this.sweeping ??= this.sweepOnce(now).finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweepOnce(now: Date): Promise<string[]> {
    const swept: string[] = [];
    for (const recording of await this.store.expired(now)) {
      try {
        // The folder first: a row marked expired never points at files still on disk.
        await rm(recordingFolder(this.storageDir, recording.recordingId), { recursive: true, force: true });
        await this.store.markExpired(recording.recordingId);
        swept.push(recording.recordingId);
        this.log.info({ recordingId: recording.recordingId, sessionId: recording.sessionId, expiresAt: recording.expiresAt }, 'recording expired: its files were deleted');
      } catch (error) {
        // One that fails is tried again next sweep; the others go ahead.
        this.log.warn({ err: (error as Error).message, recordingId: recording.recordingId }, 'could not delete an expired recording');
      }
    }
    return swept;
  }
}

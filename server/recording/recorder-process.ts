import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../logger.js';

/** How long a recorder may take to finish its file once its input ends, before it is killed. */
const STOP_GRACE_MS = 5000;
const STDERR_LINES = 20;
/** A recorder this far behind (bytes not yet read from its stdin) is stalled: input is dropped, not queued without end. */
const MAX_BACKLOG = 4 * 1024 * 1024;

/**
 * One GStreamer recorder process: RTP written to its stdin, the muxed file read from its stdout. It ends
 * cleanly when its input ends (end of stream); `exit` reports any end, expected or not.
 */
export class RecorderProcess extends EventEmitter<{ exit: [{ code: number | null; signal: string | null; expected: boolean }] }> {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private stopping = false;
  private exited = false;
  private readonly stderr: string[] = [];
  readonly done: Promise<void>;

  constructor(bin: string, args: string[], onOutput: (chunk: Buffer) => void, log: Logger) {
    super();
    this.child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', onOutput);
    this.child.stderr.setEncoding('utf8').on('data', (text: string) => {
      this.stderr.push(...text.split('\n').filter(Boolean));
      this.stderr.splice(0, Math.max(0, this.stderr.length - STDERR_LINES));
    });
    // A dead recorder's stdin raises EPIPE: the exit event says what happened.
    this.child.stdin.on('error', () => undefined);
    this.done = new Promise((resolve) => {
      const finish = (code: number | null, signal: string | null): void => {
        if (this.exited) return;
        this.exited = true;
        const expected = this.stopping && code === 0;
        if (!expected) log.warn({ pid: this.child.pid, code, signal, stderr: this.stderr.slice(-5) }, 'recorder process ended');
        this.emit('exit', { code, signal, expected });
        resolve();
      };
      // 'close' comes after stdout is drained: every byte of the file has been handed over.
      this.child.once('close', finish);
      this.child.once('error', (error) => {
        log.error({ err: error.message, bin }, 'recorder process could not start');
        finish(null, null);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Input for the muxer; dropped (and counted) while a stalled process has MAX_BACKLOG bytes unread. */
  write(data: Buffer): void {
    if (this.exited || this.stopping) return;
    if (this.child.stdin.writableLength > MAX_BACKLOG) {
      this.dropped += 1;
      return;
    }
    this.child.stdin.write(data);
  }

  /** Writes refused because the process did not keep up. */
  dropped = 0;

  /** Ends the input, so the muxer finishes the file; killed if it takes too long. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.stopping = true;
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.done;
    clearTimeout(timer);
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

import { spawn, type ChildProcess, type StdioPipe } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../logger.js';
import { FramedReader } from './framed-reader.js';

const STDERR_LINES = 20;
/** A process this far behind on one input (bytes it has not read) is stalled: it is killed and restarted. */
const MAX_BACKLOG = 256 * 1024;

export interface GstChildOptions {
  bin: string;
  args: string[];
  /** The child's fds Node writes framed RTP to. */
  inputs: number[];
  /** The child's fds it writes framed RTP to, and who takes each one's packets. */
  outputs: Map<number, (packet: Buffer) => void>;
  log: Logger;
}

/**
 * One gst-launch-1.0 child with extra pipes: framed RTP written to its input fds, framed RTP read from its
 * output fds. `exit` reports any end; `expected` when `stop` asked for it.
 */
export class GstChild extends EventEmitter<{ exit: [{ code: number | null; signal: string | null; expected: boolean }] }> {
  private readonly child: ChildProcess;
  private readonly inputs = new Map<number, Writable>();
  private readonly stderr: string[] = [];
  private exited = false;
  private stopping = false;

  constructor(private readonly options: GstChildOptions) {
    super();
    const maxFd = Math.max(2, ...options.inputs, ...options.outputs.keys());
    const stdio: Array<StdioPipe | 'ignore'> = Array.from({ length: maxFd + 1 }, (_, fd) => (fd === 2 || options.inputs.includes(fd) || options.outputs.has(fd) ? 'pipe' : 'ignore'));
    this.child = spawn(options.bin, options.args, { stdio });
    for (const fd of options.inputs) {
      const pipe = this.child.stdio[fd] as Writable;
      // A dead child's pipes raise EPIPE: the exit event says what happened.
      pipe.on('error', () => undefined);
      this.inputs.set(fd, pipe);
    }
    for (const [fd, take] of options.outputs) {
      const reader = new FramedReader(take, (length) => {
        options.log.warn({ pid: this.child.pid, fd, length }, 'gst child wrote a frame that is not RTP; ending it');
        this.kill();
      });
      const pipe = this.child.stdio[fd] as Readable;
      pipe.on('error', () => undefined);
      pipe.on('data', (chunk: Buffer) => reader.push(chunk));
    }
    (this.child.stderr as Readable).setEncoding('utf8').on('data', (text: string) => {
      this.stderr.push(...text.split('\n').filter(Boolean));
      this.stderr.splice(0, Math.max(0, this.stderr.length - STDERR_LINES));
    });
    const finish = (code: number | null, signal: string | null): void => {
      if (this.exited) return;
      this.exited = true;
      const expected = this.stopping;
      if (!expected) options.log.warn({ pid: this.child.pid, code, signal, stderr: this.stderr.slice(-5) }, 'gst child ended');
      this.emit('exit', { code, signal, expected });
    };
    this.child.once('close', finish);
    this.child.once('error', (error) => {
      options.log.error({ err: error.message, bin: options.bin }, 'gst child could not start');
      finish(null, null);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.exited;
  }

  /**
   * Writes one framed packet to each input in the same call, so the inputs stay in step. A child that has
   * fallen MAX_BACKLOG behind on an input is stalled: it is killed (and its owner restarts it).
   */
  write(frames: Map<number, Buffer>): void {
    if (this.exited || this.stopping) return;
    for (const [fd, data] of frames) {
      const pipe = this.inputs.get(fd);
      if (!pipe) continue;
      if (pipe.writableLength > MAX_BACKLOG) {
        this.options.log.warn({ pid: this.child.pid, fd }, 'gst child stalled; ending it');
        this.kill();
        return;
      }
      pipe.write(data);
    }
  }

  /** Ends the child now (a mixer has no file to finish). */
  stop(): void {
    this.stopping = true;
    this.kill();
  }

  private kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

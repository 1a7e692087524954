// Runs a tool (espeak-ng, gst-launch-1.0) as a child process: input on stdin, output collected from stdout,
// bounded in size and time. Never a *Sync call: prompts are made while calls are in progress.

import { spawn } from 'node:child_process';

export interface PipedProcessOptions {
  timeoutMs: number;
  maxOutputBytes: number;
}

const STDERR_TAIL = 2000;

export function runPiped(bin: string, args: string[], input: Buffer, options: PipedProcessOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let failure: string | undefined;
    const fail = (why: string): void => {
      failure ??= why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => fail(`timed out after ${options.timeoutMs} ms`), options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxOutputBytes) fail(`output over ${options.maxOutputBytes} bytes`);
      else chunks.push(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr = (stderr + text).slice(-STDERR_TAIL);
    });
    // An early exit closes stdin under us (EPIPE): the exit code tells the story.
    child.stdin.on('error', () => undefined);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${bin} could not start: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (failure) reject(new Error(`${bin} ${failure}`));
      else if (code !== 0) reject(new Error(`${bin} exited with ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
      else resolve(Buffer.concat(chunks));
    });
    child.stdin.end(input);
  });
}

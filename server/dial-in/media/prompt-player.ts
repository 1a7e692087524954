// Plays a prompt into a call at the pace of real time: frame i leaves at start + i × 20 ms on the monotonic
// clock, so timer lateness never accumulates. Between prompts the call forwards its mix instead.

import { performance } from 'node:perf_hooks';
import type { CallRtpSession } from './call-rtp-session.js';
import { PROMPT_FRAME_MS, type Prompt } from './prompt-library.js';

/** Frames sent at once to catch up after the event loop stalled; further behind, the schedule moves on. */
const MAX_CATCH_UP = 3;

export type PlayOutcome = 'done' | 'interrupted';

export class PromptPlayer {
  private current: { timer: NodeJS.Timeout | undefined; finish: (outcome: PlayOutcome) => void } | undefined;

  constructor(private readonly session: CallRtpSession) {
    session.once('close', () => this.stop());
  }

  get playing(): boolean {
    return this.current !== undefined;
  }

  /** Plays the frames; a prompt already playing is interrupted. Resolves 'interrupted' on stop() or close. */
  play(prompt: Pick<Prompt, 'frames' | 'samplesPerFrame'>): Promise<PlayOutcome> {
    this.stop();
    if (this.session.isClosed) return Promise.resolve('interrupted');
    return new Promise((resolve) => {
      let start = performance.now();
      let next = 0;
      const current: NonNullable<PromptPlayer['current']> = {
        timer: undefined,
        finish: (outcome) => {
          clearTimeout(current.timer);
          if (this.current === current) this.current = undefined;
          resolve(outcome);
        },
      };
      const tick = (): void => {
        const now = performance.now();
        let sent = 0;
        while (next < prompt.frames.length && start + next * PROMPT_FRAME_MS <= now && sent < MAX_CATCH_UP) {
          this.session.sendPayload(prompt.frames[next]!, prompt.samplesPerFrame, next === 0);
          next++;
          sent++;
        }
        if (next >= prompt.frames.length) {
          current.finish('done');
          return;
        }
        // Still behind after a burst: the rest plays from now, not all at once.
        if (start + next * PROMPT_FRAME_MS < now - PROMPT_FRAME_MS) start = now - next * PROMPT_FRAME_MS;
        current.timer = setTimeout(tick, Math.max(0, start + next * PROMPT_FRAME_MS - performance.now()));
      };
      this.current = current;
      tick();
    });
  }

  /** Interrupts the prompt playing (a key was pressed, the call moves on). */
  stop(): void {
    this.current?.finish('interrupted');
  }
}

import type { types } from 'mediasoup-client';

export interface IceRestartOptions {
  /** ICE restarts tried before giving up on this transport (default 4). */
  maxAttempts?: number;
  /** How long 'disconnected' may last before a restart (default 3 s): it often mends by itself. */
  disconnectedGraceMs?: number;
  /** How long one restart may take to reach 'connected' before the next (default 6 s). */
  attemptTimeoutMs?: number;
  /** Pause between attempts, doubling (defaults 500 ms .. 4 s). */
  minDelayMs?: number;
  maxDelayMs?: number;
}

export interface IceRestartHooks {
  /** Asks the server for fresh ICE parameters and applies them to the transport. */
  restart(): Promise<void>;
  /** An attempt starts (1, 2, ...) or the transport's state changed: the page's connection state may change. */
  onAttempt(attempt: number): void;
  onChange(): void;
  /** Every attempt failed: the caller rebuilds the connection another way. */
  onGiveUp(): void;
}

/**
 * Watches one WebRTC transport and restarts ICE when its connection fails (or stays disconnected), with a
 * bounded number of tries and backoff. A network change or a server that lost the client's ICE credentials
 * is mended without the user doing anything.
 */
export class IceRestarter {
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private closed = false;

  constructor(
    private readonly transport: types.Transport,
    private readonly hooks: IceRestartHooks,
    private readonly options: IceRestartOptions = {},
  ) {
    transport.on('connectionstatechange', (state) => this.onState(state));
  }

  /** True while an ICE restart is under way. */
  get restarting(): boolean {
    return this.running;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.graceTimer);
  }

  private onState(state: types.ConnectionState): void {
    if (this.closed) return;
    if (state === 'failed') this.start(0);
    else if (state === 'disconnected') this.start(this.options.disconnectedGraceMs ?? 3000);
    else if (state === 'connected') clearTimeout(this.graceTimer);
    this.hooks.onChange();
  }

  private start(afterMs: number): void {
    if (this.running) return;
    clearTimeout(this.graceTimer);
    this.graceTimer = setTimeout(() => void this.run(), afterMs);
  }

  private async run(): Promise<void> {
    if (this.running || this.closed || this.transport.closed || this.transport.connectionState === 'connected') return;
    this.running = true;
    const { maxAttempts = 4, attemptTimeoutMs = 6000, minDelayMs = 500, maxDelayMs = 4000 } = this.options;
    try {
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        if (this.closed || this.transport.closed) return;
        this.hooks.onAttempt(attempt);
        // A refused or timed-out request counts as a failed attempt; the next one may succeed.
        const applied = await this.hooks.restart().then(
          () => true,
          () => false,
        );
        if (applied && (await this.connectedWithin(attemptTimeoutMs))) return;
        await delay(Math.min(maxDelayMs, minDelayMs * 2 ** (attempt - 1)));
      }
      if (!this.closed && !this.transport.closed) this.hooks.onGiveUp();
    } finally {
      this.running = false;
      this.hooks.onChange();
    }
  }

  private connectedWithin(ms: number): Promise<boolean> {
    if (this.transport.connectionState === 'connected') return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.transport.off('connectionstatechange', onState);
        resolve(ok);
      };
      const onState = (state: types.ConnectionState): void => {
        if (state === 'connected') done(true);
      };
      const timer = setTimeout(() => done(false), ms);
      this.transport.on('connectionstatechange', onState);
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import type { types } from 'mediasoup';
import type { VideoFallbackState } from '../../protocol/signaling.js';

export type { VideoFallbackState };

/** When a receiver's video steps down and comes back (docs/LOW-BANDWIDTH.md). */
export interface VideoFallbackOptions {
  /** Under this downlink estimate (bps), every camera comes at its lowest simulcast layer. */
  lowestBelowBps: number;
  /** Under this, no video at all (the voices and captions go on). */
  offBelowBps: number;
  /** An estimate must stay on the other side of a threshold this long before the state steps down. */
  downAfterMs: number;
  /** Back up from `lowest` once the estimate stays above `lowestBelowBps × recoverFactor` this long. */
  recoverAfterMs: number;
  recoverFactor: number;
  /**
   * Without video the estimate cannot show that the link recovered (nothing fills it): after this long
   * `off`, the lowest layer is tried again; a try that fails doubles the wait (up to 16 times).
   */
  probeAfterMs: number;
  /** How long a try gets for the estimate to rise before it is judged. */
  probeGraceMs: number;
}

export const defaultVideoFallback: VideoFallbackOptions = {
  lowestBelowBps: 350_000,
  offBelowBps: 120_000,
  downAfterMs: 1500,
  recoverAfterMs: 4000,
  recoverFactor: 1.5,
  probeAfterMs: 10_000,
  probeGraceMs: 5000,
};

/**
 * One receiver's video state from its downlink estimates, with hysteresis: a step down (full to lowest,
 * lowest to off: one at a time) needs the estimate under that step's threshold for `downAfterMs`; a step up
 * needs it well above (`recoverFactor`) for `recoverAfterMs`, or, from `off`, a successful try of the lowest
 * layer. While `off` the estimate is not trusted: with only voices on the link it drifts up unchecked.
 * Pure: the time is given with each estimate.
 */
export class VideoFallbackPolicy {
  state: VideoFallbackState = 'full';
  private belowSince: number | undefined;
  private aboveSince: number | undefined;
  private offSince = 0;
  private probeWaitMs: number;
  private probingSince: number | undefined;

  constructor(private readonly o: VideoFallbackOptions = defaultVideoFallback) {
    this.probeWaitMs = o.probeAfterMs;
  }

  /** A new estimate; answers the state after it. */
  estimate(bps: number, now: number): VideoFallbackState {
    const o = this.o;
    if (this.state === 'off') {
      // Nothing to judge until the next try of the lowest layer.
      if (now - this.offSince >= this.probeWaitMs) this.enter('lowest', now, true);
      return this.state;
    }
    if (this.probingSince !== undefined) {
      if (now - this.probingSince < o.probeGraceMs) return this.state;
      this.probingSince = undefined;
      if (bps < o.offBelowBps) {
        this.probeWaitMs = Math.min(this.probeWaitMs * 2, o.probeAfterMs * 16);
        this.enter('off', now, false);
        return this.state;
      }
      this.probeWaitMs = o.probeAfterMs;
    }
    const floor = this.state === 'full' ? o.lowestBelowBps : o.offBelowBps;
    if (bps < floor) {
      this.belowSince ??= now;
      // One step at a time, even on a sharp drop: the lowest layer may be all the link needed.
      if (now - this.belowSince >= o.downAfterMs) {
        this.enter(this.state === 'full' ? 'lowest' : 'off', now, false);
        return this.state;
      }
    } else this.belowSince = undefined;
    if (this.state === 'lowest' && bps >= o.lowestBelowBps * o.recoverFactor) {
      this.aboveSince ??= now;
      if (now - this.aboveSince >= o.recoverAfterMs) this.enter('full', now, false);
    } else this.aboveSince = undefined;
    return this.state;
  }

  private enter(state: VideoFallbackState, now: number, probing: boolean): void {
    this.state = state;
    this.belowSince = undefined;
    this.aboveSince = undefined;
    this.probingSince = probing ? now : undefined;
    if (state === 'off') this.offSince = now;
  }
}

/**
 * Watches receivers' downlinks: mediasoup's bandwidth estimate of each receive transport (its `bwe` trace
 * events, which the worker pushes about once a second and at once on a sharp drop; nothing is polled) feeds
 * that receiver's policy. `changed` is called when a receiver's state moves. A receiver without estimates yet
 * gets `full`.
 */
export class DownlinkWatch<R extends object> {
  private readonly policies = new WeakMap<R, VideoFallbackPolicy>();
  private readonly estimates = new WeakMap<R, number>();
  private readonly watched = new WeakSet<types.Transport>();
  /** While `off`, an estimate may not come for long (an idle downlink): a timer lets the try happen anyway. */
  private readonly ticks = new Map<R, NodeJS.Timeout>();

  constructor(
    private readonly options: VideoFallbackOptions,
    private readonly changed: (receiver: R, state: VideoFallbackState, estimateBps: number | null) => void,
  ) {}

  state(receiver: R): VideoFallbackState {
    return this.policies.get(receiver)?.state ?? 'full';
  }

  estimateOf(receiver: R): number | null {
    return this.estimates.get(receiver) ?? null;
  }

  /** Follows this receive transport's estimate for `receiver`, until the transport closes. */
  watch(receiver: R, transport: types.Transport): void {
    if (this.watched.has(transport) || transport.closed) return;
    this.watched.add(transport);
    transport.on('trace', (trace) => {
      if (trace.type !== 'bwe') return;
      const bps = (trace.info as { availableBitrate?: number }).availableBitrate;
      if (typeof bps === 'number') this.feed(receiver, bps);
    });
    transport.observer.once('close', () => this.forget(receiver));
    transport.enableTraceEvent(['bwe']).catch(() => undefined);
  }

  forget(receiver: R): void {
    clearInterval(this.ticks.get(receiver));
    this.ticks.delete(receiver);
  }

  close(): void {
    for (const t of this.ticks.values()) clearInterval(t);
    this.ticks.clear();
  }

  private feed(receiver: R, bps: number): void {
    this.estimates.set(receiver, bps);
    let policy = this.policies.get(receiver);
    if (!policy) {
      policy = new VideoFallbackPolicy(this.options);
      this.policies.set(receiver, policy);
    }
    const before = policy.state;
    const after = policy.estimate(bps, performance.now());
    if (after === before) return;
    if (after === 'off' && !this.ticks.has(receiver)) {
      const tick = setInterval(() => this.feed(receiver, this.estimates.get(receiver) ?? 0), 1000);
      tick.unref();
      this.ticks.set(receiver, tick);
    } else if (after !== 'off') this.forget(receiver);
    this.changed(receiver, after, bps);
  }
}

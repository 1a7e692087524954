import { describe, expect, it } from 'vitest';
import { VideoFallbackPolicy, type VideoFallbackOptions } from '../../server/rooms/video-fallback.js';

const options: VideoFallbackOptions = {
  lowestBelowBps: 300_000,
  offBelowBps: 100_000,
  downAfterMs: 1000,
  recoverAfterMs: 3000,
  recoverFactor: 1.5,
  probeAfterMs: 10_000,
  probeGraceMs: 4000,
};

/** Feeds one estimate a second from `from` for `seconds`; answers the last state. */
function feed(policy: VideoFallbackPolicy, bps: number, from: number, seconds: number): string {
  for (let t = 0; t <= seconds; t++) policy.estimate(bps, (from + t) * 1000);
  return policy.state;
}

describe('VideoFallbackPolicy', () => {
  it('steps down only after the estimate stays low, to the lowest layer then to none', () => {
    const p = new VideoFallbackPolicy(options);
    expect(p.estimate(200_000, 0)).toBe('full'); // one dip is not enough
    expect(p.estimate(200_000, 1000)).toBe('lowest');
    expect(feed(p, 150_000, 2, 5)).toBe('lowest');
    expect(p.estimate(50_000, 8000)).toBe('lowest');
    expect(p.estimate(50_000, 9000)).toBe('off');
  });

  it('steps down one step at a time, even on a sharp drop', () => {
    const p = new VideoFallbackPolicy(options);
    expect(feed(p, 50_000, 0, 1)).toBe('lowest');
    expect(p.estimate(50_000, 2000)).toBe('lowest');
    expect(p.estimate(50_000, 3000)).toBe('off');
  });

  it('comes back from the lowest layer only well above the threshold (hysteresis), after a while', () => {
    const p = new VideoFallbackPolicy(options);
    feed(p, 200_000, 0, 1);
    expect(feed(p, 400_000, 2, 10)).toBe('lowest'); // above the threshold, but not by the factor
    expect(p.estimate(500_000, 13_000)).toBe('lowest');
    expect(feed(p, 500_000, 14, 3)).toBe('full');
  });

  it('from none, tries the lowest layer after a wait; a failed try doubles the wait, a good one stays', () => {
    const p = new VideoFallbackPolicy(options);
    expect(feed(p, 50_000, 0, 3)).toBe('off'); // off at 3 s
    expect(p.estimate(900_000, 12_000)).toBe('off'); // the estimate alone does not bring video back
    expect(p.estimate(50_000, 13_000)).toBe('lowest'); // the try
    expect(p.estimate(50_000, 16_000)).toBe('lowest'); // within the grace
    expect(p.estimate(50_000, 17_000)).toBe('off'); // judged: failed
    expect(p.estimate(50_000, 36_000)).toBe('off'); // the wait is 20 s now
    expect(p.estimate(50_000, 37_000)).toBe('lowest');
    expect(p.estimate(250_000, 41_000)).toBe('lowest');
    expect(p.estimate(250_000, 42_000)).toBe('lowest'); // judged: held
    expect(feed(p, 600_000, 43, 4)).toBe('full');
  });
});

// Opus silence of any length a packet can have (RFC 6716 §3.1): a floor packet sent to one mixer input has
// its twin of silence sent to the other, so both inputs' timelines advance by the same samples.

import { OPUS_SILENCE_20MS } from '../../recording/opus-packet.js';

/** A CELT frame that decodes to silence (the body of OPUS_SILENCE_20MS). */
const SILENT_FRAME = OPUS_SILENCE_20MS.subarray(1);
/** CELT fullband frame lengths (48 kHz samples) and their TOC configurations, longest first. */
const CELT_FRAMES: Array<[samples: number, config: number]> = [
  [960, 19],
  [480, 18],
  [240, 17],
  [120, 16],
];
const cache = new Map<number, Buffer>();

/** An Opus packet of silence lasting `samples` (48 kHz; at most 120 ms), or undefined for a length no packet has. */
export function opusSilence(samples: number): Buffer | undefined {
  const cached = cache.get(samples);
  if (cached) return cached;
  for (const [frame, config] of CELT_FRAMES) {
    if (samples % frame !== 0) continue;
    const count = samples / frame;
    if (count > 48) return undefined;
    // One frame: code 0. Several: code 3, constant bitrate, `count` frames of the same silent frame.
    const packet = count === 1
      ? Buffer.concat([Buffer.from([config << 3]), SILENT_FRAME])
      : Buffer.concat([Buffer.from([(config << 3) | 3, count]), ...Array.from({ length: count }, () => SILENT_FRAME)]);
    cache.set(samples, packet);
    return packet;
  }
  return undefined;
}

// What the recorders need to know of an Opus packet (RFC 6716 §3.1): how long it plays. A recording is
// continuous because every gap is filled with Opus silence, never by re-encoding.

/** 20 ms of silence: TOC 0xF8 (CELT, fullband, 20 ms, one frame), then a frame that decodes to silence. */
export const OPUS_SILENCE_20MS = Buffer.from([0xf8, 0xff, 0xfe]);
export const SAMPLES_PER_MS = 48;
export const SILENCE_SAMPLES = 20 * SAMPLES_PER_MS;

/** Frame length in 48 kHz samples by TOC configuration: SILK 10/20/40/60, hybrid 10/20, CELT 2.5/5/10/20 ms. */
function frameSamples(config: number): number {
  if (config < 12) return [480, 960, 1920, 2880][config % 4]!;
  if (config < 16) return [480, 960][config % 2]!;
  return [120, 240, 480, 960][config % 4]!;
}

/** How many 48 kHz samples the packet decodes to; undefined for a packet that is not valid Opus. */
export function opusSamples(payload: Buffer): number | undefined {
  if (payload.length === 0) return undefined;
  const toc = payload[0]!;
  const frame = frameSamples(toc >> 3);
  const code = toc & 0x03;
  if (code === 0) return frame;
  if (code !== 3) return frame * 2;
  if (payload.length < 2) return undefined;
  const count = payload[1]! & 0x3f;
  // At most 120 ms per packet.
  return count === 0 || frame * count > 5760 ? undefined : frame * count;
}

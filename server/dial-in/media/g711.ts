// G.711 (ITU-T) μ-law and A-law: 16-bit linear PCM <-> 8-bit codes. Both laws compand a sign bit, a 3-bit
// segment (a power-of-two range) and a 4-bit step inside it. Decoding is one 256-entry table per law;
// encoding is one table indexed by the input's significant bits (14 for μ-law, 13 for A-law).

const MULAW_BIAS = 0x84;
/** The largest μ-law magnitude in the 14-bit domain (32635 >> 2). */
const MULAW_CLIP_14 = 8158;

/** The position of the highest set bit of a value in 1..255: the segment. */
function segmentOf(value: number): number {
  let segment = 0;
  for (let v = value; v > 1; v >>= 1) segment++;
  return segment;
}

/**
 * μ-law code of a 14-bit sample (the 16-bit sample >> 2). Negative magnitudes are one's complement (~v), as
 * in ITU-T G.191's reference, so that the code of a 16-bit sample depends only on its top 14 bits.
 */
function mulawCode(v: number): number {
  const sign = v < 0 ? 0x80 : 0;
  const biased = Math.min(v < 0 ? ~v : v, MULAW_CLIP_14) + (MULAW_BIAS >> 2);
  const segment = segmentOf(biased >> 5);
  const step = (biased >> (segment + 1)) & 0x0f;
  return ~(sign | (segment << 4) | step) & 0xff;
}

function mulawValue(code: number): number {
  const inverted = ~code & 0xff;
  const segment = (inverted >> 4) & 0x07;
  const magnitude = ((((inverted & 0x0f) << 3) + MULAW_BIAS) << segment) - MULAW_BIAS;
  return inverted & 0x80 ? -magnitude : magnitude;
}

/** A-law code of a 13-bit sample (the 16-bit sample >> 3); negative magnitudes are one's complement too. */
function alawCode(sample13: number): number {
  const mask = sample13 < 0 ? 0x55 : 0xd5;
  const magnitude = sample13 < 0 ? ~sample13 : sample13;
  let segment = 0;
  while (segment < 8 && magnitude >= 0x20 << segment) segment++;
  if (segment >= 8) return 0x7f ^ mask;
  const step = segment < 2 ? (magnitude >> 1) & 0x0f : (magnitude >> segment) & 0x0f;
  return ((segment << 4) | step) ^ mask;
}

function alawValue(code: number): number {
  const a = code ^ 0x55;
  const segment = (a >> 4) & 0x07;
  let magnitude = ((a & 0x0f) << 4) + 8;
  if (segment > 0) magnitude = (magnitude + 0x100) << (segment - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

const MULAW_DECODE = Int16Array.from({ length: 256 }, (_, code) => mulawValue(code));
const ALAW_DECODE = Int16Array.from({ length: 256 }, (_, code) => alawValue(code));
// μ-law keeps 14 significant bits, A-law 13: the low bits never change the code.
const MULAW_ENCODE = Uint8Array.from({ length: 1 << 14 }, (_, i) => mulawCode(i - (1 << 13)));
const ALAW_ENCODE = Uint8Array.from({ length: 1 << 13 }, (_, i) => alawCode(i - (1 << 12)));

export function mulawEncodeSample(sample: number): number {
  return MULAW_ENCODE[(sample >> 2) + (1 << 13)]!;
}

export function alawEncodeSample(sample: number): number {
  return ALAW_ENCODE[(sample >> 3) + (1 << 12)]!;
}

export function mulawDecodeSample(code: number): number {
  return MULAW_DECODE[code & 0xff]!;
}

export function alawDecodeSample(code: number): number {
  return ALAW_DECODE[code & 0xff]!;
}

export type G711Law = 'PCMU' | 'PCMA';

/** 16-bit samples to one G.711 byte each. */
export function g711Encode(law: G711Law, samples: Int16Array): Buffer {
  const table = law === 'PCMU' ? MULAW_ENCODE : ALAW_ENCODE;
  const shift = law === 'PCMU' ? 2 : 3;
  const offset = law === 'PCMU' ? 1 << 13 : 1 << 12;
  const out = Buffer.allocUnsafe(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = table[(samples[i]! >> shift) + offset]!;
  return out;
}

/** G.711 bytes back to 16-bit samples. */
export function g711Decode(law: G711Law, codes: Uint8Array): Int16Array {
  const table = law === 'PCMU' ? MULAW_DECODE : ALAW_DECODE;
  const out = new Int16Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = table[codes[i]!]!;
  return out;
}

/** The code for digital silence (what a frame is padded with). */
export function g711Silence(law: G711Law): number {
  return law === 'PCMU' ? 0xff : 0xd5;
}

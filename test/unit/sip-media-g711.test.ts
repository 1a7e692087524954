import { describe, expect, it } from 'vitest';
import {
  alawDecodeSample,
  alawEncodeSample,
  g711Decode,
  g711Encode,
  mulawDecodeSample,
  mulawEncodeSample,
} from '../../server/dial-in/media/g711.js';

const allSamples = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
const allCodes = Uint8Array.from({ length: 256 }, (_, i) => i);

describe('G.711 μ-law', () => {
  it('encodes and decodes the known values', () => {
    expect(mulawEncodeSample(0)).toBe(0xff);
    expect(mulawEncodeSample(32767)).toBe(0x80);
    expect(mulawEncodeSample(-32768)).toBe(0x00);
    expect(mulawEncodeSample(1000)).toBe(0xce);
    expect(mulawDecodeSample(0xff)).toBe(0);
    expect(mulawDecodeSample(0x7f)).toBe(0);
    expect(mulawDecodeSample(0x80)).toBe(32124);
    expect(mulawDecodeSample(0x00)).toBe(-32124);
    expect(mulawDecodeSample(0xce)).toBe(988);
    expect(mulawDecodeSample(0xf0)).toBe(120);
    expect(mulawDecodeSample(0xef)).toBe(132);
  });

  it('round-trips every code (0x7f, negative zero, comes back as 0xff)', () => {
    for (const code of allCodes) expect(mulawEncodeSample(mulawDecodeSample(code))).toBe(code === 0x7f ? 0xff : code);
  });

  it('keeps every sample within half a quantization step (relative error under 1/16)', () => {
    const decoded = g711Decode('PCMU', g711Encode('PCMU', allSamples));
    const over: number[] = [];
    for (let i = 0; i < allSamples.length; i++) {
      const s = allSamples[i]!;
      // Beyond the largest code the sample is clipped.
      if (Math.abs(s) <= 32124 && Math.abs(decoded[i]! - s) > Math.abs(s) / 16 + 8) over.push(s);
    }
    expect(over).toEqual([]);
  });
});

describe('G.711 A-law', () => {
  it('encodes and decodes the known values', () => {
    expect(alawEncodeSample(0)).toBe(0xd5);
    expect(alawEncodeSample(-1)).toBe(0x55);
    expect(alawEncodeSample(32767)).toBe(0xaa);
    expect(alawEncodeSample(-32768)).toBe(0x2a);
    expect(alawEncodeSample(1000)).toBe(0xfa);
    expect(alawDecodeSample(0xd5)).toBe(8);
    expect(alawDecodeSample(0x55)).toBe(-8);
    expect(alawDecodeSample(0xaa)).toBe(32256);
    expect(alawDecodeSample(0x2a)).toBe(-32256);
    expect(alawDecodeSample(0xfa)).toBe(1008);
  });

  it('round-trips every code', () => {
    for (const code of allCodes) expect(alawEncodeSample(alawDecodeSample(code))).toBe(code);
  });

  it('keeps every sample within half a quantization step (relative error under 1/16)', () => {
    const decoded = g711Decode('PCMA', g711Encode('PCMA', allSamples));
    const over: number[] = [];
    for (let i = 0; i < allSamples.length; i++) {
      const s = allSamples[i]!;
      // Beyond the largest code the sample is clipped.
      if (Math.abs(s) <= 32256 && Math.abs(decoded[i]! - s) > Math.abs(s) / 16 + 8) over.push(s);
    }
    expect(over).toEqual([]);
  });
});

describe('G.711 buffers', () => {
  it('encode and decode whole buffers like the per-sample functions, one byte per sample', () => {
    const samples = Int16Array.from([0, 1, -1, 123, -123, 4000, -4000, 32767, -32768]);
    const mu = g711Encode('PCMU', samples);
    const a = g711Encode('PCMA', samples);
    expect(mu.length).toBe(samples.length);
    expect([...mu]).toEqual([...samples].map(mulawEncodeSample));
    expect([...a]).toEqual([...samples].map(alawEncodeSample));
    expect([...g711Decode('PCMU', mu)]).toEqual([...mu].map(mulawDecodeSample));
    expect([...g711Decode('PCMA', a)]).toEqual([...a].map(alawDecodeSample));
  });

  it('is monotonic: a louder sample never decodes quieter', () => {
    for (const law of ['PCMU', 'PCMA'] as const) {
      const decoded = g711Decode(law, g711Encode(law, allSamples));
      let inversions = 0;
      for (let i = 1; i < decoded.length; i++) if (decoded[i]! < decoded[i - 1]!) inversions++;
      expect(inversions).toBe(0);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { resample } from '../../server/dial-in/media/resample.js';
import { parseWavPcm } from '../../server/dial-in/media/wav-pcm.js';

/** A sine at `frequency` Hz. */
function sine(frequency: number, rate: number, seconds: number): Int16Array {
  return Int16Array.from({ length: Math.round(rate * seconds) }, (_, i) => Math.round(16000 * Math.sin((2 * Math.PI * frequency * i) / rate)));
}

function rmsOf(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / samples.length);
}

/** Zero crossings per second: the frequency of a clean sine. */
function crossingsFrequency(samples: Int16Array, rate: number): number {
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) if ((samples[i - 1]! < 0) !== (samples[i]! < 0)) crossings++;
  return crossings / 2 / (samples.length / rate);
}

describe('prompt audio conversion', () => {
  it('resamples 22050 Hz speech-band audio to 8 kHz keeping the tone and its level', () => {
    const out = resample(sine(1000, 22050, 1), 22050, 8000);
    expect(out.length).toBe(8000);
    expect(crossingsFrequency(out.subarray(100, 7900), 8000)).toBeCloseTo(1000, -1);
    expect(rmsOf(out.subarray(100, 7900)) / (16000 / Math.SQRT2)).toBeGreaterThan(0.9);
  });

  it('filters out what 8 kHz cannot carry instead of folding it back', () => {
    const out = resample(sine(6000, 22050, 1), 22050, 8000);
    expect(rmsOf(out.subarray(100, 7900)) / (16000 / Math.SQRT2)).toBeLessThan(0.05);
  });

  it('reads espeak-ng style WAVs whose sizes are placeholders, and refuses other formats', () => {
    const header = Buffer.alloc(44);
    header.write('RIFF', 0, 'latin1');
    header.writeUInt32LE(0x7ffff024, 4);
    header.write('WAVEfmt ', 8, 'latin1');
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20);
    header.writeUInt16LE(1, 22);
    header.writeUInt32LE(22050, 24);
    header.writeUInt32LE(44100, 28);
    header.writeUInt16LE(2, 32);
    header.writeUInt16LE(16, 34);
    header.write('data', 36, 'latin1');
    header.writeUInt32LE(0x7ffff000, 40);
    const body = Buffer.alloc(6);
    body.writeInt16LE(1, 0);
    body.writeInt16LE(-2, 2);
    body.writeInt16LE(3, 4);
    const wav = parseWavPcm(Buffer.concat([header, body]));
    expect(wav.sampleRate).toBe(22050);
    expect([...wav.samples]).toEqual([1, -2, 3]);
    const stereo = Buffer.from(header);
    stereo.writeUInt16LE(2, 22);
    expect(() => parseWavPcm(stereo)).toThrow(/unsupported WAV/);
    expect(() => parseWavPcm(Buffer.from('RIFF....AVI '))).toThrow(/not a WAV/);
  });
});

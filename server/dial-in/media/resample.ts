// Sample-rate conversion for prompts (espeak-ng speaks at 22050 Hz, a G.711 phone plays 8000 Hz): a
// windowed-sinc low-pass below the new Nyquist frequency, then linear interpolation at the new rate.

const TAPS = 63;

/** Low-pass FIR taps (Blackman-windowed sinc), cutoff as a fraction of the input rate, unity DC gain. */
function lowPassTaps(cutoff: number): Float64Array {
  const taps = new Float64Array(TAPS);
  const mid = (TAPS - 1) / 2;
  let sum = 0;
  for (let i = 0; i < TAPS; i++) {
    const x = i - mid;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const window = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (TAPS - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (TAPS - 1));
    taps[i] = sinc * window;
    sum += taps[i]!;
  }
  for (let i = 0; i < TAPS; i++) taps[i]! /= sum;
  return taps;
}

function lowPass(samples: Int16Array, cutoff: number): Float64Array {
  const taps = lowPassTaps(cutoff);
  const mid = (TAPS - 1) / 2;
  const out = new Float64Array(samples.length);
  for (let n = 0; n < samples.length; n++) {
    let acc = 0;
    const from = Math.max(0, n - mid);
    const to = Math.min(samples.length - 1, n + mid);
    for (let k = from; k <= to; k++) acc += samples[k]! * taps[k - n + mid]!;
    out[n] = acc;
  }
  return out;
}

/** `samples` at `fromRate` converted to `toRate` (mono 16-bit). */
export function resample(samples: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate) return samples.slice();
  // Downsampling: keep below 90 % of the new Nyquist frequency, so nothing folds back.
  const source = toRate < fromRate ? lowPass(samples, (0.45 * toRate) / fromRate) : Float64Array.from(samples);
  const length = Math.floor((samples.length * toRate) / fromRate);
  const out = new Int16Array(length);
  const step = fromRate / toRate;
  for (let i = 0; i < length; i++) {
    const position = i * step;
    const k = Math.floor(position);
    const frac = position - k;
    const a = source[k] ?? 0;
    const b = source[k + 1] ?? a;
    out[i] = Math.max(-32768, Math.min(32767, Math.round(a + (b - a) * frac)));
  }
  return out;
}

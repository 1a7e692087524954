// The samples of a 16-bit mono PCM WAV file as espeak-ng writes it to a pipe: its RIFF and data sizes are
// placeholders (the length was unknown when the header was written), so the data runs to the end.

export interface PcmAudio {
  sampleRate: number;
  samples: Int16Array;
}

/** Parses a WAV; throws on anything but 16-bit mono PCM. */
export function parseWavPcm(wav: Buffer): PcmAudio {
  if (wav.length < 12 || wav.toString('latin1', 0, 4) !== 'RIFF' || wav.toString('latin1', 8, 12) !== 'WAVE') {
    throw new Error('not a WAV file');
  }
  let offset = 12;
  let sampleRate: number | undefined;
  while (offset + 8 <= wav.length) {
    const id = wav.toString('latin1', offset, offset + 4);
    const size = wav.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > wav.length) throw new Error('truncated WAV format chunk');
      const format = wav.readUInt16LE(body);
      const channels = wav.readUInt16LE(body + 2);
      const bits = wav.readUInt16LE(body + 14);
      if (format !== 1 || channels !== 1 || bits !== 16) throw new Error(`unsupported WAV (format ${format}, ${channels} channels, ${bits} bits)`);
      sampleRate = wav.readUInt32LE(body + 4);
      if (sampleRate < 1000 || sampleRate > 192000) throw new Error(`unsupported WAV rate ${sampleRate}`);
    } else if (id === 'data') {
      if (sampleRate === undefined) throw new Error('WAV data before its format');
      const end = Math.min(wav.length, body + size);
      const count = Math.floor((end - body) / 2);
      const samples = new Int16Array(count);
      for (let i = 0; i < count; i++) samples[i] = wav.readInt16LE(body + i * 2);
      return { sampleRate, samples };
    }
    offset = body + size + (size % 2);
  }
  throw new Error('WAV without data');
}

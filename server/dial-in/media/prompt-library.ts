// Spoken prompts for phone callers: a text spoken by espeak-ng, cut into 20 ms frames of the call's codec.
// Speaking and encoding take a few hundred ms, so results are kept in memory (bounded LRU) and on disk (a
// restart does not speak again), and callers asking for the same prompt at once share one child process.

import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { readRtpHeader } from '../../recording/rtp-packet.js';
import type { CallCodecName } from './call-rtp-session.js';
import { g711Encode, g711Silence } from './g711.js';
import { runPiped } from './piped-process.js';
import { resample } from './resample.js';
import { parseWavPcm, type PcmAudio } from './wav-pcm.js';

export const PROMPT_FRAME_MS = 20;

export interface Prompt {
  codec: CallCodecName;
  /** One codec payload per 20 ms. */
  frames: Buffer[];
  /** Samples per frame at the codec's RTP clock rate (160 for G.711, 960 for Opus). */
  samplesPerFrame: number;
  durationMs: number;
}

export interface PromptLibraryOptions {
  /** Where generated prompts are kept across restarts. */
  cacheDir: string;
  /** Prompts kept in memory. */
  maxCached?: number;
  /** espeak-ng voice when the caller names none. */
  defaultVoice?: string;
  maxTextLength?: number;
  espeakPath?: string;
  gstLaunchPath?: string;
  opusBitrate?: number;
  /** Per child process. */
  timeoutMs?: number;
}

const FILE_MAGIC = Buffer.from('PLPROMPT1');
const MAX_AUDIO_BYTES = 64 * 1024 * 1024;
/** An espeak-ng voice name (e.g. en, en-us, fr, es+f3): letters, digits, '-', '+'; never an option. */
const VOICE = /^[a-z]{2,3}(?:[-+][a-z0-9]{1,12}){0,3}$/i;

const CLOCK_RATE: Record<CallCodecName, number> = { PCMU: 8000, PCMA: 8000, opus: 48000 };

/** A prompt's frames as stored on disk: magic, frame count, then each frame length-prefixed. */
function serialize(frames: Buffer[]): Buffer {
  const head = Buffer.alloc(FILE_MAGIC.length + 4);
  FILE_MAGIC.copy(head);
  head.writeUInt32BE(frames.length, FILE_MAGIC.length);
  const parts = [head];
  for (const frame of frames) {
    const length = Buffer.alloc(2);
    length.writeUInt16BE(frame.length);
    parts.push(length, frame);
  }
  return Buffer.concat(parts);
}

/** The frames of a stored prompt, or undefined when the file is not one (then it is made again). */
function deserialize(bytes: Buffer): Buffer[] | undefined {
  if (bytes.length < FILE_MAGIC.length + 4 || !bytes.subarray(0, FILE_MAGIC.length).equals(FILE_MAGIC)) return undefined;
  const count = bytes.readUInt32BE(FILE_MAGIC.length);
  const frames: Buffer[] = [];
  let offset = FILE_MAGIC.length + 4;
  for (let i = 0; i < count; i++) {
    if (offset + 2 > bytes.length) return undefined;
    const length = bytes.readUInt16BE(offset);
    if (offset + 2 + length > bytes.length) return undefined;
    frames.push(Buffer.from(bytes.subarray(offset + 2, offset + 2 + length)));
    offset += 2 + length;
  }
  return offset === bytes.length && count > 0 ? frames : undefined;
}

/** Cuts G.711 audio into 160-sample frames, the last padded with silence. */
function g711Frames(codec: 'PCMU' | 'PCMA', audio: PcmAudio): Buffer[] {
  const encoded = g711Encode(codec, resample(audio.samples, audio.sampleRate, 8000));
  const perFrame = (8000 * PROMPT_FRAME_MS) / 1000;
  const frames: Buffer[] = [];
  for (let offset = 0; offset < encoded.length; offset += perFrame) {
    const frame = Buffer.alloc(perFrame, g711Silence(codec));
    encoded.copy(frame, 0, offset, Math.min(encoded.length, offset + perFrame));
    frames.push(frame);
  }
  return frames;
}

/** The payloads of RFC 4571-framed RTP (rtpstreampay's output). */
function framedPayloads(stream: Buffer): Buffer[] {
  const payloads: Buffer[] = [];
  let offset = 0;
  while (offset + 2 <= stream.length) {
    const length = stream.readUInt16BE(offset);
    if (offset + 2 + length > stream.length) break;
    const packet = stream.subarray(offset + 2, offset + 2 + length);
    const header = readRtpHeader(packet);
    if (header && header.payloadEnd > header.payloadOffset) payloads.push(Buffer.from(packet.subarray(header.payloadOffset, header.payloadEnd)));
    offset += 2 + length;
  }
  return payloads;
}

export class PromptLibrary {
  private readonly memory: LRUCache<string, Prompt>;
  private readonly inFlight = new Map<string, Promise<Prompt>>();
  private dirReady: Promise<unknown> | undefined;

  constructor(private readonly options: PromptLibraryOptions) {
    this.memory = new LRUCache({ max: options.maxCached ?? 64 });
  }

  /** `text` spoken with `voice` (espeak-ng's), as 20 ms frames for `codec`. */
  async prompt(text: string, codec: CallCodecName, voice = this.options.defaultVoice ?? 'en'): Promise<Prompt> {
    const spoken = text.trim();
    const maxLength = this.options.maxTextLength ?? 1000;
    if (spoken.length === 0 || spoken.length > maxLength) throw new Error(`prompt text must be 1-${maxLength} characters`);
    // Control characters would reach espeak-ng's input untouched; prompts are plain sentences.
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(spoken)) throw new Error('prompt text has control characters');
    if (!VOICE.test(voice)) throw new Error(`invalid espeak-ng voice "${voice}"`);
    if (!(codec in CLOCK_RATE)) throw new Error(`unsupported prompt codec ${codec}`);
    const key = createHash('sha256').update(JSON.stringify([spoken, voice, codec, codec === 'opus' ? this.bitrate : 0])).digest('hex');
    const cached = this.memory.get(key);
    if (cached) return cached;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.load(key, spoken, voice, codec).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private get bitrate(): number {
    return this.options.opusBitrate ?? 32000;
  }

  private async load(key: string, text: string, voice: string, codec: CallCodecName): Promise<Prompt> {
    const file = join(this.options.cacheDir, `${key}.prompt`);
    let frames = await readFile(file).then(deserialize, () => undefined);
    if (!frames) {
      frames = await this.make(text, voice, codec);
      await this.store(file, frames);
    }
    const samplesPerFrame = (CLOCK_RATE[codec] * PROMPT_FRAME_MS) / 1000;
    const prompt: Prompt = { codec, frames, samplesPerFrame, durationMs: frames.length * PROMPT_FRAME_MS };
    this.memory.set(key, prompt);
    return prompt;
  }

  private async store(file: string, frames: Buffer[]): Promise<void> {
    this.dirReady ??= mkdir(this.options.cacheDir, { recursive: true });
    await this.dirReady;
    // Written aside then renamed: a crash never leaves a half prompt under the final name.
    const temporary = `${file}.${randomUUID()}.tmp`;
    await writeFile(temporary, serialize(frames));
    await rename(temporary, file);
  }

  private async make(text: string, voice: string, codec: CallCodecName): Promise<Buffer[]> {
    const limits = { timeoutMs: this.options.timeoutMs ?? 30_000, maxOutputBytes: MAX_AUDIO_BYTES };
    const wav = await runPiped(this.options.espeakPath ?? 'espeak-ng', ['--stdout', '--stdin', '-v', voice], Buffer.from(`${text}\n`), limits);
    const audio = parseWavPcm(wav);
    if (audio.samples.length === 0) throw new Error(`espeak-ng produced no audio for voice ${voice}`);
    if (codec !== 'opus') return g711Frames(codec, audio);
    const pcm = Buffer.from(audio.samples.buffer, audio.samples.byteOffset, audio.samples.byteLength);
    const stream = await runPiped(
      this.options.gstLaunchPath ?? 'gst-launch-1.0',
      [
        '-q', 'fdsrc', 'fd=0', '!',
        'rawaudioparse', 'use-sink-caps=false', 'format=pcm', 'pcm-format=s16le', `sample-rate=${audio.sampleRate}`, 'num-channels=1', '!',
        'audioconvert', '!', 'audioresample', '!', 'audio/x-raw,rate=48000,channels=1', '!',
        'opusenc', `bitrate=${this.bitrate}`, 'frame-size=20', 'audio-type=voice', '!',
        'rtpopuspay', '!', 'rtpstreampay', '!', 'fdsink', 'fd=1',
      ],
      pcm,
      limits,
    );
    const frames = framedPayloads(stream);
    if (frames.length === 0) throw new Error('opus encoder produced no packets');
    return frames;
  }
}

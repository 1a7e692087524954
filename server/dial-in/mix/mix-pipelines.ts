// The GStreamer pipelines of phone audio (gst-launch-1.0, Debian's plugins base/good/bad). RTP travels on
// pipes framed as RFC 4571 (rtpstreampay/rtpstreamdepay), as the recorders' does: no ports to race for, and
// nothing lost on a loaded loopback. Inputs carry no timestamps: each decoder counts its own samples from
// its first packet, and Node feeds every input of a mixer one packet per 20 ms in the same tick, so the
// inputs line up in the mixer without a clock.

import { OPUS_PAYLOAD_TYPE } from '../../recording/gst-pipelines.js';

/** What a phone call carries: G.711 (μ-law, A-law) or Opus. */
export type PhoneCodec = 'opus' | 'PCMU' | 'PCMA';

export const PHONE_CODECS: readonly PhoneCodec[] = ['opus', 'PCMU', 'PCMA'];

/** Payload types of the mixers' output streams (G.711's static ones; Opus's as the recorders use it). */
export const MIX_PAYLOAD_TYPE: Record<PhoneCodec, number> = { PCMU: 0, PCMA: 8, opus: OPUS_PAYLOAD_TYPE };

/** How much of the floor a listener hears under a live interpreter: the SDK's default floor volume. */
export const DUCKED_FLOOR_VOLUME = 0.15;

/** The Opus the router's producers carry (payload type 100, as the recorders consume it). */
const OPUS_IN = `application/x-rtp-stream,media=audio,clock-rate=48000,encoding-name=OPUS,payload=${OPUS_PAYLOAD_TYPE}`;

/** One Opus RTP input on a pipe, decoded to mono 48 kHz, into the mixer's next pad. */
function opusInput(fd: number, mixerPad: string, volume?: number): string[] {
  return [
    'fdsrc', `fd=${fd}`, 'do-timestamp=false', '!', OPUS_IN, '!',
    'rtpstreamdepay', '!', 'rtpopusdepay', '!', 'opusdec', 'plc=true', '!', 'audioconvert', '!',
    ...(volume === undefined ? [] : ['volume', `volume=${volume}`, '!']),
    'audio/x-raw,rate=48000,channels=1', '!', mixerPad,
  ];
}

/** One output branch of the mix: 20 ms RTP packets of `codec`, framed on a pipe. */
function encoderBranch(codec: PhoneCodec, fd: number, ssrc: number): string[] {
  const ptime = ['min-ptime=20000000', 'max-ptime=20000000'];
  const pay = `pt=${MIX_PAYLOAD_TYPE[codec]}`;
  const encode =
    codec === 'opus'
      ? ['opusenc', 'audio-type=voice', 'frame-size=20', 'bitrate=32000', '!', 'rtpopuspay', pay, `ssrc=${ssrc}`]
      : [
          'audioresample', '!', 'audio/x-raw,rate=8000,channels=1', '!',
          codec === 'PCMU' ? 'mulawenc' : 'alawenc', '!',
          codec === 'PCMU' ? 'rtppcmupay' : 'rtppcmapay', pay, ...ptime, `ssrc=${ssrc}`,
        ];
  return ['t.', '!', 'queue', 'max-size-time=200000000', '!', ...encode, '!', 'rtpstreampay', '!', 'fdsink', `fd=${fd}`, 'sync=false'];
}

export interface MixLayout {
  /** Input fds: the booth's interpreter (language channels only), then the floor voices at full level, then ducked. */
  interpreter: number | undefined;
  floorFull: number[];
  floorDucked: number[];
  /** Output fd of each codec's stream. */
  outputs: Map<PhoneCodec, number>;
  /** The highest fd the child needs. */
  maxFd: number;
}

/**
 * Where each stream of a channel's mixer goes: fds from 3 upwards, inputs first. A language channel has an
 * interpreter input and each floor voice twice (full, ducked); the floor channel only the floor at full.
 */
export function mixLayout(language: boolean, floorVoices: number, codecs: PhoneCodec[]): MixLayout {
  let fd = 3;
  const interpreter = language ? fd++ : undefined;
  const floorFull = Array.from({ length: floorVoices }, () => fd++);
  const floorDucked = language ? Array.from({ length: floorVoices }, () => fd++) : [];
  const outputs = new Map(codecs.map((c) => [c, fd++] as const));
  return { interpreter, floorFull, floorDucked, outputs, maxFd: fd - 1 };
}

/**
 * A channel's mixer: every input decoded and summed by audiomixer (20 ms output buffers), then one encoder
 * per codec in use. The ducked floor inputs carry a fixed volume, so ducking is Node choosing which input a
 * floor packet goes to (the other gets silence): no process restart, no control channel.
 */
export function channelMix(layout: MixLayout, ssrcs: Map<PhoneCodec, number>): string[] {
  const args = ['-q'];
  let pad = 0;
  const next = (): string => `m.sink_${pad++}`;
  if (layout.interpreter !== undefined) args.push(...opusInput(layout.interpreter, next()));
  for (const fd of layout.floorFull) args.push(...opusInput(fd, next()));
  for (const fd of layout.floorDucked) args.push(...opusInput(fd, next(), DUCKED_FLOOR_VOLUME));
  args.push('audiomixer', 'name=m', 'output-buffer-duration=20000000', '!', 'audio/x-raw,rate=48000,channels=1', '!', 'tee', 'name=t');
  for (const [codec, fd] of layout.outputs) args.push(...encoderBranch(codec, fd, ssrcs.get(codec)!));
  return args;
}

/** A caller's G.711 (framed RTP on stdin) to Opus RTP (framed on stdout), 20 ms packets. */
export function g711ToOpus(codec: 'PCMU' | 'PCMA'): string[] {
  const mu = codec === 'PCMU';
  return [
    '-q',
    'fdsrc', 'fd=0', 'do-timestamp=false', '!',
    `application/x-rtp-stream,media=audio,clock-rate=8000,encoding-name=${codec},payload=${MIX_PAYLOAD_TYPE[codec]}`, '!',
    'rtpstreamdepay', '!',
    mu ? 'rtppcmudepay' : 'rtppcmadepay', '!',
    mu ? 'mulawdec' : 'alawdec', '!',
    'audioconvert', '!', 'audioresample', '!', 'audio/x-raw,rate=48000,channels=1', '!',
    'opusenc', 'audio-type=voice', 'frame-size=20', 'bitrate=32000', '!',
    'rtpopuspay', `pt=${OPUS_PAYLOAD_TYPE}`, '!',
    'rtpstreampay', '!',
    'fdsink', 'fd=1', 'sync=false',
  ];
}

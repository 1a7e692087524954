import type { types } from 'mediasoup-client';
import type { RequestData, VideoFallbackState } from '../../protocol/signaling.js';

export type { VideoFallbackState };

/**
 * The screen an audio-only client declares: no stage and no gallery tiles. The server then makes no video
 * consumer for it (selective forwarding sends only the cameras a screen shows), so no video reaches it.
 */
export const NO_VIDEO_VIEW: Pick<RequestData<'setView'>, 'stage' | 'tiles'> = { stage: null, tiles: [] };

/**
 * Opus as the SDK publishes it (docs/LOW-BANDWIDTH.md): mono speech; DTX, so a silent microphone sends a
 * packet every 400 ms instead of 50 a second; in-band FEC, so a lost packet is rebuilt from the next one.
 * How much FEC the browser's encoder adds follows the loss mediasoup reports back to it (RTCP receiver
 * reports carry the worst loss among the receivers of this microphone).
 */
export const OPUS_CODEC_OPTIONS: types.ProducerCodecOptions = { opusStereo: false, opusDtx: true, opusFec: true };

/** What the client's audio-only switch says, and what the server's downlink watch said last. */
export interface AudioOnlyState {
  audioOnly: boolean;
  /** The server's video state for this client's downlink (`full` until it says otherwise). */
  videoFallback: VideoFallbackState;
}

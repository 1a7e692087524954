import type { types } from 'mediasoup';

/** Opus for speech and interpretation, VP8 for simulcast video, H264 for clients that only encode it in hardware. */
export const routerMediaCodecs: types.RtpCodecCapability[] = [
  // In-band FEC and DTX (docs/LOW-BANDWIDTH.md): with useinbandfec on the producer, mediasoup reports to the
  // publisher the worst loss among the consumers (RTCP RR), which is what Chromium's encoder sizes its FEC on.
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: { useinbandfec: 1, usedtx: 1 } },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
];

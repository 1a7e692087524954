// The GStreamer pipelines the recorders run (gst-launch-1.0, Debian's gstreamer1.0-plugins-good/-bad). RTP
// comes in on stdin, framed as RFC 4571 (rtpstreamdepay), and the muxed file goes out on stdout, so Node
// owns the file: it continues one stream across processes, and knows exactly what reached the disk.
// Buffers are not stamped on arrival (do-timestamp=false): the stream's own packet durations make the
// timeline, and the splicer fed it one packet per instant, so the file's timeline is the session clock.

export const OPUS_PAYLOAD_TYPE = 100;
export const VP8_PAYLOAD_TYPE = 101;

/** Opus RTP in, Ogg Opus out, packets copied as they are (opusparse writes the OpusHead the muxer needs). */
export function opusToOgg(): string[] {
  return [
    '-q',
    'fdsrc', 'fd=0', 'do-timestamp=false', '!',
    `application/x-rtp-stream,media=audio,clock-rate=48000,encoding-name=OPUS,payload=${OPUS_PAYLOAD_TYPE}`, '!',
    'rtpstreamdepay', '!',
    'rtpopusdepay', '!',
    'opusparse', '!',
    // Pages at most 100 ms apart: a recorder killed loses little, and what it wrote is known.
    'oggmux', 'max-delay=100000000', 'max-page-delay=100000000', '!',
    'fdsink', 'fd=1', 'sync=false',
  ];
}

/**
 * VP8 RTP in, WebM written by the muxer itself to `path`, frames copied as they are. Video is stamped on
 * arrival and put in order by the jitter buffer (a camera's frame rate varies); the muxer writes the file
 * so that a clean end leaves its duration and cues, and writes each buffer at once. Each part starts on a
 * keyframe; its place on the session clock is in the index.
 */
export function vp8ToWebm(path: string): string[] {
  return [
    '-q',
    'fdsrc', 'fd=0', 'do-timestamp=true', '!',
    `application/x-rtp-stream,media=video,clock-rate=90000,encoding-name=VP8,payload=${VP8_PAYLOAD_TYPE}`, '!',
    'rtpstreamdepay', '!',
    'rtpjitterbuffer', 'latency=200', '!',
    'rtpvp8depay', '!',
    'webmmux', '!',
    // Unbuffered: a recorder killed mid-part leaves every frame it muxed on disk (a camera showing little
    // change makes less than filesink's 64 KB buffer in seconds, and a killed process would leave nothing).
    'filesink', `location=${path}`, 'sync=false', 'buffer-mode=unbuffered',
  ];
}

// A microphone level meter: a WebAudio AnalyserNode on the track, read every animation frame into a <meter>
// directly (no React render per frame). The label names it for screen readers.
import { useEffect, useRef } from 'react';

/** The track's loudness now, 0..1 (RMS of the waveform, scaled so that speech fills most of it). */
function level(analyser: AnalyserNode, buffer: Float32Array<ArrayBuffer>): number {
  analyser.getFloatTimeDomainData(buffer);
  let sum = 0;
  for (const v of buffer) sum += v * v;
  return Math.min(1, Math.sqrt(sum / buffer.length) * 4);
}

export function MediaLevelMeter({ track, label, ...rest }: { track: MediaStreamTrack | undefined; label: string; 'data-testid'?: string }) {
  const ref = useRef<HTMLMeterElement>(null);
  useEffect(() => {
    const meter = ref.current;
    if (!track || !meter) return;
    const context = new AudioContext();
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    const source = context.createMediaStreamSource(new MediaStream([track]));
    source.connect(analyser); // not to the destination: one's own voice is not played back
    const buffer = new Float32Array(analyser.fftSize);
    let frame = 0;
    const tick = () => {
      meter.value = track.enabled && track.readyState === 'live' ? level(analyser, buffer) : 0;
      frame = requestAnimationFrame(tick);
    };
    void context.resume().catch(() => undefined);
    tick();
    return () => {
      cancelAnimationFrame(frame);
      source.disconnect();
      meter.value = 0;
      void context.close().catch(() => undefined);
    };
  }, [track]);
  return <meter ref={ref} className="media-level" min={0} max={1} low={0.05} high={0.95} optimum={0.5} value={0} aria-label={label} data-testid={rest['data-testid']} />;
}

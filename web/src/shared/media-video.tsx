// A <video> that plays one MediaStreamTrack (a camera preview, a remote camera), muted: sound goes through
// the SDK's channel mixer, never through video elements.
import { useEffect, useRef, type VideoHTMLAttributes } from 'react';

export function MediaVideo({ track, ...rest }: { track: MediaStreamTrack | undefined } & VideoHTMLAttributes<HTMLVideoElement>) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    const current = (video.srcObject as MediaStream | null)?.getVideoTracks()[0];
    if (current === track) return;
    video.srcObject = track ? new MediaStream([track]) : null;
  }, [track]);
  return <video ref={ref} autoPlay playsInline muted {...rest} />;
}

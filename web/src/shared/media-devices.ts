// Devices for a pre-join check: what there is, a preview stream on the chosen ones, and a speaker test tone.

export interface MediaDeviceChoice {
  microphones: MediaDeviceInfo[];
  cameras: MediaDeviceInfo[];
  speakers: MediaDeviceInfo[];
}

/** The devices there are (labels only once a permission was granted, e.g. after the preview opened). */
export async function listMediaDevices(): Promise<MediaDeviceChoice> {
  const all = await navigator.mediaDevices.enumerateDevices();
  return {
    microphones: all.filter((d) => d.kind === 'audioinput'),
    cameras: all.filter((d) => d.kind === 'videoinput'),
    speakers: all.filter((d) => d.kind === 'audiooutput'),
  };
}

/** Opens the microphone and (unless `video` is false) the camera, on the chosen devices when given. */
export function openPreview(options: { micId?: string; cameraId?: string; video: boolean }): Promise<MediaStream> {
  const pick = (id: string | undefined): MediaTrackConstraints => (id ? { deviceId: { exact: id } } : {});
  return navigator.mediaDevices.getUserMedia({
    audio: pick(options.micId),
    video: options.video ? { width: 640, height: 360, ...pick(options.cameraId) } : false,
  });
}

/** An AudioContext that can play to a chosen output device (Chrome 110+); elsewhere the default one. */
type SinkableContext = AudioContext & { setSinkId?: (id: string) => Promise<void> };

export const canChooseSpeaker = (): boolean => 'setSinkId' in AudioContext.prototype;

/** Sends an AudioContext's output to `sinkId` where the browser allows it; '' is the default device. */
export async function routeToSpeaker(context: AudioContext, sinkId: string | undefined): Promise<void> {
  const sinkable = context as SinkableContext;
  if (sinkId !== undefined && sinkable.setSinkId) await sinkable.setSinkId(sinkId);
}

/** Plays a short two-note chime on the chosen speaker; resolves when it has ended. */
export async function playTestTone(sinkId?: string, durationMs = 900): Promise<void> {
  const context = new AudioContext();
  try {
    await routeToSpeaker(context, sinkId);
    await context.resume();
    const gain = context.createGain();
    gain.gain.value = 0.2;
    gain.connect(context.destination);
    const half = durationMs / 2000;
    [523.25, 659.25].forEach((hz, i) => {
      const osc = context.createOscillator();
      osc.frequency.value = hz;
      osc.connect(gain);
      osc.start(context.currentTime + i * half);
      osc.stop(context.currentTime + (i + 1) * half);
    });
    await new Promise((resolve) => setTimeout(resolve, durationMs));
  } finally {
    await context.close().catch(() => undefined);
  }
}

/**
 * Plays remote audio through WebAudio so that channels can be mixed: the chosen interpretation at full
 * volume with the floor underneath at the listener's volume, or the floor alone when the chosen language
 * has no live interpreter. Gains change instantly; nothing is renegotiated.
 */
export class ChannelMixer {
  readonly context: AudioContext;
  /** The mix as the listener hears it; tests and level meters read it. */
  readonly analyser: AnalyserNode;
  private readonly output: GainNode;
  private readonly inputs = new Map<string, { channel: string; gain: GainNode; source: MediaStreamAudioSourceNode; element: HTMLAudioElement }>();
  private selected = 'floor';
  private floorVolume = 0.15;
  private live = new Set<string>();

  constructor() {
    this.context = new AudioContext();
    this.output = this.context.createGain();
    this.analyser = this.context.createAnalyser();
    this.analyser.fftSize = 8192;
    this.output.connect(this.analyser);
    this.analyser.connect(this.context.destination);
  }

  add(id: string, channel: string, track: MediaStreamTrack): void {
    const stream = new MediaStream([track]);
    // Chrome only pulls a remote WebRTC track through WebAudio while a media element also holds it.
    const element = new Audio();
    element.muted = true;
    element.srcObject = stream;
    void element.play().catch(() => undefined);
    const source = this.context.createMediaStreamSource(stream);
    const gain = this.context.createGain();
    source.connect(gain).connect(this.output);
    this.inputs.set(id, { channel, gain, source, element });
    void this.context.resume().catch(() => undefined);
    this.apply();
  }

  remove(id: string): void {
    const input = this.inputs.get(id);
    if (!input) return;
    input.source.disconnect();
    input.gain.disconnect();
    input.element.srcObject = null;
    this.inputs.delete(id);
  }

  /** What the listener chose, and which languages have a live interpreter now. */
  set(options: { selected?: string; floorVolume?: number; live?: Iterable<string> }): void {
    if (options.selected !== undefined) this.selected = options.selected;
    if (options.floorVolume !== undefined) this.floorVolume = Math.min(1, Math.max(0, options.floorVolume));
    if (options.live !== undefined) this.live = new Set(options.live);
    this.apply();
  }

  /** Overall listening volume, 0..1 (the booth console's volume knob). */
  setVolume(volume: number): void {
    this.output.gain.setTargetAtTime(Math.min(1, Math.max(0, volume)), this.context.currentTime, 0.01);
  }

  /** True when the listener asked for a language that has nobody live: they hear the floor instead. */
  get fallingBack(): boolean {
    return this.selected !== 'floor' && !this.live.has(this.selected);
  }

  close(): void {
    for (const id of [...this.inputs.keys()]) this.remove(id);
    void this.context.close().catch(() => undefined);
  }

  private apply(): void {
    const interpreting = this.selected !== 'floor' && this.live.has(this.selected);
    const now = this.context.currentTime;
    for (const { channel, gain } of this.inputs.values()) {
      const value = channel === 'floor' ? (interpreting ? this.floorVolume : 1) : channel === this.selected && interpreting ? 1 : 0;
      // A 10 ms ramp avoids clicks without being heard as a delay.
      gain.gain.setTargetAtTime(value, now, 0.01);
    }
  }
}

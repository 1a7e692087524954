import type { types } from 'mediasoup';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { BoothSignalKind, BoothState, ChannelInfo, ServerEvents, SignChannelInfo } from '../../protocol/signaling.js';
import type { Participant } from '../rooms/participant.js';
import { Booth } from './booth.js';
import { BoothSignalLimiter } from './booth-signals.js';

/** What the interpretation of a room needs from the room: its people, and ways to tell all of them or its moderators. */
export interface InterpretationHost {
  readonly participants: ReadonlyMap<string, Participant>;
  /** The floor holder, else the dominant voice (null: nobody speaks). */
  readonly activeSpeaker: string | null;
  broadcast<E extends keyof ServerEvents>(event: E, data: ServerEvents[E]): void;
  notifyModerators<E extends keyof ServerEvents>(event: E, data: ServerEvents[E]): void;
  /** A sign-language channel's live signer, or their video, changed: its viewers follow. */
  signChanged?(language: string): void;
  /** Which spoken channels have a live interpreter changed (listeners who leave the floor out follow). */
  channelsLiveChanged?(): void;
}

/**
 * A room's language channels: one booth per interpreted language. Tells everyone which channels have a
 * live interpreter (listeners fall back to the floor otherwise), and each booth's interpreters its state.
 */
export class Interpretation {
  readonly booths = new Map<string, Booth>();
  private readonly signals: BoothSignalLimiter;
  /** Sign-language channels: their booths carry the signers' cameras, not microphones. */
  private readonly signed: ReadonlySet<string>;

  constructor(
    languages: string[],
    takeAfterMs: number,
    private readonly host: InterpretationHost,
    signals = new BoothSignalLimiter(),
    signLanguages: readonly string[] = [],
  ) {
    this.signals = signals;
    // A code declared both ways is a sign channel: its booth must not be mixed into anyone's audio.
    this.signed = new Set(signLanguages);
    for (const language of [...languages, ...signLanguages]) if (!this.booths.has(language)) this.booths.set(language, new Booth(language, takeAfterMs));
  }

  /** The spoken languages (audio channels). */
  get languages(): string[] {
    return [...this.booths.keys()].filter((l) => !this.signed.has(l));
  }

  /** The sign-language channels (video channels). */
  get signLanguages(): string[] {
    return [...this.signed];
  }

  isSign(language: string): boolean {
    return this.signed.has(language);
  }

  /** The live signer's video in a sign channel (undefined: nobody live, or their camera is not published). */
  signVideo(language: string): types.Producer | undefined {
    if (!this.signed.has(language)) return undefined;
    const producer = this.booths.get(language)?.liveProducer;
    return producer && !producer.closed && producer.kind === 'video' ? producer : undefined;
  }

  signChannels(): SignChannelInfo[] {
    return this.signLanguages.map((language) => {
      const state = this.booths.get(language)!.state();
      const live = state.interpreters.find((i) => i.id === state.live);
      return live ? { language, live: true, interpreter: { id: live.id, name: live.name } } : { language, live: false };
    });
  }

  /** The spoken channels and whether each has a live interpreter. */
  channels(): ChannelInfo[] {
    return [...this.booths.values()].filter((b) => !this.signed.has(b.language)).map((b) => {
      const state = b.state();
      const interpreter = state.interpreters.find((i) => i.id === state.live)?.name;
      return interpreter ? { language: b.language, live: true, interpreter } : { language: b.language, live: false };
    });
  }

  boothStatesOf(participantId: string): BoothState[] {
    return [...this.booths.values()].filter((b) => b.has(participantId)).map((b) => b.state());
  }

  isLive(language: string): boolean {
    return this.booths.get(language)?.liveInterpreter != null;
  }

  onJoin(p: Participant): void {
    for (const language of p.grants.publish.booths) {
      const booth = this.booths.get(language);
      if (!booth) continue;
      booth.addMember(p.id, p.grants.name);
      this.publishBooth(booth);
    }
  }

  onLeave(p: Participant): void {
    for (const booth of this.booths.values()) {
      const wasLive = booth.liveInterpreter === p.id;
      if (!booth.removeMember(p.id)) continue;
      this.publishBooth(booth);
      if (wasLive) this.publishChannels(booth);
    }
  }

  /** A producer into a language channel joins its booth, paused unless its interpreter is live. */
  async onProducer(p: Participant, producer: types.Producer): Promise<void> {
    const channel = producer.appData.channel as string;
    if (channel === 'floor') return;
    const booth = this.requireBooth(channel);
    await booth.attachProducer(p.id, producer);
    // The live signer's camera arriving (or coming back) is what the channel's viewers are sent.
    if (this.signed.has(channel) && booth.liveInterpreter === p.id) this.host.signChanged?.(channel);
  }

  /** The secretariat puts an interpreter in a booth during the session. */
  assign(p: Participant, language: string): void {
    const booth = this.requireBooth(language);
    if (!p.grants.publish.booths.includes(language)) p.grants.publish.booths.push(language);
    booth.addMember(p.id, p.grants.name);
    this.publishBooth(booth);
  }

  /** Runs a booth action, then tells the booth, and everyone if who is live changed. */
  async act(language: string, action: (booth: Booth) => Promise<void>): Promise<void> {
    const booth = this.requireBooth(language);
    const liveBefore = booth.liveInterpreter;
    try {
      await action(booth);
    } finally {
      this.publishBooth(booth);
      if (liveBefore !== booth.liveInterpreter) this.publishChannels(booth);
    }
  }

  chat(p: Participant, language: string, text: string): void {
    const booth = this.requireBooth(language);
    if (!booth.has(p.id)) throw new ProtocolError(ErrorCode.FORBIDDEN, `you are not in the ${language} booth`);
    const message = { language, from: { id: p.id, name: p.grants.name }, text, at: Date.now() };
    for (const id of booth.memberIds) this.host.participants.get(id)?.notify('boothChat', message);
  }

  /**
   * "Slow down" or "repeat" from one of the booth's interpreters, to the moderators and the current speaker
   * (once each), as the lamps of conference hardware. Only the interpreter's name goes out.
   */
  signal(p: Participant, language: string, kind: BoothSignalKind): void {
    const booth = this.requireBooth(language);
    if (!booth.has(p.id)) throw new ProtocolError(ErrorCode.FORBIDDEN, `you are not in the ${language} booth`);
    this.signals.take(language, kind);
    const notice = { language, kind, from: { name: p.grants.name }, at: Date.now() };
    this.host.notifyModerators('boothSignal', notice);
    const speaker = this.host.activeSpeaker === null ? undefined : this.host.participants.get(this.host.activeSpeaker);
    if (speaker && !speaker.grants.moderate) speaker.notify('boothSignal', notice);
  }

  /** 'floor', or a language this session interprets; anything else is NOT_FOUND. */
  requireChannel(channel: string): void {
    if (channel !== 'floor') this.requireBooth(channel);
  }

  private requireBooth(language: string): Booth {
    const booth = this.booths.get(language);
    if (!booth) throw new ProtocolError(ErrorCode.NOT_FOUND, `this session has no ${language} channel`);
    return booth;
  }

  private publishBooth(booth: Booth): void {
    const state = booth.state();
    for (const id of booth.memberIds) this.host.participants.get(id)?.notify('boothState', state);
  }

  private publishChannels(booth: Booth): void {
    if (!this.signed.has(booth.language)) {
      this.host.broadcast('channelsChanged', { channels: this.channels() });
      return this.host.channelsLiveChanged?.();
    }
    this.host.broadcast('signChannelsChanged', { channels: this.signChannels() });
    this.host.signChanged?.(booth.language);
  }
}

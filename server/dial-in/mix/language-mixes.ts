import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { ErrorCode, ProtocolError } from '../../../protocol/errors.js';
import type { Logger } from '../../logger.js';
import { RecorderTap } from '../../recording/recorder-tap.js';
import type { Room } from '../../rooms/room.js';
import { ChannelMix } from './channel-mix.js';
import { floorVoices } from './floor-voices.js';
import { PHONE_CODECS, type PhoneCodec } from './mix-pipelines.js';

export interface LanguageMixesOptions {
  /** gst-launch-1.0's path (PLENUM_GST_LAUNCH). */
  gstLaunch: string;
  /** How many floor voices a mix carries at once (default 3, the audio selection's open-floor voices). */
  floorVoices?: number;
  /** How far behind real time the mixers' inputs run (default 60 ms). */
  delayMs?: number;
  /** How often what each mix follows is looked at (default 100 ms); floor events also trigger it. */
  followEveryMs?: number;
  /** How long a mixer outlives its last listener, so a caller changing language does not restart it (default 2000 ms). */
  lingerMs?: number;
  /** First wait before restarting a mixer that died (default 500 ms; doubles up to 8x). */
  restartDelayMs?: number;
  log: Logger;
}

/** 'floor', or one of the room's interpreted languages. */
export type MixChannel = string;

export interface MixSubscribeOptions {
  /**
   * The listener's own floor microphone (a caller's producer id): while it is one of the floor voices, the
   * listener gets a mix without it (a "mix-minus"), so a speaking caller does not hear themselves late.
   */
  except?: string;
}

interface Followed {
  producerId: string;
  ssrc: number;
}

interface ActiveMix {
  channel: MixChannel;
  mix: ChannelMix;
  /** The floor microphone this mix leaves out (a mix-minus for the callers it belongs to). */
  except: string | undefined;
  linger: NodeJS.Timeout | undefined;
  /** The live interpreter this mix follows (language channels). */
  interpreter: Followed | undefined;
}

interface Subscription {
  channel: MixChannel;
  codec: PhoneCodec;
  sink: (rtp: Buffer) => void;
  except: string | undefined;
  /** The mix it is in now. */
  key: string;
}

/**
 * What phone callers of ONE room hear, on the node that owns the room: a ChannelMix per channel that has
 * listeners (the floor, each language), started with its first listener and stopped a moment after its
 * last; and, while a caller's own microphone is one of the floor voices, a mix without it for that caller.
 * One tap (one PlainTransport consumer per followed producer) feeds them all: the floor voices once for
 * every mix, each booth's live interpreter once for the mixes of its language. It closes with the room.
 */
export class LanguageMixes extends EventEmitter<{ close: [] }> {
  private readonly mixes = new Map<string, ActiveMix>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly settings: Required<Omit<LanguageMixesOptions, 'log'>>;
  private readonly log: Logger;
  private tap: Promise<RecorderTap> | undefined;
  private openedTap: RecorderTap | undefined;
  /** How many users (floor slots, mixes) each consumed producer has. */
  private readonly uses = new Map<string, number>();
  /** The floor voices every mix follows, by input slot. */
  private readonly floorSlots: Array<Followed | undefined>;
  private timer: NodeJS.Timeout | undefined;
  private following = false;
  private again = false;
  private closed = false;
  private readonly detach: Array<() => void> = [];

  constructor(
    private readonly room: Room,
    options: LanguageMixesOptions,
  ) {
    super();
    this.settings = {
      gstLaunch: options.gstLaunch,
      floorVoices: options.floorVoices ?? 3,
      delayMs: options.delayMs ?? 60,
      followEveryMs: options.followEveryMs ?? 100,
      lingerMs: options.lingerMs ?? 2000,
      restartDelayMs: options.restartDelayMs ?? 500,
    };
    this.log = options.log.child({ room: room.id, part: 'language-mixes' });
    this.floorSlots = Array.from({ length: this.settings.floorVoices }, () => undefined);
    const onClose = (): void => this.close();
    const refollow = (): void => void this.follow();
    room.once('close', onClose);
    room.audio.on('audible', refollow);
    room.audio.on('inaudible', refollow);
    room.floor.on('changed', refollow);
    this.detach.push(
      () => room.off('close', onClose),
      () => room.audio.off('audible', refollow),
      () => room.audio.off('inaudible', refollow),
      () => room.floor.off('changed', refollow),
    );
  }

  /**
   * Sends `sink` the channel as heard on the phone: RTP packets of 20 ms in `codec`, one SSRC per codec
   * stream of a mix (a listener moved to or from its mix-minus gets another one; each listener gets its own
   * copy of every packet). Answers the unsubscribe function. Throws NOT_FOUND for a channel the room does
   * not have.
   */
  subscribe(channel: MixChannel, codec: PhoneCodec, sink: (rtp: Buffer) => void, options: MixSubscribeOptions = {}): () => void {
    if (this.closed || this.room.closed) throw new ProtocolError(ErrorCode.INVALID_STATE, 'the room has closed');
    if (!PHONE_CODECS.includes(codec)) throw new ProtocolError(ErrorCode.BAD_REQUEST, `no ${String(codec)} mix`);
    this.room.interpretation.requireChannel(channel);
    const sub: Subscription = { channel, codec, sink, except: options.except, key: '' };
    this.subscriptions.add(sub);
    this.join(sub, this.keyOf(sub));
    this.startFollowing();
    return () => {
      if (this.subscriptions.delete(sub)) this.leave(sub);
    };
  }

  /** How many mixer processes run for this room now. */
  get processCount(): number {
    return Object.values(this.pids()).filter((pid) => pid !== undefined).length;
  }

  /**
   * The mixer processes (undefined: one being restarted) by mix: the channel, or `<channel>/-<producer id>`
   * for a mix-minus. Tests and metrics.
   */
  pids(): Record<string, number | undefined> {
    return Object.fromEntries([...this.mixes].map(([key, a]) => [key, a.mix.pid]));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.detach) off();
    clearInterval(this.timer);
    for (const active of this.mixes.values()) {
      clearTimeout(active.linger);
      active.mix.close();
    }
    this.mixes.clear();
    this.subscriptions.clear();
    void this.tap?.then((t) => t.close(), () => undefined);
    this.emit('close');
  }

  /** The mix a listener belongs in now: its channel's, or its mix-minus while its microphone is a floor voice. */
  private keyOf(sub: Subscription): string {
    const speaking = sub.except !== undefined && this.floorSlots.some((s) => s?.producerId === sub.except);
    return speaking ? `${sub.channel}/-${sub.except}` : sub.channel;
  }

  private join(sub: Subscription, key: string): void {
    let active = this.mixes.get(key);
    if (!active) {
      const except = key === sub.channel ? undefined : sub.except;
      active = { channel: sub.channel, mix: this.createMix(sub.channel, except), except, linger: undefined, interpreter: undefined };
      this.mixes.set(key, active);
    }
    clearTimeout(active.linger);
    active.linger = undefined;
    sub.key = key;
    active.mix.add(sub.codec, sub.sink);
  }

  /** A listener leaves its mix: a mix left without listeners lingers, then stops, unless someone came back. */
  private leave(sub: Subscription): void {
    const key = sub.key;
    const active = this.mixes.get(key);
    if (!active) return;
    active.mix.remove(sub.codec, sub.sink);
    if (active.mix.subscribers > 0 || this.closed) return;
    clearTimeout(active.linger);
    active.linger = setTimeout(() => {
      if (this.mixes.get(key) !== active || active.mix.subscribers > 0) return;
      this.mixes.delete(key);
      active.mix.close();
      if (active.interpreter) this.release(active.interpreter.producerId);
      if (this.mixes.size === 0) this.stopFollowing();
    }, this.settings.lingerMs);
    active.linger.unref();
  }

  private createMix(channel: MixChannel, except: string | undefined): ChannelMix {
    const mix = new ChannelMix({
      channel,
      gstLaunch: this.settings.gstLaunch,
      floorVoices: this.settings.floorVoices,
      delayMs: this.settings.delayMs,
      restartDelayMs: this.settings.restartDelayMs,
      boothLive: () => this.room.interpretation.isLive(channel),
      log: this.log.child({ channel, ...(except ? { except } : {}) }),
    });
    this.floorSlots.forEach((slot, i) => mix.followFloor(i, slot && slot.producerId !== except ? slot.ssrc : undefined));
    return mix;
  }

  private startFollowing(): void {
    if (!this.timer) {
      this.timer = setInterval(() => void this.follow(), this.settings.followEveryMs);
      this.timer.unref();
    }
    void this.follow();
  }

  /** Nobody listens: the floor voices are no longer consumed. */
  private stopFollowing(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.floorSlots.forEach((slot, i) => {
      if (slot) this.release(slot.producerId);
      this.floorSlots[i] = undefined;
    });
  }

  private openTap(): Promise<RecorderTap> {
    this.tap ??= RecorderTap.create(
      this.room.media.router,
      'audio',
      {
        rtp: (packet, arrivalMs) => {
          // Every mix sees every packet; each input keeps its own source's (a header read each).
          for (const { mix } of this.mixes.values()) mix.rtp(packet, arrivalMs);
        },
        rtcp: (packet) => {
          for (const { mix } of this.mixes.values()) mix.rtcp(packet);
        },
      },
      this.log,
    ).then((tap) => {
      // The tap goes with the room's router: the room is closing.
      tap.once('close', () => this.close());
      if (this.closed) tap.close();
      this.openedTap = tap;
      return tap;
    });
    return this.tap;
  }

  /** Points every mix at its sources (the floor voices, each booth's live interpreter), then regroups listeners. Serialised. */
  private async follow(): Promise<void> {
    if (this.closed || this.mixes.size === 0) return;
    if (this.following) {
      this.again = true;
      return;
    }
    this.following = true;
    try {
      do {
        this.again = false;
        const tap = await this.openTap();
        await this.followFloor(tap);
        this.regroup();
        for (const active of [...this.mixes.values()]) if (active.channel !== 'floor') await this.followInterpreter(tap, active);
      } while (this.again && !this.closed);
    } catch (error) {
      if (!this.closed) this.log.warn({ err: (error as Error).message }, 'phone mix sources not followed');
    } finally {
      this.following = false;
    }
  }

  /** A voice that stays keeps its slot; one that left frees it; a new one takes a free slot. */
  private async followFloor(tap: RecorderTap): Promise<void> {
    const wanted = floorVoices(this.room, this.settings.floorVoices);
    const ids = new Set(wanted.map((p) => p.id));
    for (let i = 0; i < this.floorSlots.length; i++) {
      const slot = this.floorSlots[i];
      if (!slot || ids.has(slot.producerId)) continue;
      this.floorSlots[i] = undefined;
      for (const { mix } of this.mixes.values()) mix.followFloor(i, undefined);
      this.release(slot.producerId);
    }
    for (const producer of wanted) {
      if (this.floorSlots.some((s) => s?.producerId === producer.id)) continue;
      const free = this.floorSlots.findIndex((s) => s === undefined);
      if (free === -1) break;
      const ssrc = await this.consume(tap, producer);
      if (ssrc === undefined) continue;
      if (this.closed || this.mixes.size === 0) return this.release(producer.id);
      this.floorSlots[free] = { producerId: producer.id, ssrc };
      for (const { mix, except } of this.mixes.values()) mix.followFloor(free, producer.id === except ? undefined : ssrc);
    }
  }

  /** Listeners whose own microphone became (or stopped being) a floor voice move to (or from) their mix-minus. */
  private regroup(): void {
    for (const sub of this.subscriptions) {
      if (sub.except === undefined) continue;
      const key = this.keyOf(sub);
      if (key === sub.key) continue;
      this.leave(sub);
      this.join(sub, key);
    }
  }

  /** The booth's live interpreter, consumed before the previous one is released (a handover has no gap). */
  private async followInterpreter(tap: RecorderTap, active: ActiveMix): Promise<void> {
    const live = this.room.interpretation.booths.get(active.channel)?.liveProducer;
    const producer = live && !live.closed ? live : undefined;
    if (producer?.id === active.interpreter?.producerId) return;
    const previous = active.interpreter;
    let next: Followed | undefined;
    if (producer) {
      const ssrc = await this.consume(tap, producer);
      if (ssrc !== undefined) next = { producerId: producer.id, ssrc };
    }
    if (![...this.mixes.values()].includes(active)) {
      if (next) this.release(next.producerId);
      return;
    }
    active.interpreter = next;
    active.mix.followInterpreter(next?.ssrc);
    if (previous) this.release(previous.producerId);
  }

  /** Consumes a producer for one more user (the tap consumes each producer once). */
  private async consume(tap: RecorderTap, producer: types.Producer): Promise<number | undefined> {
    await this.room.media.ensureProducerOn(producer, this.room.media.router);
    const ssrc = await tap.consume(producer);
    if (ssrc !== undefined) this.uses.set(producer.id, (this.uses.get(producer.id) ?? 0) + 1);
    return ssrc;
  }

  /** One user fewer; the last one's release stops consuming it (at once: a consume right after must not find the old consumer). */
  private release(producerId: string): void {
    const uses = (this.uses.get(producerId) ?? 1) - 1;
    if (uses > 0) return void this.uses.set(producerId, uses);
    this.uses.delete(producerId);
    this.openedTap?.release(producerId);
  }
}

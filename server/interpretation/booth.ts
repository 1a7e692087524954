import type { types } from 'mediasoup';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { BoothState } from '../../protocol/signaling.js';

interface Member {
  id: string;
  name: string;
  /** The interpreter's producer into this booth's channel, once they publish. */
  producer?: types.Producer;
}

/**
 * One language booth: its interpreters and the one live microphone. Only the live interpreter's producer
 * is resumed; every other producer into the channel is paused on the server, so a second microphone
 * reaches nobody whatever its client does. A handover resumes the new producer before pausing the old
 * one, and listeners already consume both, so they hear no gap.
 */
export class Booth {
  private readonly members = new Map<string, Member>();
  private live: string | null = null;
  private coughing = false;
  private handover: BoothState['handover'] = null;

  constructor(
    readonly language: string,
    private readonly takeAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get liveInterpreter(): string | null {
    return this.live;
  }

  /** The live interpreter's producer into this channel (paused while they cough), if they publish. */
  get liveProducer(): types.Producer | undefined {
    return this.live === null ? undefined : this.members.get(this.live)?.producer;
  }

  get memberIds(): string[] {
    return [...this.members.keys()];
  }

  /** Someone with this booth's grant joined the room. */
  addMember(id: string, name: string): void {
    if (!this.members.has(id)) this.members.set(id, { id, name });
  }

  has(id: string): boolean {
    return this.members.has(id);
  }

  /** The interpreter publishes into the channel: paused unless they are live (and not coughing). */
  async attachProducer(id: string, producer: types.Producer): Promise<void> {
    const member = this.members.get(id);
    if (!member) throw new ProtocolError(ErrorCode.FORBIDDEN, `you are not in the ${this.language} booth`);
    member.producer?.close();
    member.producer = producer;
    producer.observer.once('close', () => {
      if (member.producer === producer) member.producer = undefined;
    });
    if (this.live !== id || this.coughing) await producer.pause();
  }

  /** Removes a member; if they were live the booth falls silent and listeners fall back to the floor. */
  removeMember(id: string): boolean {
    const member = this.members.get(id);
    if (!member) return false;
    this.members.delete(id);
    // The producer normally closes with its owner; if it outlives membership it must not stay on air.
    if (member.producer && !member.producer.closed) member.producer.pause().catch(() => undefined);
    if (this.handover?.from === id) this.handover = null;
    if (this.live === id) {
      this.live = null;
      this.coughing = false;
    }
    return true;
  }

  async goLive(id: string): Promise<void> {
    this.requireMember(id);
    if (this.live === id) return;
    if (this.live !== null) throw new ProtocolError(ErrorCode.BOOTH_OCCUPIED, `${this.nameOf(this.live)} is live in the ${this.language} booth; ask for a handover`);
    await this.switchTo(id);
  }

  async goOff(id: string): Promise<void> {
    this.requireMember(id);
    if (this.live !== id) throw new ProtocolError(ErrorCode.INVALID_STATE, 'you are not live');
    await this.switchTo(null);
  }

  /** A momentary mute: the interpreter stays live (listeners do not fall back to the floor). */
  async cough(id: string, active: boolean): Promise<void> {
    this.requireMember(id);
    if (this.live !== id) throw new ProtocolError(ErrorCode.INVALID_STATE, 'only the live interpreter can use the cough button');
    this.coughing = active;
    const producer = this.members.get(id)?.producer;
    if (producer) await (active ? producer.pause() : producer.resume());
  }

  async handoverAction(id: string, action: 'offer' | 'request' | 'accept' | 'take'): Promise<void> {
    this.requireMember(id);
    const pending = this.handover;
    switch (action) {
      case 'offer':
        if (this.live !== id) throw new ProtocolError(ErrorCode.INVALID_STATE, 'only the live interpreter can offer the microphone');
        this.handover = { kind: 'offer', from: id, since: this.now(), takeAfterMs: this.takeAfterMs };
        return;
      case 'request':
        if (this.live === null) return this.switchTo(id); // nobody live: simply go live
        if (this.live === id) throw new ProtocolError(ErrorCode.INVALID_STATE, 'you are already live');
        this.handover = { kind: 'request', from: id, since: this.now(), takeAfterMs: this.takeAfterMs };
        return;
      case 'accept':
        if (pending?.kind === 'offer' && pending.from !== id) return this.switchTo(id);
        if (pending?.kind === 'request' && this.live === id) return this.switchTo(pending.from);
        throw new ProtocolError(ErrorCode.INVALID_STATE, 'no handover to accept');
      case 'take': {
        // "Take now": the partner asked and the live interpreter did not answer in time.
        if (pending?.kind !== 'request' || pending.from !== id) throw new ProtocolError(ErrorCode.INVALID_STATE, 'request the handover first');
        const waited = this.now() - pending.since;
        if (waited < this.takeAfterMs) {
          throw new ProtocolError(ErrorCode.INVALID_STATE, `the live interpreter has ${Math.ceil((this.takeAfterMs - waited) / 1000)} s left to answer`);
        }
        return this.switchTo(id);
      }
    }
  }

  state(): BoothState {
    return {
      language: this.language,
      interpreters: [...this.members.values()].map((m) => ({ id: m.id, name: m.name })),
      live: this.live,
      coughing: this.coughing,
      handover: this.handover,
    };
  }

  /** Resume the incoming microphone first, then pause the outgoing one: a moment of overlap, never a gap. */
  private async switchTo(next: string | null): Promise<void> {
    const previous = this.live === null ? undefined : this.members.get(this.live)?.producer;
    const incoming = next === null ? undefined : this.members.get(next)?.producer;
    this.live = next;
    this.coughing = false;
    this.handover = null;
    if (incoming && !incoming.closed) await incoming.resume();
    if (previous && previous !== incoming && !previous.closed) await previous.pause();
  }

  private requireMember(id: string): void {
    if (!this.members.has(id)) throw new ProtocolError(ErrorCode.FORBIDDEN, `you are not in the ${this.language} booth`);
  }

  private nameOf(id: string): string {
    return this.members.get(id)?.name ?? 'another interpreter';
  }
}

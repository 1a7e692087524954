import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { JoinDecision } from '../../accreditation/accreditation-service.js';
import { DenyReason, type SessionRules } from '../../accreditation/model.js';
import { CloseReason } from '../../protocol/errors.js';
import type { FloorState, ServerEvents } from '../../protocol/signaling.js';
import { grantsFromDecision, phoneGrants } from '../auth/grants-from-decision.js';
import type { JoinGrants } from '../auth/join-token.js';
import type { Logger } from '../logger.js';
import { rosterEntry, type Participant } from '../rooms/participant.js';
import type { LobbyWaiter, Room } from '../rooms/room.js';
import { prompts } from './dial-in-prompts.js';
import { keypadAction, PinCollector } from './dial-in-keypad.js';
import { DigitQueue } from './digit-queue.js';

export type PhoneCodec = 'opus' | 'PCMU' | 'PCMA';

/** The call as the SIP side holds it: hanging up, and hearing that the other end did. */
export interface CallLine {
  readonly codec: { name: PhoneCodec };
  hangUp(): void;
  once(event: 'ended', listener: (reason: string) => void): unknown;
}

/** The call's RTP: the caller's keys and voice in, what they hear out (prompts, then the channel's mix). */
export interface CallAudio {
  on(event: 'digit', listener: (key: string) => void): unknown;
  on(event: 'audio', listener: (rtp: Buffer) => void): unknown;
  forward(rtp: Buffer): void;
}

/** Speaks to the caller; a prompt is interrupted by `stop()` (a key), resolving 'interrupted'. */
export interface CallVoice {
  say(text: string): Promise<'done' | 'interrupted'>;
  stop(): void;
}

/** The caller's speech into the room: a producer on a transport of the room's router. */
export interface PhoneMicrophone {
  readonly transport: types.Transport;
  readonly producer: types.Producer;
  write(rtp: Buffer): void;
  close(): void;
}

export interface PhoneCallDeps {
  decide(pin: string, sessionId: string): Promise<JoinDecision>;
  /** The room on this node that serves the session (created if need be). */
  enterRoom(sessionId: string): Promise<Room>;
  /** What the caller hears of `channel`; `except`: their own microphone, left out of the mix while it is in it. */
  listen(room: Room, channel: string, codec: PhoneCodec, sink: (rtp: Buffer) => void, except?: string): () => void;
  openMicrophone(room: Room, codec: PhoneCodec): Promise<PhoneMicrophone>;
  limits: { pinTries: number; pinMaxLength: number; keyTimeoutMs: number; lobbyWaitMs: number };
  log: Logger;
}

type Phase = 'pin' | 'lobby' | 'room' | 'ended';

/**
 * One phone caller, from the first prompt to the hang-up: the PIN through the same accreditation decision
 * as a browser, the lobby, then a seat in the room as a participant whose microphone is a PlainTransport
 * producer (so the floor, mutes, removal, attendance and quorum treat them as anyone else) and whose ears
 * are the server's mix of the chosen channel. Ending the call closes the participant, and closing the
 * participant (removed, revoked, the room closed) ends the call.
 */
export class PhoneCall extends EventEmitter<{ close: [] }> {
  private phase: Phase = 'pin';
  private readonly keys = new DigitQueue();
  private participant: Participant | undefined;
  private room: Room | undefined;
  private microphone: PhoneMicrophone | undefined;
  private producer: types.Producer | undefined;
  private stopListening: (() => void) | undefined;
  private channel = 'floor';
  /** While a prompt plays, the mix is not forwarded (the caller hears one thing at a time). */
  private prompting = 0;
  private floor: FloorState | undefined;
  private lobbyLeft: (() => void) | undefined;
  private readonly log: Logger;

  constructor(
    private readonly line: CallLine,
    private readonly audio: CallAudio,
    private readonly voice: CallVoice,
    private readonly session: SessionRules,
    private readonly deps: PhoneCallDeps,
  ) {
    super();
    this.log = deps.log;
    audio.on('digit', (key) => this.onKey(key));
    audio.on('audio', (rtp) => this.microphone?.write(rtp));
    line.once('ended', (reason) => this.close(`line ${reason}`));
  }

  get personId(): string | undefined {
    return this.participant?.id;
  }

  get closed(): boolean {
    return this.phase === 'ended';
  }

  /** Runs the call to its end (never rejects: a failure is logged and the call hung up). */
  async run(): Promise<void> {
    try {
      const decision = await this.askPin();
      if (!decision || this.closed) return;
      const grants = callerGrants(decision, this.session);
      const room = await this.deps.enterRoom(this.session.sessionId);
      if (this.closed) return;
      if (grants.lobby) {
        await this.say(prompts.lobby(grants.name));
        if (!(await this.waitInLobby(room, grants))) return;
      }
      await this.seat(room, grants);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'phone call failed');
      this.close('failed');
    }
  }

  close(why: string): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    this.log.info({ why, person: this.participant?.id }, 'phone call ended');
    this.keys.cancel();
    this.voice.stop();
    this.stopListening?.();
    this.lobbyLeft?.();
    this.microphone?.close();
    if (this.participant && !this.participant.closed) this.participant.close(CloseReason.LEFT);
    this.line.hangUp();
    this.emit('close');
  }

  private async askPin(): Promise<JoinDecision | undefined> {
    const { pinTries, pinMaxLength, keyTimeoutMs } = this.deps.limits;
    await this.say(prompts.welcome(this.session.title));
    for (let attempt = 1; attempt <= pinTries && !this.closed; attempt++) {
      const pin = await this.readPin(pinMaxLength, keyTimeoutMs);
      if (this.closed) return undefined;
      const decision = pin ? await this.deps.decide(pin, this.session.sessionId) : undefined;
      if (this.closed) return undefined;
      if (decision && decision.decision !== 'deny') return decision;
      const reason = decision?.reasons[0];
      if (reason !== undefined && reason !== DenyReason.PIN_INVALID) return this.refuse(refusal(reason));
      if (attempt < pinTries) await this.say(prompts.pinAgain);
    }
    return this.refuse(prompts.pinRefused);
  }

  /** Keys up to the hash; undefined when the caller stops keying. */
  private async readPin(maxLength: number, timeoutMs: number): Promise<string | undefined> {
    const pin = new PinCollector(maxLength);
    for (;;) {
      const key = await this.keys.next(timeoutMs);
      if (key === undefined) return undefined;
      const done = pin.push(key);
      if (done !== undefined) return done;
    }
  }

  private async refuse(text: string): Promise<undefined> {
    await this.say(text);
    this.close('refused');
    return undefined;
  }

  private waitInLobby(room: Room, grants: JoinGrants): Promise<boolean> {
    this.phase = 'lobby';
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => void this.refuse(prompts.notAccredited).then(() => resolve(false)), this.deps.limits.lobbyWaitMs);
      const waiter: LobbyWaiter = {
        id: grants.person,
        grants,
        entry: rosterEntry(grants.person, grants),
        admit: () => {
          grants.lobby = false;
          done(true);
        },
        remove: (reason) => {
          void this.say(reason === CloseReason.LOBBY_DENIED ? prompts.notAccredited : prompts.removed).then(() => this.close('lobby removed'));
          done(false);
        },
      };
      const done = (admitted: boolean): void => {
        clearTimeout(timer);
        room.leaveLobby(waiter);
        this.lobbyLeft = undefined;
        resolve(admitted && !this.closed);
      };
      this.lobbyLeft = () => done(false);
      room.enterLobby(waiter);
    });
  }

  private async seat(room: Room, grants: JoinGrants): Promise<void> {
    if (this.closed) return;
    this.phase = 'room';
    this.room = room;
    const participant = room.join(grants.person, grants, room.media.rtpCapabilities, (event, data) => this.onEvent(event, data));
    this.participant = participant;
    participant.once('close', (reason) => this.onParticipantClosed(reason));
    this.floor = room.floor.state();
    if (grants.publish.floor) await this.openMicrophone(room, participant);
    if (this.closed) return;
    this.listen('floor');
    await this.say(`${prompts.joined(grants.name, grants.entity.name)} ${prompts.menu(this.session.languages, this.floor.controlled)}`);
  }

  private async openMicrophone(room: Room, participant: Participant): Promise<void> {
    const microphone = await this.deps.openMicrophone(room, this.line.codec.name);
    if (this.closed || participant.closed) {
      microphone.close();
      return;
    }
    this.microphone = microphone;
    // The participant's endpoint owns them from here: they close with it, and the room sees a floor microphone.
    participant.endpoint.adoptTransport(microphone.transport, room.media.router);
    participant.endpoint.adoptProducer(microphone.producer, room.media.router);
    const producer = microphone.producer;
    // A phone starts unheard: on a moderated floor until given it, on an open floor until the caller presses star.
    await producer.pause();
    this.producer = producer;
    room.announceProducer(participant, producer);
  }

  private listen(channel: string): void {
    const room = this.room;
    if (!room) return;
    this.stopListening?.();
    this.channel = channel;
    this.stopListening = this.deps.listen(
      room,
      channel,
      this.line.codec.name,
      (rtp) => {
        if (this.prompting === 0) this.audio.forward(rtp);
      },
      this.producer?.id,
    );
  }

  private async say(text: string): Promise<'done' | 'interrupted'> {
    if (this.closed) return 'interrupted';
    this.prompting += 1;
    try {
      return await this.voice.say(text);
    } finally {
      this.prompting -= 1;
    }
  }

  private onKey(key: string): void {
    if (this.phase === 'pin') {
      // Typing over the welcome prompt: the caller knows what to do.
      this.voice.stop();
      this.keys.push(key);
      return;
    }
    if (this.phase !== 'room') return;
    this.voice.stop();
    void this.act(key).catch((error: unknown) => this.log.warn({ err: (error as Error).message, key }, 'phone key failed'));
  }

  private async act(key: string): Promise<void> {
    const room = this.room;
    const participant = this.participant;
    if (!room || !participant || participant.closed) return;
    const action = keypadAction(key, this.session.languages);
    switch (action.kind) {
      case 'listen':
        this.listen(action.channel);
        await this.say(prompts.hearing(action.channel === 'floor' ? null : action.channel));
        return;
      case 'menu':
        await this.say(prompts.menu(this.session.languages, room.floor.state().controlled));
        return;
      case 'floor':
        await this.say(await this.floorKey(room, participant));
        return;
      case 'none':
        await this.say(prompts.noSuchChannel);
    }
  }

  /** Star: on a moderated floor, ask for it or withdraw; on an open floor, the microphone on or off. */
  private async floorKey(room: Room, participant: Participant): Promise<string> {
    if (!participant.grants.publish.floor || !this.producer) return prompts.mayNotSpeak;
    const floor = room.floor.state();
    if (floor.controlled) {
      if (floor.speaker?.id === participant.id) return prompts.floorHeld;
      if (floor.queue.some((s) => s.id === participant.id)) {
        room.floor.withdraw(participant.id);
        return prompts.floorWithdrawn;
      }
      room.floor.request({ id: participant.id, name: participant.grants.name, entity: participant.grants.entity.name, kind: 'speaker' });
      return prompts.floorRequested;
    }
    if (!this.producer.paused) {
      await this.producer.pause();
      return prompts.micOff;
    }
    if (room.isBlocked(participant.id, 'mic')) return prompts.micBlocked;
    await this.producer.resume();
    return prompts.micOn;
  }

  /** What the room tells this participant, as the caller hears it: their floor turns, and the end. */
  private onEvent<E extends keyof ServerEvents>(event: E, data: ServerEvents[E]): void {
    const me = this.participant?.id;
    if (event === 'floorState') {
      const next = data as FloorState;
      const had = this.floor?.speaker?.id === me;
      const has = next.speaker?.id === me;
      this.floor = next;
      if (has && !had) void this.say(prompts.floorGiven);
      else if (had && !has) void this.say(prompts.floorTaken);
    } else if (event === 'speakingTime') {
      const time = data as ServerEvents['speakingTime'];
      if (time.participantId === me && time.state === 'warning') void this.say(prompts.timeWarning);
    }
  }

  private onParticipantClosed(reason: CloseReason): void {
    if (this.closed) return;
    this.stopListening?.();
    this.stopListening = undefined;
    const text = reason === CloseReason.SESSION_CLOSED || reason === CloseReason.SERVER_SHUTDOWN ? prompts.ended : reason === CloseReason.LEFT ? undefined : prompts.removed;
    if (!text) return this.close(`participant ${reason}`);
    void this.say(text).then(() => this.close(`participant ${reason}`));
  }
}

/** The caller's grants: the decision's, marked as a phone, receiving media only through the server's mix. */
function callerGrants(decision: JoinDecision, session: SessionRules): JoinGrants {
  return { ...phoneGrants(grantsFromDecision(decision.registration!, session, decision, decision.source)), via: 'phone' };
}

function refusal(reason: string): string {
  if (reason === DenyReason.PIN_ATTEMPTS_EXCEEDED) return prompts.tooManyAttempts;
  if (reason === DenyReason.REGISTRY_UNAVAILABLE) return prompts.unavailable;
  if (reason === DenyReason.SESSION_NOT_FOUND) return prompts.noSuchSession;
  return prompts.notAccredited;
}

import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { AccreditationService } from '../../accreditation/accreditation-service.js';
import type { SessionDirectory } from '../../accreditation/session-directory.js';
import type { RoomOwnership } from '../cluster/room-ownership.js';
import type { DialInConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { CallRtpSession } from './media/call-rtp-session.js';
import { PromptLibrary } from './media/prompt-library.js';
import { PromptPlayer } from './media/prompt-player.js';
import { CallerVoice } from './mix/caller-voice.js';
import { LanguageMixes } from './mix/language-mixes.js';
import { PhoneCall, type CallVoice, type PhoneCodec } from './phone-call.js';
import type { IncomingCall } from './sip/incoming-call.js';
import { SipGateway } from './sip/sip-gateway.js';

export interface DialInServiceDeps {
  config: DialInConfig;
  /** The address phones send RTP to when the configuration names none (the media's announced address). */
  announcedAddress: string;
  gstLaunch: string;
  dataDir: string;
  accreditation: AccreditationService;
  sessions: SessionDirectory;
  rooms: RoomRegistry;
  ownership: RoomOwnership;
  log: Logger;
}

/** How long a caller may take over each key of the PIN, and may wait in the lobby. */
const KEY_TIMEOUT_MS = 15_000;
const LOBBY_WAIT_MS = 30 * 60_000;
const PIN_MAX_LENGTH = 16;

/**
 * Dial-in on this node: the SIP gateway, the prompts, and what phone callers hear per room (one mix per
 * channel, shared by every caller of it). Each answered call is a PhoneCall; closing the service ends
 * them all (with a BYE), then the mixes, then the gateway's sockets.
 */
export class DialInService extends EventEmitter<{ close: [] }> {
  private readonly calls = new Set<PhoneCall>();
  private readonly mixes = new Map<Room, LanguageMixes>();
  private closed = false;

  private constructor(
    private readonly gateway: SipGateway,
    private readonly prompts: PromptLibrary,
    private readonly deps: DialInServiceDeps,
  ) {
    super();
    gateway.on('call', (call) => {
      // A call that fails here is hung up and logged; it never takes the process down.
      this.onCall(call).catch((error: unknown) => {
        deps.log.error({ err: (error as Error).message, call: call.callId }, 'dial-in call failed');
        if (call.ended) return;
        call.hangUp();
      });
    });
  }

  static async start(deps: DialInServiceDeps): Promise<DialInService> {
    const { config, log } = deps;
    const gateway = await SipGateway.listen({
      host: config.host,
      udpPort: config.port,
      tcpPort: config.port,
      credentials: config.trunk,
      allowFrom: config.allowFrom,
      codecs: config.codecs,
      maxCalls: config.maxCalls,
      advertisedHost: config.mediaAddress ?? deps.announcedAddress,
      logger: log.child({ component: 'sip' }),
    });
    const prompts = new PromptLibrary({ cacheDir: join(deps.dataDir, 'dial-in-prompts'), defaultVoice: config.voice, gstLaunchPath: deps.gstLaunch });
    log.info({ port: config.port, host: config.host, rtpPorts: config.rtpPorts }, 'dial-in listening (SIP over UDP and TCP)');
    return new DialInService(gateway, prompts, deps);
  }

  /** The gateway's bound ports (tests ask for ephemeral ones). */
  get ports(): { udp: number; tcp: number } {
    return this.gateway.ports;
  }

  get activeCalls(): number {
    return this.calls.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const call of [...this.calls]) call.close('server shutdown');
    for (const mixes of this.mixes.values()) mixes.close();
    this.mixes.clear();
    await this.gateway.close();
    this.emit('close');
  }

  private async onCall(call: IncomingCall): Promise<void> {
    const { log } = this.deps;
    const session = this.deps.sessions.byDialInNumber(call.to.user);
    if (!session) {
      call.reject(404, 'Not Found');
      return;
    }
    // A caller speaks: they need the node that owns the room (an edge seats listeners only).
    const location = await this.deps.ownership.locate(session.sessionId).catch(() => undefined);
    if (location?.kind !== 'local') {
      log.warn({ session: session.sessionId, location: location?.kind }, 'dial-in call for a room served by another node: refused');
      call.reject(503, 'Service Unavailable');
      return;
    }
    let rtp: CallRtpSession;
    try {
      rtp = await CallRtpSession.open({
        address: this.deps.config.host,
        ports: this.deps.config.rtpPorts,
        codec: call.codec,
        telephoneEvent: call.dtmfPayloadType === undefined ? undefined : { payloadType: call.dtmfPayloadType, clockRate: call.dtmfClockRate },
        remote: call.remoteRtp,
      });
    } catch (error) {
      log.warn({ err: (error as Error).message }, 'no RTP port for a call');
      call.reject(503, 'Service Unavailable');
      return;
    }
    call.once('ended', () => rtp.close());
    try {
      await call.answer({ address: this.deps.config.mediaAddress ?? this.deps.announcedAddress, port: rtp.localPort });
    } catch {
      rtp.close();
      return;
    }
    if (this.closed || call.ended) {
      call.hangUp();
      return;
    }
    const phone = new PhoneCall(call, rtp, this.voiceFor(rtp, call.codec.name), session, {
      decide: (pin, sessionId) => this.deps.accreditation.decidePhoneJoin(pin, sessionId),
      enterRoom: (sessionId) => this.deps.rooms.getOrCreate(sessionId),
      listen: (room, channel, codec, sink, except) => this.mixesOf(room).subscribe(channel, codec, sink, { except }),
      openMicrophone: (room, codec) => CallerVoice.open(room.media.router, codec, { gstLaunch: this.deps.gstLaunch, payloadType: call.codec.payloadType, log: log.child({ call: call.callId }) }),
      limits: { pinTries: this.deps.config.pinTries, pinMaxLength: PIN_MAX_LENGTH, keyTimeoutMs: KEY_TIMEOUT_MS, lobbyWaitMs: LOBBY_WAIT_MS },
      log: log.child({ call: call.callId, session: session.sessionId }),
    });
    this.calls.add(phone);
    phone.once('close', () => {
      this.calls.delete(phone);
      rtp.close();
    });
    await phone.run();
  }

  private voiceFor(rtp: CallRtpSession, codec: PhoneCodec): CallVoice {
    const player = new PromptPlayer(rtp);
    return {
      say: async (text) => player.play(await this.prompts.prompt(text, codec)),
      stop: () => player.stop(),
    };
  }

  private mixesOf(room: Room): LanguageMixes {
    let mixes = this.mixes.get(room);
    if (!mixes) {
      mixes = new LanguageMixes(room, { gstLaunch: this.deps.gstLaunch, log: this.deps.log });
      const made = mixes;
      this.mixes.set(room, made);
      made.once('close', () => {
        if (this.mixes.get(room) === made) this.mixes.delete(room);
      });
    }
    return mixes;
  }
}


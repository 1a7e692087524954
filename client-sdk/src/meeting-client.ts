import { Device, type types } from 'mediasoup-client';
import { io, type Socket } from 'socket.io-client';
import type { Ack, ErrorBody } from '../../protocol/errors.js';
import type {
  MediaKind,
  MediaSource,
  BoothSignalKind,
  BoothState,
  ChannelInfo,
  GrantsView,
  FloorState,
  ListenerCensus,
  QuorumView,
  PeerInfo,
  PeersPage,
  ProducerInfo,
  RosterEntry,
  RequestData,
  RequestMethod,
  ResponseData,
  ServerEvents,
  SignChannelInfo,
  TransportInfo,
  ConsumerInfo,
  Ballot,
  VoteKind,
  VoteState,
  VoteView,
} from '../../protocol/signaling.js';
import { NO_VIDEO_VIEW, OPUS_CODEC_OPTIONS, type AudioOnlyState } from './audio-only.js';
import { ChannelMixer } from './channel-mixer.js';
import { MeetingClientError } from './client-error.js';
import { IceRestarter, type IceRestartOptions } from './ice-restarter.js';

type ScreenView = RequestData<'setView'>;
import { TypedEmitter } from './typed-emitter.js';

export interface MeetingClientOptions {
  /** Join token issued by the server (accreditation or, in dev mode, /dev/token). */
  token: string;
  /** Server origin; defaults to the page's origin. */
  url?: string;
  /** Per-request timeout. */
  requestTimeoutMs?: number;
  /**
   * Play remote audio through the SDK's channel mixer (default true). Turn it off to attach the tracks to
   * your own elements; channel selection then only changes what the server sends.
   */
  playAudio?: boolean;
  /** Volume of the floor under an interpretation, 0..1 (default 0.15; 0 turns it off). */
  floorVolume?: number;
  /** Automatic reconnection after a worker, node or network failure (defaults: 20 attempts, 250 ms .. 4 s). */
  reconnect?: { maxAttempts?: number; minDelayMs?: number; maxDelayMs?: number };
  /** ICE restart of a failed (or long disconnected) transport; after the last try the client reconnects fully. */
  iceRestart?: IceRestartOptions;
  /**
   * Audio only (docs/LOW-BANDWIDTH.md): no camera is published and no video is received; voices and
   * captions go on. `setAudioOnly` switches it at any time.
   */
  audioOnly?: boolean;
  /** Opus options of the microphones this client publishes (default `OPUS_CODEC_OPTIONS`: mono, DTX, in-band FEC). */
  opus?: types.ProducerCodecOptions;
}

/** A floor microphone or camera: on, off by the user, held off by the secretariat, or not published. */
export type LocalMediaState = 'on' | 'off' | 'muted-by-secretariat' | 'none';
export interface LocalMedia {
  mic: LocalMediaState;
  camera: LocalMediaState;
}
/** Opening a vote (the server fills what is left out: Member States, 300 s, no quorum). */
export interface OpenVoteOptions {
  question: string;
  kind: VoteKind;
  /** Entity types entitled to vote; Member States when left out. */
  eligibleEntityTypes?: string[];
  /** A secret ballot's candidates and the number of seats. */
  candidates?: string[];
  seats?: number;
  /** The timer, in seconds (10 s .. 24 h). */
  durationSeconds?: number;
  /** Entities entitled to vote that must be present to open it. */
  quorum?: number;
}

/** The sources `setEnabled` switches: this participant's own floor microphone and camera. */
export type SwitchableSource = 'mic' | 'camera';

/** One coarse state for the page (a banner), with the parts it is made of. */
export type ConnectionState = 'connected' | 'reconnecting' | 'disconnected' | 'failed';
export interface ConnectionView {
  state: ConnectionState;
  signaling: 'connected' | 'reconnecting' | 'disconnected';
  /** The WebRTC transports' own states ('none': not created). */
  send: types.ConnectionState | 'none';
  recv: types.ConnectionState | 'none';
}

export interface DeviceList {
  microphones: MediaDeviceInfo[];
  cameras: MediaDeviceInfo[];
  speakers: MediaDeviceInfo[];
}

/** Room closures a reconnect can mend: the room comes back on another worker or node. */
const RECOVERABLE = new Set(['MEDIA_WORKER_DIED', 'SERVER_SHUTDOWN']);

export interface RemoteTrack {
  consumerId: string;
  producerId: string;
  peerId: string;
  kind: MediaKind;
  source: MediaSource;
  /** 'floor' or the language of the booth it comes from. */
  channel: string;
  track: MediaStreamTrack;
}

/** The pinned sign-language channel's video as the page shows it. */
export interface SignVideo {
  /** The pinned channel (null: none). */
  language: string | null;
  /** The live signer's video track (null: nobody live, or not arrived yet). */
  track: RemoteTrack | null;
  /** The live signer (null: nobody live). */
  interpreter: { id: string; name: string } | null;
}

export interface LocalTrack {
  producerId: string;
  source: MediaSource;
  track: MediaStreamTrack;
}

export interface InboundStats {
  consumerId: string;
  peerId: string;
  kind: MediaKind;
  packetsReceived: number;
  bytesReceived: number;
  framesDecoded: number;
  /** Packets lost on the way (RTCInboundRtpStreamStats.packetsLost; 0 when the browser does not say). */
  packetsLost: number;
  /** Interarrival jitter in seconds (0 when the browser does not say). */
  jitter: number;
}

export interface OutboundStats {
  producerId: string;
  kind: MediaKind;
  /** The simulcast encoding (undefined without simulcast). */
  rid?: string;
  /** False while dynacast has this encoding switched off (nobody receives it). */
  active: boolean;
  bytesSent: number;
  frameHeight?: number;
}

export type MeetingClientEvents = {
  /** A peer this client was told about (the join answer's first page, or a batch of joins). */
  peerJoined: PeerInfo;
  peerLeft: PeerInfo;
  /** One batch of the roster's changes (after its `peerJoined`/`peerLeft`), with the roster's size. */
  peersChanged: { joined: PeerInfo[]; left: PeerInfo[]; total: number };
  trackAdded: RemoteTrack;
  trackRemoved: RemoteTrack;
  /** Waiting in the lobby until the secretariat admits (join() then continues) or denies. */
  lobby: Record<string, never>;
  /** Moderators: who waits in the lobby now. */
  lobbyChanged: { waiting: RosterEntry[] };
  /** The session ended: left, removed (with the reason the server gave), room closed, or connection lost. */
  closed: { reason: string; message?: string };
  /** Which language channels have a live interpreter changed. */
  channelsChanged: { channels: ChannelInfo[] };
  /** The session's sign-language channels, and who signs live in each (on joining and whenever it changes). */
  signChannelsChanged: { channels: SignChannelInfo[] };
  /**
   * The pinned sign channel's video changed: the live signer's track (null: nothing pinned, nobody live, or
   * not arrived yet) and who signs. Show it beside the stage; it follows handovers by itself.
   */
  signVideo: SignVideo;
  /** What the listener hears changed: their choice, or its availability (false: the floor stands in). */
  listening: { channel: string; interpretationAvailable: boolean };
  /** Interpreters: their booth's state (who is live, handover in progress). */
  boothState: BoothState;
  boothChat: ServerEvents['boothChat'];
  /** Moderators and the current speaker: a booth asks to slow down or to repeat. */
  boothSignal: ServerEvents['boothSignal'];
  /** The document in focus changed (null: none): read the listing again (documents-api.ts listDocuments). */
  documentFocus: ServerEvents['documentFocus'];
  /** Whether the session is being recorded: on joining while it is, and whenever it starts or stops. */
  recordingState: ServerEvents['recordingState'];
  caption: ServerEvents['caption'];
  /** The speakers list and who holds the floor. */
  floorState: FloorState;
  speakingTime: ServerEvents['speakingTime'];
  /** The secretariat muted this participant or stopped their video. */
  moderated: ServerEvents['moderated'];
  /** The secretariat asks this participant to unmute; the microphone may be resumed again (it was refused until now). */
  unmuteRequested: Record<string, never>;
  /** The secretariat lifted a stopped video: this participant may publish video again. */
  videoAllowed: Record<string, never>;
  /** This participant's grants changed while present (e.g. a demotion took `moderate` away). */
  grantsChanged: GrantsView;
  /** Moderators: entities present by type. */
  quorum: QuorumView;
  /** A vote opened in the session (everyone). */
  voteOpened: VoteView;
  /** How many entities have voted (never how), and a roll-call's entity called now. */
  voteProgress: ServerEvents['voteProgress'];
  /** This participant's entity has voted (with its position, unless the ballot is secret). */
  voteCast: ServerEvents['voteCast'];
  /** The vote closed: the view carries its result (by entity, or totals only for a secret ballot). */
  voteClosed: VoteView;
  /** On joining (or rejoining) while a vote is open: the vote, and whether one's own entity has voted. */
  voteState: VoteState;
  /** Moderators: listeners on other (edge) nodes, by entity type and the largest entities; sent when the count changes. */
  listeners: ListenerCensus;
  /** The connection was lost for a reason a retry can mend; the client reconnects by itself. */
  reconnecting: { reason: string };
  /** Back, with the same tracks published again and the same channel selected. */
  reconnected: { attempt: number };
  /** The room's active speaker changed: the floor holder, else the dominant voice (null: nobody). */
  activeSpeaker: { peerId: string | null; peer: PeerInfo | null };
  /** The own microphone's or camera's state changed (the user, the secretariat, a device switch, a reconnect). */
  localMedia: LocalMedia;
  /** Audio only was switched, or the server changed what video this client's downlink gets (`videoFallback`). */
  audioOnly: AudioOnlyState;
  /** The connection's coarse state or one of its parts changed. */
  connectionState: ConnectionView;
  /** An ICE restart of one transport starts (attempt 1, 2, ...). */
  iceRestart: { direction: 'send' | 'recv'; attempt: number };
  /** A background step failed (e.g. consuming a new producer); the client stays usable. */
  error: MeetingClientError;
};

export { MeetingClientError };

/** One published track; `producerId` changes when a reconnect publishes it again. */
interface Publication {
  producerId: string;
  track: MediaStreamTrack;
  source: MediaSource;
  options: { simulcast?: boolean; channel?: string };
}

/** Refusals of one track on a republish (a moderator's stopped video, a grant lost meanwhile): that track stays off, the rest goes on. */
const SKIPPED_ON_REPUBLISH = new Set(['MUTED_BY_MODERATOR', 'FORBIDDEN']);

/** Refusals a retry cannot change: they end the session. */
const FINAL = new Set(['UNAUTHENTICATED', 'NOT_ACCREDITED', 'FORBIDDEN', 'REMOVED', 'ALREADY_LEFT']);

const SIMULCAST_ENCODINGS: RTCRtpEncodingParameters[] = [
  { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

/**
 * A participant's connection to a meeting room: signaling over socket.io, media over mediasoup-client.
 * `join()` connects and receives everyone already publishing; `publish*()` sends local media.
 */
export class MeetingClient extends TypedEmitter<MeetingClientEvents> {
  /**
   * The peers this client was told about: the roster's first page on joining, then every batch of joins
   * and leaves. In a large room that is not everyone: `fetchPeers` pages and searches the rest.
   */
  readonly peers = new Map<string, PeerInfo>();
  /** How many are in the room's roster (this client included), as the server last said. */
  peersTotal = 0;
  /** Where `fetchPeers` continues after the join answer's first page (null: it held everyone). */
  peersNextCursor: string | null = null;
  readonly remoteTracks = new Map<string, RemoteTrack>();
  readonly localTracks = new Map<string, LocalTrack>();
  self: PeerInfo | undefined;

  private socket: Socket | undefined;
  private device: Device | undefined;
  private sendTransport: types.Transport | undefined;
  private recvTransport: types.Transport | undefined;
  private readonly consumers = new Map<string, types.Consumer>();
  private readonly producers = new Map<string, types.Producer>();
  private readonly timeoutMs: number;
  private closedReason: string | undefined;
  private resumeToken: string | undefined;
  private listenerChannels: 'all' | 'selected' = 'selected';
  /** Tracks the SDK opened itself (camera, microphone): stopped when the session ends. */
  private readonly ownTracks = new Set<MediaStreamTrack>();
  /** `selected` mode: producers of languages not chosen, consumed when chosen. */
  private readonly unconsumed = new Map<string, ProducerInfo>();
  /** Consume requests under way, and consumers the server closed before their answer was wired up. */
  private consuming = 0;
  private readonly closedEarly = new Set<string>();
  /** The node this client talks to; redirects and failover change it. */
  private url: string;
  private nodes: string[] = [];
  private recovering = false;
  /** What this client publishes, to publish again after a reconnect. */
  private publications: Publication[] = [];
  private mixer: ChannelMixer | undefined;
  /** Language channels of the session and whether each has a live interpreter. */
  channels: ChannelInfo[] = [];
  /** Sign-language channels of the session and their live signers. */
  signChannels: SignChannelInfo[] = [];
  private lastSignVideo = '';
  /** Booths this participant works in. */
  readonly booths = new Map<string, BoothState>();
  selectedChannel = 'floor';
  private floorVolume: number;
  /** The speakers list and the floor, kept current by the server. */
  floor: FloorState = { controlled: false, speaker: null, queue: [] };
  /** Moderators: the latest count of listeners on other (edge) nodes, once the server sent one. */
  listenersElsewhere: ListenerCensus | undefined;
  /** The active speaker (shown on the stage), as the server last said. */
  activeSpeaker: string | null = null;
  /** Who the active speaker is: they may not be among `peers` (the roster's pages this client was told about). */
  activeSpeakerPeer: PeerInfo | null = null;
  /** What this client's screen shows, sent again after a reconnect. */
  private view: ScreenView | undefined;
  /** The user's choice for the own floor microphone and camera, and the secretariat's hold on them. */
  private readonly wanted: Record<SwitchableSource, boolean> = { mic: true, camera: true };
  private readonly held: Record<SwitchableSource, boolean> = { mic: false, camera: false };
  /** Devices chosen with switchMicrophone/switchCamera, used by later publishes too. */
  private readonly deviceIds: Partial<Record<SwitchableSource, string>> = {};
  private readonly restarters = new Map<'send' | 'recv', IceRestarter>();
  private lastLocalMedia = '';
  private lastConnection = '';
  /** Per source, the constraints last used to open it (a device switch keeps them). */
  private readonly constraints: Partial<Record<SwitchableSource, MediaTrackConstraints>> = { camera: { width: 640, height: 360 } };
  /** Recovery gave up: the session ended in failure, not by a leave or a removal. */
  private failed = false;
  /** Audio only, and the server's video state for this downlink. */
  private readonly lowBandwidth: AudioOnlyState = { audioOnly: false, videoFallback: 'full' };
  /** The camera was published when audio only came on: it is published again when audio only ends. */
  private cameraBeforeAudioOnly = false;
  /** Video producers announced while audio only (consumed by the client itself): consumed when it ends. */
  private readonly withheldVideo = new Map<string, ProducerInfo>();

  constructor(private readonly options: MeetingClientOptions) {
    super();
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.floorVolume = options.floorVolume ?? 0.15;
    this.url = options.url ?? window.location.origin;
    this.lowBandwidth.audioOnly = options.audioOnly ?? false;
    // The pinned signer's video arrives and leaves as a pushed track like any camera: the page hears of it as one.
    const signTrack = (t: RemoteTrack): void => {
      if (t.kind === 'video' && t.channel !== 'floor') this.emitSignVideo();
    };
    this.on('trackAdded', signTrack);
    this.on('trackRemoved', signTrack);
  }

  /** The pinned sign channel's live video, and who signs (see `pinSignChannel`). */
  get signVideo(): SignVideo {
    const language = this.view?.sign?.language ?? null;
    const channel = this.signChannels.find((c) => c.language === language);
    const interpreter = channel?.interpreter ?? null;
    const track = language === null ? undefined : [...this.remoteTracks.values()].find((t) => t.kind === 'video' && t.channel === language && t.peerId === interpreter?.id);
    return { language, track: track ?? null, interpreter };
  }

  /**
   * Pins a sign-language channel beside the stage (null: unpins it), at the size it is shown: the server
   * sends its live signer's video, whatever the gallery shows, and switches to the next signer at a
   * handover by itself. What one hears does not change (the floor, or the chosen language).
   */
  async pinSignChannel(language: string | null, size: { width: number; height: number } = { width: 640, height: 360 }): Promise<void> {
    const before = this.view;
    const base: ScreenView = before ?? { stage: { width: 1280, height: 720 }, tiles: [], sign: null };
    this.view = { ...base, sign: language === null ? null : { language, width: Math.round(size.width), height: Math.round(size.height) } };
    this.emitSignVideo();
    try {
      await this.request('setView', this.screenSent(this.view));
    } catch (error) {
      // Refused (a channel the session lacks): the server kept the previous view, and so does this client.
      if (this.view?.sign?.language === language) this.view = before ? { ...this.view, sign: before.sign ?? null } : undefined;
      this.emitSignVideo();
      throw error;
    }
  }

  private emitSignVideo(): void {
    const now = this.signVideo;
    const key = JSON.stringify([now.language, now.track?.consumerId ?? null, now.interpreter?.id ?? null]);
    if (key === this.lastSignVideo) return;
    this.lastSignVideo = key;
    this.emit('signVideo', now);
  }

  /** The audio mix (when the SDK plays audio): its AnalyserNode shows what the listener hears. */
  get audio(): ChannelMixer | undefined {
    return this.mixer;
  }

  get interpretationAvailable(): boolean {
    return this.selectedChannel === 'floor' || this.channels.some((c) => c.language === this.selectedChannel && c.live);
  }

  /**
   * Listen to the floor or to a language. `selected` (the session default): the chosen language's consumers
   * are created and the one left is closed. `all`: every channel is already being received (paused); the
   * switch resumes and pauses on the server and changes gains locally, so no transport is renegotiated.
   */
  async selectChannel(channel: string, options: { floorVolume?: number } = {}): Promise<void> {
    const previous = this.selectedChannel;
    if (this.listenerChannels === 'selected') {
      // The chosen language's consumers are requested alongside the selection, not one round trip after it.
      this.selectedChannel = channel;
      const [answer, followed] = await Promise.allSettled([this.request('selectChannel', { channel, floorUnder: this.floorUnder }), this.followSelection(previous)]);
      if (answer.status === 'rejected') {
        // Refused (an unknown channel, a limit): back to what the server still has selected.
        this.selectedChannel = previous;
        await this.followSelection(channel).catch(() => undefined);
        throw answer.reason;
      }
      if (followed.status === 'rejected') throw followed.reason;
    } else this.selectedChannel = (await this.request('selectChannel', { channel, floorUnder: this.floorUnder })).channel;
    if (options.floorVolume !== undefined) this.floorVolume = options.floorVolume;
    // Consumers the server paused while unselected are resumed there; mirror that here.
    for (const [id, consumer] of this.consumers) {
      const c = this.remoteTracks.get(id)?.channel;
      if (c === 'floor' || c === channel) consumer.resume();
      else consumer.pause();
    }
    this.mixer?.set({ selected: channel, floorVolume: this.floorVolume });
    this.emit('listening', { channel, interpretationAvailable: this.interpretationAvailable });
  }

  /**
   * `selected` mode: stop receiving the language left, start receiving the one chosen. The server drops the
   * language left at once; the browser closes it only once the new one is set up, because mediasoup-client
   * renegotiates one change at a time and closing first would hold up the new channel's first audio.
   */
  private async followSelection(previous: string): Promise<void> {
    const leaving = previous !== 'floor' && previous !== this.selectedChannel ? [...this.remoteTracks.values()].filter((r) => r.channel === previous) : [];
    for (const remote of leaving) {
      this.request('closeConsumer', { consumerId: remote.consumerId }).catch(() => undefined);
      this.unconsumed.set(remote.producerId, { producerId: remote.producerId, peerId: remote.peerId, kind: remote.kind, source: remote.source, channel: remote.channel, paused: false });
    }
    const wanted = [...this.unconsumed.values()].filter((p) => p.channel === this.selectedChannel);
    for (const p of wanted) this.unconsumed.delete(p.producerId);
    try {
      await Promise.all(wanted.map((p) => this.consume(p)));
    } finally {
      for (const remote of leaving) this.dropConsumer(remote.consumerId);
    }
  }

  setFloorVolume(volume: number): void {
    this.floorVolume = volume;
    this.mixer?.set({ floorVolume: volume });
  }

  // ---- booth console (interpreters) ---------------------------------------------------------------
  async boothGoLive(language: string): Promise<void> {
    await this.request('boothGoLive', { language });
  }

  async boothGoOff(language: string): Promise<void> {
    await this.request('boothGoOff', { language });
  }

  async boothCough(language: string, active: boolean): Promise<void> {
    await this.request('boothCough', { language, active });
  }

  async boothHandover(language: string, action: 'offer' | 'request' | 'accept' | 'take'): Promise<void> {
    await this.request('boothHandover', { language, action });
  }

  async boothChat(language: string, text: string): Promise<void> {
    await this.request('boothChat', { language, text });
  }

  /**
   * Asks the speaker to slow down or to repeat: the moderators and the current speaker get `boothSignal`.
   * Only an interpreter of that booth may (FORBIDDEN); a booth sends each kind at most once every few
   * seconds (RATE_LIMITED).
   */
  async boothSignal(language: string, kind: BoothSignalKind): Promise<void> {
    await this.request('boothSignal', { language, kind });
  }

  /** Captioners: caption text for a channel ('floor' or a language); final lines go to the transcript. */
  async publishCaption(language: string, text: string, final: boolean): Promise<void> {
    await this.request('publishCaption', { language, text, final });
  }

  async assignInterpreter(participantId: string, language: string): Promise<void> {
    await this.request('assignInterpreter', { participantId, language });
  }

  // ---- the floor -----------------------------------------------------------------------------------
  /** Asks for the floor; a point of order goes ahead of ordinary requests. */
  async requestFloor(kind: 'speaker' | 'point_of_order' = 'speaker'): Promise<void> {
    await this.request('requestFloor', { kind });
  }

  async withdrawFloorRequest(): Promise<void> {
    await this.request('withdrawFloorRequest', {});
  }

  /** Moderators: give the floor to a participant, or to the first on the list. */
  async giveFloor(participantId?: string): Promise<void> {
    await this.request('giveFloor', participantId ? { participantId } : {});
  }

  async takeFloor(): Promise<void> {
    await this.request('takeFloor', {});
  }

  async addSpeaker(participantId: string, kind: 'speaker' | 'point_of_order' = 'speaker'): Promise<void> {
    await this.request('addSpeaker', { participantId, kind });
  }

  async removeSpeaker(participantId: string): Promise<void> {
    await this.request('removeSpeaker', { participantId });
  }

  async moveSpeaker(participantId: string, position: number): Promise<void> {
    await this.request('moveSpeaker', { participantId, position });
  }

  async muteParticipant(participantId: string): Promise<void> {
    await this.request('muteParticipant', { participantId });
  }

  async askToUnmute(participantId: string): Promise<void> {
    await this.request('askToUnmute', { participantId });
  }

  async stopVideo(participantId: string): Promise<void> {
    await this.request('stopVideo', { participantId });
  }

  /** Moderators: lets a participant whose video was stopped publish video again. */
  async allowVideo(participantId: string): Promise<void> {
    await this.request('allowVideo', { participantId });
  }

  // ---- votes by entity ------------------------------------------------------------------------------
  /** The secretariat or the chair: opens a vote (one at a time per session; QUORUM_NOT_MET, VOTE_ALREADY_OPEN). */
  async openVote(options: OpenVoteOptions): Promise<VoteView> {
    // The server applies the defaults of what is left out.
    return (await this.request('openVote', options as RequestData<'openVote'>)).vote;
  }

  /**
   * Casts this participant's entity's vote: `{ position }` for a recorded vote or a roll-call, `{ candidates }`
   * (up to the seats; none is an abstention) for a secret ballot. Only the head of delegation or the delegate
   * designated for it may (VOTE_NOT_ENTITLED); once per entity (VOTE_ALREADY_CAST); a roll-call only when the
   * entity is called (VOTE_NOT_CALLED). Resolves with how many entities have voted.
   */
  async castVote(voteId: string, ballot: Ballot): Promise<{ cast: number }> {
    return this.request('castVote', { voteId, ballot });
  }

  /** The secretariat or the chair: a roll-call's entity called now passes; it is called again after the others. */
  async passRollCall(voteId: string): Promise<VoteView> {
    return (await this.request('passRollCall', { voteId })).vote;
  }

  /** The secretariat or the chair: closes the vote; everyone gets `voteClosed` with the result. */
  async closeVote(voteId: string): Promise<VoteView> {
    return (await this.request('closeVote', { voteId })).vote;
  }

  /** The session's open vote (null when none) and whether this participant's entity has voted. */
  async getVoteState(): Promise<VoteState> {
    return this.request('getVoteState', {});
  }

  // ---- own microphone and camera -------------------------------------------------------------------
  /** The own floor microphone's and camera's state, as `localMedia` last announced. */
  get localMedia(): LocalMedia {
    return { mic: this.localState('mic'), camera: this.localState('camera') };
  }

  setMicrophoneEnabled(on: boolean): Promise<void> {
    return this.setEnabled('mic', on);
  }

  setCameraEnabled(on: boolean): Promise<void> {
    return this.setEnabled('camera', on);
  }

  /**
   * Switches the own floor microphone or camera on or off, by pausing its producer here (nothing leaves the
   * browser) and on the server (nothing is forwarded). Switching on asks the server first: a refusal
   * (FORBIDDEN: a moderated floor that is not yours; MUTED_BY_MODERATOR) leaves everything as it was and
   * rejects with that code. Switching on what is not published publishes it; switching off before publishing
   * makes the next publish start off.
   */
  async setEnabled(source: SwitchableSource, on: boolean): Promise<void> {
    const publication = this.floorPublication(source);
    const producer = publication && this.producers.get(publication.producerId);
    if (!on) {
      this.wanted[source] = false;
      producer?.pause();
      this.emitLocalMedia();
      // Silent here already; a reconnect publishes it paused anyway.
      if (producer) await this.request('pauseProducer', { producerId: producer.id }).catch(ignoreCode('NOT_CONNECTED'));
      return;
    }
    if (!publication) {
      this.wanted[source] = true;
      await (source === 'mic' ? this.publishMicrophone() : this.publishCamera());
      return;
    }
    if (producer) await this.request('resumeProducer', { producerId: producer.id });
    producer?.resume();
    this.wanted[source] = true;
    this.held[source] = false;
    this.emitLocalMedia();
  }

  /** The devices there are (labels need a granted permission, e.g. after the first publish). */
  async listDevices(): Promise<DeviceList> {
    const all = await navigator.mediaDevices.enumerateDevices();
    return {
      microphones: all.filter((d) => d.kind === 'audioinput'),
      cameras: all.filter((d) => d.kind === 'videoinput'),
      speakers: all.filter((d) => d.kind === 'audiooutput'),
    };
  }

  /** The device each own source uses now (absent: not published). */
  get devices(): Partial<Record<SwitchableSource, string>> {
    const out: Partial<Record<SwitchableSource, string>> = {};
    for (const source of ['mic', 'camera'] as const) {
      const id = this.floorPublication(source)?.track.getSettings().deviceId;
      if (id) out[source] = id;
    }
    return out;
  }

  switchMicrophone(deviceId: string): Promise<void> {
    return this.switchDevice('mic', deviceId);
  }

  switchCamera(deviceId: string): Promise<void> {
    return this.switchDevice('camera', deviceId);
  }

  /**
   * Sends from another device without renegotiating (the producer's track is replaced), keeping it on or off.
   * Before publishing, it chooses the device the next publish opens.
   */
  private async switchDevice(source: SwitchableSource, deviceId: string): Promise<void> {
    const previous = this.deviceIds[source];
    this.deviceIds[source] = deviceId;
    const publication = this.floorPublication(source);
    if (!publication) return;
    let opened: MediaStreamTrack | undefined;
    try {
      opened = await this.openTrack(source, {});
      await this.producers.get(publication.producerId)?.replaceTrack({ track: opened });
    } catch (error) {
      this.deviceIds[source] = previous;
      opened?.stop();
      throw asClientError(error);
    }
    const track = opened;
    const old = publication.track;
    publication.track = track;
    const local = this.localTracks.get(publication.producerId);
    if (local) local.track = track;
    this.ownTracks.add(track);
    if (this.ownTracks.delete(old)) old.stop();
    this.emitLocalMedia();
  }

  /** Opens the microphone or camera, on the chosen device if any; `constraints` default to the last ones used. */
  private async openTrack(source: SwitchableSource, constraints: MediaTrackConstraints): Promise<MediaStreamTrack> {
    const deviceId = this.deviceIds[source];
    const base = Object.keys(constraints).length > 0 ? constraints : (this.constraints[source] ?? {});
    this.constraints[source] = base;
    const wanted = deviceId && base.deviceId === undefined ? { ...base, deviceId: { exact: deviceId } } : base;
    const stream = await navigator.mediaDevices.getUserMedia(source === 'mic' ? { audio: wanted } : { video: wanted });
    const track = source === 'mic' ? stream.getAudioTracks()[0] : stream.getVideoTracks()[0];
    if (!track) throw new MeetingClientError('NO_DEVICE', source === 'mic' ? 'no microphone track' : 'no camera track');
    return track;
  }

  private floorPublication(source: SwitchableSource): Publication | undefined {
    return this.publications.find((p) => p.source === source && (p.options.channel ?? 'floor') === 'floor');
  }

  private localState(source: SwitchableSource): LocalMediaState {
    if (this.held[source]) return 'muted-by-secretariat';
    if (!this.floorPublication(source)) return 'none';
    return this.wanted[source] ? 'on' : 'off';
  }

  private emitLocalMedia(): void {
    const state = this.localMedia;
    const key = `${state.mic}/${state.camera}`;
    if (key === this.lastLocalMedia) return;
    this.lastLocalMedia = key;
    this.emit('localMedia', state);
  }

  /** A newly made producer of an own source the user switched off starts paused, here and on the server. */
  private async applyWanted(publication: Publication): Promise<void> {
    const source = publication.source;
    if ((source !== 'mic' && source !== 'camera') || this.floorPublication(source) !== publication || this.wanted[source]) return;
    const producer = this.producers.get(publication.producerId);
    producer?.pause();
    if (producer) await this.request('pauseProducer', { producerId: producer.id });
  }

  // ---- connection state ----------------------------------------------------------------------------
  /** The connection as `connectionState` last announced: one coarse state, and the signaling's and transports' own. */
  get connection(): ConnectionView {
    const stateOf = (t: types.Transport | undefined): ConnectionView['send'] => (t && !t.closed ? t.connectionState : 'none');
    const send = stateOf(this.sendTransport);
    const recv = stateOf(this.recvTransport);
    const signaling = this.closedReason || !this.self ? 'disconnected' : this.recovering ? 'reconnecting' : 'connected';
    let state: ConnectionState;
    if (this.closedReason) state = this.failed ? 'failed' : 'disconnected';
    else if (signaling !== 'connected') state = signaling;
    else if ([send, recv].some((s) => s === 'failed' || s === 'disconnected') || [...this.restarters.values()].some((r) => r.restarting)) state = 'reconnecting';
    else state = 'connected';
    return { state, signaling, send, recv };
  }

  private emitConnection(): void {
    const view = this.connection;
    const key = JSON.stringify(view);
    if (key === this.lastConnection) return;
    this.lastConnection = key;
    this.emit('connectionState', view);
  }

  /** The node serving this client now (the room's origin, or an edge of it); redirects and failover change it. */
  get serverUrl(): string {
    return this.url;
  }

  get joined(): boolean {
    return this.self !== undefined && this.closedReason === undefined;
  }

  async join(): Promise<PeerInfo> {
    if (this.socket) throw new MeetingClientError('ALREADY_JOINED', 'join() was already called');
    const self = await this.connectAndJoin(this.options.token);
    this.emitConnection();
    return self;
  }

  /** Connects to the node serving the room, following ROOM_ELSEWHERE redirects (a cluster) a few times. */
  private async connect(token: string): Promise<Socket> {
    for (let hop = 0; ; hop++) {
      const socket = io(this.url, { path: '/signaling', auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
      // Listening before the handshake settles: a push in the same chunk as the handshake's answer (the
      // next resume token, `lobbyWaiting`) would otherwise be lost.
      this.listen(socket);
      try {
        await handshake(socket);
        return socket;
      } catch (error) {
        socket.removeAllListeners();
        socket.close();
        const url = (error as MeetingClientError & { url?: string }).url;
        if ((error as MeetingClientError).code !== 'ROOM_ELSEWHERE' || !url || hop >= 3) throw error;
        this.url = url;
      }
    }
  }

  /** One connection's life: connect with a token, load the device once, join, receive everyone. */
  private async connectAndJoin(token: string): Promise<PeerInfo> {
    this.socket = await this.connect(token);

    const { rtpCapabilities } = await this.waitThroughLobby(() => this.request('getRouterRtpCapabilities', {}));
    if (!this.device) {
      const device = new Device();
      await device.load({ routerRtpCapabilities: rtpCapabilities as types.RtpCapabilities });
      this.device = device;
    }
    const device = this.device;
    const joined = await this.request('join', { rtpCapabilities: device.rtpCapabilities as RequestData<'join'>['rtpCapabilities'] });
    this.resumeToken = joined.resumeToken;
    this.nodes = joined.nodes;
    this.self = joined.self;
    this.channels = joined.channels;
    this.floor = joined.floor;
    for (const booth of joined.booths) this.booths.set(booth.language, booth);
    if (this.options.playAudio !== false) this.mixer ??= new ChannelMixer();
    this.mixer?.set({ selected: this.selectedChannel, floorVolume: this.floorVolume, live: this.liveLanguages() });
    this.peersTotal = joined.peersTotal;
    this.peersNextCursor = joined.peersNextCursor;
    for (const peer of joined.peers) {
      if (peer.id === joined.self.id) continue;
      this.peers.set(peer.id, peer);
      this.emit('peerJoined', peer);
    }
    this.listenerChannels = joined.listenerChannels;
    this.setActiveSpeaker(joined.activeSpeaker, joined.activeSpeakerPeer);
    // With selective forwarding the server pushes voices and cameras once a receive transport exists.
    const receiving = this.ensureRecvTransport().catch((error: unknown) => {
      if (!(error instanceof MeetingClientError && error.code === 'FORBIDDEN')) throw error;
    });
    if (this.view || this.lowBandwidth.audioOnly) await this.request('setView', this.screenSent(this.view));
    await Promise.all([receiving, ...joined.producers.map((p) => this.consumeOrKeep(p))]);
    return joined.self;
  }

  /**
   * The connection or the room was lost for a reason a retry can mend (a media worker or a node died, the
   * server restarted): reconnect with the resume token, with backoff, then publish the same tracks again
   * and listen to the same channel. The user does nothing; the page sees `reconnecting` then `reconnected`.
   */
  private async recover(reason: string): Promise<void> {
    if (this.recovering || this.closedReason) return;
    const token = this.resumeToken;
    if (!token) return this.shutdown(reason);
    this.recovering = true;
    this.emit('reconnecting', { reason });
    this.dropConnection();
    this.emitConnection();
    const { maxAttempts = 20, minDelayMs = 250, maxDelayMs = 4000 } = this.options.reconnect ?? {};
    for (let attempt = 1; attempt <= maxAttempts && !this.closedReason; attempt++) {
      // The newest token held: one a handshake admitted is spent, and that admission handed out the next.
      const used = this.resumeToken ?? token;
      try {
        await this.connectAndJoin(used);
        await this.republish();
        if (this.selectedChannel !== 'floor') await this.selectChannel(this.selectedChannel);
        this.recovering = false;
        this.emit('reconnected', { attempt });
        this.emitConnection();
        return;
      } catch (error) {
        const code = error instanceof MeetingClientError ? error.code : 'CONNECT_FAILED';
        this.dropConnection();
        // This node is gone: try the next node of the cluster; it serves the room once the lease moves.
        if (code === 'CONNECT_FAILED' && this.nodes.length > 1) this.url = this.nodes[(this.nodes.indexOf(this.url) + 1) % this.nodes.length]!;
        // Refusals a retry cannot change end the session; anything else is retried. A refused token is only
        // final when no newer one arrived (an attempt admitted after it was sent handed out the next).
        const newerToken = code === 'UNAUTHENTICATED' && this.resumeToken !== undefined && this.resumeToken !== used;
        if (FINAL.has(code) && !newerToken) {
          this.recovering = false;
          return this.shutdown(code, (error as Error).message);
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(maxDelayMs, minDelayMs * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5)));
      }
    }
    this.recovering = false;
    this.failed = true;
    this.shutdown(reason, 'could not reconnect');
  }

  /** Forgets one connection's transports and remote media, keeping the local tracks for republishing. */
  private dropConnection(): void {
    this.unconsumed.clear();
    this.closedEarly.clear();
    const socket = this.socket;
    socket?.removeAllListeners();
    socket?.disconnect();
    for (const id of [...this.consumers.keys()]) this.dropConsumer(id);
    for (const peer of [...this.peers.values()]) {
      this.peers.delete(peer.id);
      this.emit('peerLeft', peer);
    }
    for (const p of this.producers.values()) p.close();
    this.producers.clear();
    this.localTracks.clear();
    for (const r of this.restarters.values()) r.close();
    this.restarters.clear();
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.sendTransport = this.recvTransport = undefined;
    this.sendTransportPromise = this.recvTransportPromise = undefined;
  }

  /** Runs `first`; if the server holds us in the lobby, waits for admission and runs it again. */
  private async waitThroughLobby<T>(first: () => Promise<T>): Promise<T> {
    try {
      return await first();
    } catch (error) {
      if (!(error instanceof MeetingClientError) || error.code !== 'IN_LOBBY') throw error;
    }
    this.emit('lobby', {});
    await new Promise<void>((resolve, reject) => {
      const onAdmitted = (): void => {
        offClosed();
        resolve();
      };
      this.socket?.once('lobbyAdmitted', onAdmitted);
      const offClosed = this.once('closed', ({ reason, message }) => {
        this.socket?.off('lobbyAdmitted', onAdmitted);
        reject(new MeetingClientError(reason, message ?? 'not admitted'));
      });
    });
    return first();
  }

  /**
   * A page of the roster (the floor holder, those conducting, then everyone by name), optionally searched
   * by name or entity; pass the previous page's `nextCursor` for the next. Does not change `peers`.
   */
  fetchPeers(query: { cursor?: string | null; search?: string; role?: string; entity?: string; limit?: number } = {}): Promise<PeersPage> {
    const { cursor, limit = 50, ...filters } = query;
    return this.request('getPeers', { ...filters, limit, ...(cursor ? { cursor } : {}) });
  }

  // ---- conduct (needs the moderate grant; the server refuses others with FORBIDDEN) -------------
  /** One page of the detailed roster (at most 100), with the lobby and the quorum; `nextCursor` for the next. */
  getRoster(query: { cursor?: string | null; search?: string; limit?: number } = {}): Promise<ResponseData['getRoster']> {
    const { cursor, limit = 100, search } = query;
    return this.request('getRoster', { limit, ...(search ? { search } : {}), ...(cursor ? { cursor } : {}) });
  }

  async admitFromLobby(participantId: string): Promise<void> {
    await this.request('admitFromLobby', { participantId });
  }

  async denyFromLobby(participantId: string, reason?: string): Promise<void> {
    await this.request('denyFromLobby', { participantId, reason });
  }

  async removeParticipant(participantId: string, reason?: string): Promise<void> {
    await this.request('removeParticipant', { participantId, reason });
  }

  async publishCamera(options: { simulcast?: boolean; constraints?: MediaTrackConstraints } = {}): Promise<LocalTrack> {
    if (this.lowBandwidth.audioOnly) throw new MeetingClientError('AUDIO_ONLY', 'audio only is on: no camera is published (setAudioOnly(false) first)');
    return this.publishOwn(await this.openTrack('camera', options.constraints ?? {}), 'camera', { simulcast: options.simulcast ?? true });
  }

  /** Publishes the microphone (the one chosen with `switchMicrophone`, else the default). */
  async publishMicrophone(constraints: MediaTrackConstraints = {}): Promise<LocalTrack> {
    return this.publishOwn(await this.openTrack('mic', constraints), 'mic', {});
  }

  /** Publishes a track the SDK opened; a refusal stops it (a camera's light goes off). */
  private async publishOwn(track: MediaStreamTrack, source: SwitchableSource, options: Publication['options']): Promise<LocalTrack> {
    this.ownTracks.add(track);
    try {
      return await this.publish(track, source, options);
    } catch (error) {
      this.ownTracks.delete(track);
      track.stop();
      throw error;
    }
  }

  /**
   * Publishes any track (a WebAudio oscillator, a canvas capture, a screen share) into the floor or, for
   * interpreters, into their booth's language channel.
   */
  async publish(track: MediaStreamTrack, source: MediaSource, options: { simulcast?: boolean; channel?: string } = {}): Promise<LocalTrack> {
    const local = await this.produce(track, source, options);
    const publication: Publication = { producerId: local.producerId, track, source, options };
    this.publications.push(publication);
    await this.applyWanted(publication);
    this.emitLocalMedia();
    return local;
  }

  private async produce(track: MediaStreamTrack, source: MediaSource, options: Publication['options']): Promise<LocalTrack> {
    const transport = await this.ensureSendTransport();
    const producer = await transport.produce({
      track,
      encodings: track.kind === 'video' && options.simulcast ? SIMULCAST_ENCODINGS : undefined,
      codecOptions: track.kind === 'audio' ? (this.options.opus ?? OPUS_CODEC_OPTIONS) : undefined,
      // The application owns its tracks: a reconnect closes producers and publishes the same tracks again.
      stopTracks: false,
      appData: { source, channel: options.channel ?? 'floor' },
    });
    this.producers.set(producer.id, producer);
    const local: LocalTrack = { producerId: producer.id, source, track };
    this.localTracks.set(producer.id, local);
    return local;
  }

  async unpublish(producerId: string): Promise<void> {
    const producer = this.producers.get(producerId);
    if (!producer) return;
    producer.close();
    this.producers.delete(producerId);
    this.localTracks.delete(producerId);
    this.publications = this.publications.filter((p) => p.producerId !== producerId);
    this.emitLocalMedia();
    await this.request('closeProducer', { producerId });
  }

  /**
   * Forgets publications the server closed (a stopped video, a grant taken away): they are not published
   * again after a reconnect. Tracks the SDK opened for them are stopped (a camera's light goes off).
   */
  private forgetPublications(closed: (p: Publication) => boolean): void {
    for (const p of this.publications.filter(closed)) {
      this.producers.get(p.producerId)?.close();
      this.producers.delete(p.producerId);
      this.localTracks.delete(p.producerId);
      if (this.ownTracks.delete(p.track)) p.track.stop();
    }
    this.publications = this.publications.filter((p) => !closed(p));
    this.emitLocalMedia();
  }

  /** Publishes this client's tracks again on a new connection, skipping any the server now refuses for good. */
  private async republish(): Promise<void> {
    for (const p of [...this.publications]) {
      if (!this.publications.includes(p)) continue; // forgotten meanwhile (a moderator, a grant change)
      try {
        p.producerId = (await this.produce(p.track, p.source, p.options)).producerId;
        await this.applyWanted(p);
      } catch (error) {
        if (!(error instanceof MeetingClientError) || !SKIPPED_ON_REPUBLISH.has(error.code)) throw error;
        this.forgetPublications((q) => q === p);
        this.emit('error', error);
      }
    }
  }

  /**
   * Tells the server what this client's screen shows: the stage (the active speaker; its size, or null for
   * none) and the gallery tiles rendered now, by peer and size (at most 25). The server sends those cameras,
   * at the layer each size needs, and stops the others. Page through the gallery with `fetchPeers`.
   */
  async setView(view: { stage?: { width: number; height: number } | null; tiles?: Array<{ peerId: string; width: number; height: number }> }): Promise<void> {
    // The pinned sign channel stays pinned whatever the gallery does (pinSignChannel changes it).
    const next: ScreenView = { stage: view.stage === undefined ? { width: 1280, height: 720 } : view.stage, tiles: view.tiles ?? [], sign: this.view?.sign ?? null };
    this.view = next;
    await this.request('setView', this.screenSent(next));
  }

  /** Whether audio only is on, and what video the server lets this client's downlink have. */
  get audioOnly(): AudioOnlyState {
    return { ...this.lowBandwidth };
  }

  /**
   * Audio only on or off. On: the camera is unpublished (its light goes off) and the server is told that
   * this screen shows no video, so it sends none; the microphone, the voices and captions go on. Off: the
   * screen last declared with `setView` is sent again and the camera, if it was published, comes back.
   */
  async setAudioOnly(on: boolean): Promise<void> {
    if (on === this.lowBandwidth.audioOnly) return;
    this.lowBandwidth.audioOnly = on;
    this.emit('audioOnly', this.audioOnly);
    if (on) {
      const camera = this.floorPublication('camera');
      this.cameraBeforeAudioOnly = camera !== undefined;
      if (camera) await this.unpublish(camera.producerId);
    }
    if (this.joined) {
      await this.request('setView', this.screenSent(this.view));
      // One audio stream on a poor link: the chosen language alone while interpreted (the floor as it was otherwise).
      await this.request('selectChannel', { channel: this.selectedChannel, floorUnder: this.floorUnder });
    }
    if (!on) {
      for (const info of this.withheldVideo.values()) void this.consumeOrKeep(info).catch((error: unknown) => this.emit('error', asClientError(error)));
      this.withheldVideo.clear();
      if (this.cameraBeforeAudioOnly) {
        this.cameraBeforeAudioOnly = false;
        await this.publishCamera();
      }
    }
  }

  /** Audio only leaves the floor out from under a live interpretation (the server then sends that channel alone). */
  private get floorUnder(): boolean {
    return !this.lowBandwidth.audioOnly;
  }

  /** The screen as the server is told it: no stage and no tiles while audio only (a pinned sign channel stays). */
  private screenSent(view: ScreenView | undefined): ScreenView {
    const base = view ?? { stage: { width: 1280, height: 720 }, tiles: [], sign: null };
    return this.lowBandwidth.audioOnly ? { ...NO_VIDEO_VIEW, sign: base.sign ?? null } : base;
  }

  async setPreferredLayers(consumerId: string, spatialLayer: number, temporalLayer?: number): Promise<void> {
    await this.request('setConsumerPreferredLayers', { consumerId, spatialLayer, temporalLayer });
  }

  /** Inbound RTP figures per remote track (received, lost, jitter), read from each consumer's own stats (not the transport's). */
  async getInboundStats(): Promise<InboundStats[]> {
    const out: InboundStats[] = [];
    for (const [consumerId, consumer] of this.consumers) {
      const report = await consumer.getStats();
      const remote = this.remoteTracks.get(consumerId);
      report.forEach((s: { type: string; packetsReceived?: number; bytesReceived?: number; framesDecoded?: number; packetsLost?: number; jitter?: number }) => {
        if (s.type !== 'inbound-rtp' || !remote) return;
        out.push({
          consumerId,
          peerId: remote.peerId,
          kind: remote.kind,
          packetsReceived: s.packetsReceived ?? 0,
          bytesReceived: s.bytesReceived ?? 0,
          framesDecoded: s.framesDecoded ?? 0,
          packetsLost: s.packetsLost ?? 0,
          jitter: s.jitter ?? 0,
        });
      });
    }
    return out;
  }

  /** Outbound RTP figures per published encoding, from each producer's own stats: what is sent, and what dynacast switched off. */
  async getOutboundStats(): Promise<OutboundStats[]> {
    const out: OutboundStats[] = [];
    for (const [producerId, producer] of this.producers) {
      const report = await producer.getStats();
      report.forEach((s: { type: string; rid?: string; active?: boolean; bytesSent?: number; frameHeight?: number }) => {
        if (s.type !== 'outbound-rtp') return;
        out.push({ producerId, kind: producer.kind, rid: s.rid, active: s.active ?? true, bytesSent: s.bytesSent ?? 0, frameHeight: s.frameHeight });
      });
    }
    return out;
  }

  async leave(): Promise<void> {
    if (!this.socket || this.closedReason) return;
    try {
      await this.request('leave', {});
    } finally {
      this.shutdown('LEFT');
    }
  }

  /** Sends one request and resolves with its data, or rejects with a MeetingClientError carrying the code. */
  async request<M extends RequestMethod>(method: M, data: RequestData<M>): Promise<ResponseData[M]> {
    const socket = this.socket;
    if (!socket || this.closedReason) throw new MeetingClientError('NOT_CONNECTED', 'not connected');
    let answer: Ack<ResponseData[M]>;
    try {
      answer = (await socket.timeout(this.timeoutMs).emitWithAck(method, data)) as Ack<ResponseData[M]>;
    } catch {
      throw new MeetingClientError('TIMEOUT', `${method} got no answer within ${this.timeoutMs} ms`);
    }
    if (!answer.ok) throw new MeetingClientError(answer.error.code, answer.error.message);
    return answer.data;
  }

  private listen(socket: Socket): void {
    const on = <E extends keyof ServerEvents>(event: E, fn: (data: ServerEvents[E]) => void): void => {
      socket.on(event as string, fn as (data: unknown) => void);
    };
    // One batch per room and interval: who left first (a resume may be in both lists), then who joined.
    on('peersChanged', ({ joined, left, total }) => {
      const gone: PeerInfo[] = [];
      for (const peerId of left) {
        const peer = this.peers.get(peerId);
        this.peers.delete(peerId);
        // Tracks go first, so a page never shows a track whose peer is gone.
        for (const remote of [...this.remoteTracks.values()]) if (remote.peerId === peerId) this.dropConsumer(remote.consumerId);
        if (peer) {
          gone.push(peer);
          this.emit('peerLeft', peer);
        }
      }
      const came: PeerInfo[] = [];
      for (const peer of joined) {
        if (peer.id === this.self?.id) continue;
        const known = this.peers.has(peer.id);
        this.peers.set(peer.id, peer);
        // The join answer may already have listed someone whose join was still in the batch.
        if (!known) {
          came.push(peer);
          this.emit('peerJoined', peer);
        }
      }
      this.peersTotal = total;
      this.emit('peersChanged', { joined: came, left: gone, total });
    });
    on('newProducer', (info) => {
      this.consumeOrKeep(info).catch((error: unknown) => this.emit('error', asClientError(error)));
    });
    on('producerClosed', ({ producerId }) => this.unconsumed.delete(producerId));
    on('newConsumer', (info) => {
      this.adoptPushed(info).catch((error: unknown) => this.emit('error', asClientError(error)));
    });
    on('activeSpeaker', ({ peerId, peer }) => this.setActiveSpeaker(peerId, peer));
    on('publisherLayers', ({ producerId, spatialLayer }) => this.applyPublisherLayers(producerId, spatialLayer));
    // A floor microphone left the audible set: its track goes (the server closes its consumer too).
    on('producerHidden', ({ producerId }) => {
      this.unconsumed.delete(producerId);
      const c = this.consumerFor(producerId);
      if (c) this.dropConsumer(c.id);
    });
    on('consumerClosed', ({ consumerId }) => {
      // Closed by the server before its consume answer was wired up here: consume() discards it.
      if (!this.consumers.has(consumerId) && this.consuming > 0) this.closedEarly.add(consumerId);
      this.dropConsumer(consumerId);
    });
    // Video mirrors the producer's pause (a black tile, not a frozen one). Audio does not: a paused producer
    // already sends nothing, and waiting for this event on resume would cut the start of a booth handover.
    on('producerPaused', ({ producerId }) => {
      const c = this.consumerFor(producerId);
      if (c?.kind === 'video') c.pause();
    });
    on('producerResumed', ({ producerId }) => {
      const c = this.consumerFor(producerId);
      if (c?.kind === 'video') c.resume();
    });
    on('channelsChanged', ({ channels }) => {
      const before = this.interpretationAvailable;
      this.channels = channels;
      this.mixer?.set({ live: this.liveLanguages() });
      this.emit('channelsChanged', { channels });
      if (before !== this.interpretationAvailable) this.emit('listening', { channel: this.selectedChannel, interpretationAvailable: this.interpretationAvailable });
    });
    on('signChannelsChanged', ({ channels }) => {
      this.signChannels = channels;
      this.emit('signChannelsChanged', { channels });
      this.emitSignVideo();
    });
    on('boothState', (state) => {
      this.booths.set(state.language, state);
      this.emit('boothState', state);
    });
    on('boothChat', (message) => this.emit('boothChat', message));
    on('boothSignal', (signal) => this.emit('boothSignal', signal));
    on('documentFocus', (focus) => this.emit('documentFocus', focus));
    on('recordingState', (state) => this.emit('recordingState', state));
    on('videoFallback', ({ state }) => {
      if (state === this.lowBandwidth.videoFallback) return;
      this.lowBandwidth.videoFallback = state;
      this.emit('audioOnly', this.audioOnly);
    });
    on('caption', (caption) => this.emit('caption', caption));
    on('floorState', (state) => {
      this.floor = state;
      this.emit('floorState', state);
    });
    on('speakingTime', (notice) => this.emit('speakingTime', notice));
    on('moderated', (notice) => {
      const source = notice.action === 'muted' ? 'mic' : 'camera';
      this.held[source] = true;
      this.wanted[source] = false;
      // The server paused the microphone; it stays silent here too until the user switches it on again.
      if (source === 'mic') this.producers.get(this.floorPublication('mic')?.producerId ?? '')?.pause();
      // The server closed a stopped video's producers (a mute only pauses the microphone): not to be published again.
      if (notice.action === 'video-stopped') this.forgetPublications((p) => p.track.kind === 'video');
      this.emitLocalMedia();
      this.emit('moderated', notice);
    });
    on('unmuteRequested', () => {
      this.held.mic = false;
      this.emitLocalMedia();
      this.emit('unmuteRequested', {});
    });
    on('videoAllowed', () => {
      this.held.camera = false;
      this.emitLocalMedia();
      this.emit('videoAllowed', {});
    });
    on('grantsChanged', (grants) => {
      // The server closed what may no longer be published; publishing it again would be refused.
      this.forgetPublications((p) => {
        const channel = p.options.channel ?? 'floor';
        return channel === 'floor' ? !grants.publish.floor : !grants.publish.booths.includes(channel);
      });
      this.emit('grantsChanged', grants);
    });
    // A resume token is single-use and every admission hands out the next one: keep the newest, the one a
    // reconnect will need (the join answer carries one too).
    on('resumeToken', ({ resumeToken }) => (this.resumeToken = resumeToken));
    on('lobbyWaiting', ({ resumeToken }) => {
      if (resumeToken) this.resumeToken = resumeToken;
    });
    on('quorum', (view) => this.emit('quorum', view));
    on('voteOpened', (vote) => this.emit('voteOpened', vote));
    on('voteProgress', (progress) => this.emit('voteProgress', progress));
    on('voteCast', (cast) => this.emit('voteCast', cast));
    on('voteClosed', (vote) => this.emit('voteClosed', vote));
    on('voteState', (state) => this.emit('voteState', state));
    on('listeners', (census) => {
      this.listenersElsewhere = census;
      this.emit('listeners', census);
    });
    on('roomClosed', ({ reason }) => (RECOVERABLE.has(reason) ? void this.recover(reason) : this.shutdown(reason)));
    on('removed', ({ reason, message }) => this.shutdown(reason, message));
    on('lobbyChanged', (data) => this.emit('lobbyChanged', data));
    // A connection that drops without a word from the server (network, a node that died) is retried. Until
    // the handshake settles, connect() handles a drop itself.
    socket.on('disconnect', (why) => {
      if (socket !== this.socket) return;
      if (why === 'io client disconnect') this.shutdown('DISCONNECTED');
      else void this.recover('DISCONNECTED');
    });
  }

  private setActiveSpeaker(peerId: string | null, peer: PeerInfo | null): void {
    if (peerId === this.activeSpeaker) return;
    this.activeSpeaker = peerId;
    this.activeSpeakerPeer = peer;
    this.emit('activeSpeaker', { peerId, peer });
  }

  /**
   * Dynacast: nobody receives this camera's encodings above `spatialLayer` (-1: none of them), so they are
   * switched off here, and on again when someone needs them.
   */
  private applyPublisherLayers(producerId: string, spatialLayer: number): void {
    const sender = this.producers.get(producerId)?.rtpSender;
    if (!sender || sender.track?.kind !== 'video') return;
    // On the sender itself: mediasoup-client's setMaxSpatialLayer keeps its own figure and cannot switch all off.
    const params = sender.getParameters();
    if (params.encodings.every((e, i) => e.active === i <= spatialLayer)) return;
    params.encodings.forEach((e, i) => (e.active = i <= spatialLayer));
    sender.setParameters(params).catch((error: unknown) => this.emit('error', asClientError(error)));
  }

  private liveLanguages(): string[] {
    return this.channels.filter((c) => c.live).map((c) => c.language);
  }

  private consumerFor(producerId: string): types.Consumer | undefined {
    for (const c of this.consumers.values()) if (c.producerId === producerId) return c;
    return undefined;
  }

  /** Consumes a producer now, or (`selected` mode, another language) remembers it for when it is chosen. */
  private async consumeOrKeep(info: ProducerInfo): Promise<void> {
    // Audio only: the video a client consumes itself (forwarding `all`, a screen share) waits for audio only to end.
    if (this.lowBandwidth.audioOnly && info.kind === 'video' && info.channel === 'floor') {
      this.withheldVideo.set(info.producerId, info);
      return;
    }
    if (this.listenerChannels === 'selected' && info.channel !== 'floor' && info.channel !== this.selectedChannel) {
      this.unconsumed.set(info.producerId, info);
      return;
    }
    await this.consume(info);
  }

  private async consume(info: ProducerInfo): Promise<void> {
    const transport = await this.ensureRecvTransport();
    this.consuming += 1;
    let consumer: types.Consumer;
    let answer: ResponseData['consume'];
    let early = false;
    try {
      try {
        answer = await this.request('consume', { producerId: info.producerId });
      } catch (error) {
        // The floor moved on (or a louder voice came) before this consume: not an error, it is announced again
        // when audible. SERVER_SELECTED: the server sends that one itself.
        if (error instanceof MeetingClientError && (error.code === 'NOT_AUDIBLE' || error.code === 'SERVER_SELECTED')) return;
        throw error;
      }
      // Audio to be heard now is resumed alongside the browser's setup, not one round trip after it: the
      // packets that arrive before the track is wired are dropped, which costs nothing for a voice.
      early = answer.kind === 'audio' && (answer.channel === 'floor' || answer.channel === this.selectedChannel);
      const resumed = early ? this.request('resumeConsumer', { consumerId: answer.consumerId }) : undefined;
      resumed?.catch(() => undefined);
      consumer = await this.wire(transport, answer);
      await resumed?.catch((error: unknown) => {
        // The server closed it meanwhile: nothing to resume.
        if (!this.closedEarly.has(answer.consumerId)) throw error;
      });
    } finally {
      this.consuming -= 1;
    }
    if (this.discardedEarly(consumer)) return;
    await this.track(consumer, answer, !early);
  }

  /** A consumer the server made for this client (a voice, the stage, a gallery tile): wired up, and video resumed. */
  private async adoptPushed(info: ServerEvents['newConsumer']): Promise<void> {
    const transport = await this.ensureRecvTransport();
    this.consuming += 1;
    let consumer: types.Consumer;
    try {
      consumer = await this.wire(transport, info);
    } finally {
      this.consuming -= 1;
    }
    if (this.discardedEarly(consumer)) return;
    await this.track(consumer, info, info.paused);
  }

  private wire(transport: types.Transport, info: ConsumerInfo): Promise<types.Consumer> {
    return transport.consume({ id: info.consumerId, producerId: info.producerId, kind: info.kind, rtpParameters: info.rtpParameters as types.RtpParameters });
  }

  /** The server closed it before it was wired up here: it is not kept. */
  private discardedEarly(consumer: types.Consumer): boolean {
    if (this.closedEarly.delete(consumer.id)) {
      consumer.close();
      return true;
    }
    if (this.consuming === 0) this.closedEarly.clear();
    return false;
  }

  /** Makes a wired consumer a remote track; `serverPaused`: the server holds it paused until this client resumes it. */
  private async track(consumer: types.Consumer, answer: ConsumerInfo, serverPaused: boolean): Promise<void> {
    this.consumers.set(consumer.id, consumer);
    const remote: RemoteTrack = {
      consumerId: consumer.id,
      producerId: answer.producerId,
      peerId: answer.peerId,
      kind: answer.kind,
      source: answer.source,
      channel: answer.channel,
      track: consumer.track,
    };
    this.remoteTracks.set(consumer.id, remote);
    if (remote.kind === 'audio') this.mixer?.add(consumer.id, remote.channel, consumer.track);
    // Consumers start paused on the server (but for the voices it pushes), so no media is lost before the
    // track is wired up. Language channels other than the chosen one stay paused until chosen.
    if (remote.channel === 'floor' || remote.channel === this.selectedChannel || remote.channel === this.view?.sign?.language) {
      if (serverPaused) {
        await this.request('resumeConsumer', { consumerId: consumer.id }).catch((error: unknown) => {
          // The server closed it meanwhile (the microphone left the audible set): nothing to resume.
          if (this.consumers.has(consumer.id)) throw error;
        });
      }
    } else consumer.pause();
    this.emit('trackAdded', remote);
  }

  private dropConsumer(consumerId: string): void {
    const consumer = this.consumers.get(consumerId);
    const remote = this.remoteTracks.get(consumerId);
    this.consumers.delete(consumerId);
    this.remoteTracks.delete(consumerId);
    this.mixer?.remove(consumerId);
    consumer?.close();
    if (remote) this.emit('trackRemoved', remote);
  }

  private sendTransportPromise: Promise<types.Transport> | undefined;
  private recvTransportPromise: Promise<types.Transport> | undefined;

  private ensureSendTransport(): Promise<types.Transport> {
    // A refusal is not kept: publishing may be granted again later (a grant restored, a reconnect).
    if (!this.sendTransportPromise) {
      const created = this.createTransport('send').then((t) => (this.sendTransport = t));
      created.catch(() => {
        if (this.sendTransportPromise === created) this.sendTransportPromise = undefined;
      });
      this.sendTransportPromise = created;
    }
    return this.sendTransportPromise;
  }

  private ensureRecvTransport(): Promise<types.Transport> {
    if (!this.recvTransportPromise) {
      const created = this.createTransport('recv').then((t) => (this.recvTransport = t));
      // A refusal (no subscribe grant) is not kept: a live grant change may allow it later.
      created.catch(() => {
        if (this.recvTransportPromise === created) this.recvTransportPromise = undefined;
      });
      this.recvTransportPromise = created;
    }
    return this.recvTransportPromise;
  }

  private async createTransport(direction: 'send' | 'recv'): Promise<types.Transport> {
    const device = this.device;
    if (!device) throw new MeetingClientError('NOT_JOINED', 'join() first');
    const info: TransportInfo = await this.request('createWebRtcTransport', { direction });
    const params = {
      id: info.id,
      iceParameters: info.iceParameters as types.IceParameters,
      iceCandidates: info.iceCandidates as types.IceCandidate[],
      dtlsParameters: info.dtlsParameters as types.DtlsParameters,
    };
    const transport = direction === 'send' ? device.createSendTransport(params) : device.createRecvTransport(params);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.request('connectWebRtcTransport', {
        transportId: transport.id,
        dtlsParameters: dtlsParameters as RequestData<'connectWebRtcTransport'>['dtlsParameters'],
      }).then(callback, errback);
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        this.request('produce', {
          transportId: transport.id,
          kind,
          rtpParameters: rtpParameters as RequestData<'produce'>['rtpParameters'],
          source: appData.source as MediaSource,
          channel: (appData.channel as string | undefined) ?? 'floor',
        }).then(({ producerId }) => callback({ id: producerId }), errback);
      });
    }
    const restarter = new IceRestarter(
      transport,
      {
        restart: async () => {
          const { iceParameters } = await this.request('restartIce', { transportId: transport.id });
          await transport.restartIce({ iceParameters: iceParameters as types.IceParameters });
        },
        onAttempt: (attempt) => {
          this.emit('iceRestart', { direction, attempt });
          this.emitConnection();
        },
        onChange: () => this.emitConnection(),
        // ICE cannot be mended on this connection: build a new one (signaling, transports, publications).
        onGiveUp: () => void this.recover('ICE_FAILED'),
      },
      this.options.iceRestart,
    );
    this.restarters.get(direction)?.close();
    this.restarters.set(direction, restarter);
    return transport;
  }

  private shutdown(reason: string, message?: string): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    for (const id of [...this.consumers.keys()]) this.dropConsumer(id);
    for (const p of this.producers.values()) p.close();
    this.producers.clear();
    for (const r of this.restarters.values()) r.close();
    this.restarters.clear();
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.socket?.disconnect();
    this.mixer?.close();
    for (const track of this.ownTracks) track.stop();
    this.ownTracks.clear();
    this.emit('closed', { reason, message });
    this.emitConnection();
  }
}

/**
 * Settles when the server admits or refuses the connection. A server that closes the transport during the
 * handshake (its handshake window ran out, the node went down) sends no `connect_error`, only `disconnect`.
 */
function handshake(socket: Socket): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const settle = (error?: MeetingClientError): void => {
      socket.off('connect', onConnect);
      socket.off('connect_error', onError);
      socket.off('disconnect', onDisconnect);
      if (error) reject(error);
      else resolve();
    };
    const onConnect = (): void => settle();
    const onError = (error: Error & { data?: ErrorBody & { url?: string } }): void => {
      const e = new MeetingClientError(error.data?.code ?? 'CONNECT_FAILED', error.message);
      (e as MeetingClientError & { url?: string }).url = error.data?.url;
      settle(e);
    };
    const onDisconnect = (why: string): void => settle(new MeetingClientError('DISCONNECTED', `the connection closed during the handshake (${why})`));
    socket.on('connect', onConnect);
    socket.on('connect_error', onError);
    socket.on('disconnect', onDisconnect);
  });
}

/** A rejection handler that ignores one error code and rethrows the rest. */
function ignoreCode(code: string): (error: unknown) => void {
  return (error) => {
    if (!(error instanceof MeetingClientError && error.code === code)) throw error;
  };
}

function asClientError(error: unknown): MeetingClientError {
  if (error instanceof MeetingClientError) return error;
  return new MeetingClientError('CLIENT_ERROR', error instanceof Error ? error.message : String(error));
}

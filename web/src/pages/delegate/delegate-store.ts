// The delegate page's state: the join decision, the pre-join check, then the room as the SDK's events tell it
// (never polled; only the quality indicator samples the SDK's stats). The MeetingClient and its Gallery live
// beside the store: components reach them through meetingClient() for what they alone know (tile sizes).
import { create } from 'zustand';
import { requestJoin, type JoinAnswer } from '../../../../client-sdk/src/accreditation-api';
import { Gallery, type GalleryPage } from '../../../../client-sdk/src/gallery';
import { MeetingClient, type ConnectionState, type LocalMedia } from '../../../../client-sdk/src/meeting-client';
import type { ChannelInfo, FloorState, PeerInfo } from '../../../../protocol/signaling';
import { useIdentityStore } from '../../shared/identity-store';
import { listMediaDevices, openPreview, routeToSpeaker, type MediaDeviceChoice } from '../../shared/media-devices';
import { followRecording, NOT_RECORDING, type RecordingStatus } from '../../shared/recording-indicator';
import { watchConnectionQuality, type ConnectionQuality } from '../../shared/meeting-connection-quality';
import { wireSignLanguage } from './sign-language-store';
import { wireVotes } from './vote-store';

export type Phase = 'checking' | 'refused' | 'error' | 'prejoin' | 'connecting' | 'lobby' | 'room' | 'ended';

/** Who is on the stage: the active speaker, else the floor holder; named as "name — entity". */
export interface Stage {
  peerId: string | null;
  name?: string;
  entity?: string;
}

/** Join tokens live 5 minutes (PLENUM_JOIN_TOKEN_TTL_SECONDS): one older than this is asked for again. */
const TOKEN_FRESH_MS = 4 * 60_000;
/** Tiles per gallery page; the server takes at most 25 declared tiles. */
export const GALLERY_PAGE_SIZE = 9;

/** Interpreters and captioners are heard through the channels, not shown as tiles (oneself excepted). */
const isStaff = (peer: PeerInfo): boolean => peer.role === 'interpreter' || peer.role === 'captioner';

interface DelegateState {
  phase: Phase;
  sessionId?: string;
  answer?: JoinAnswer;
  answeredAt: number;
  /** Joined through dev mode's /dev/token (no accreditation, no sign-in). */
  dev: boolean;
  /** A refusal's reasons (NOT_ACCREDITED). */
  reasons: string[];
  error?: unknown;
  /** Why the session ended for this page (LEFT, LOBBY_DENIED, SESSION_CLOSED, ...). */
  endReason?: string;

  devices: MediaDeviceChoice;
  micId?: string;
  cameraId?: string;
  speakerId?: string;
  audioOnly: boolean;
  preview?: MediaStream;
  previewError?: string;

  self?: PeerInfo;
  localMedia: LocalMedia;
  ownCamera?: MediaStreamTrack;
  ownMic?: MediaStreamTrack;
  /** The secretariat asked this delegate to unmute; shown with its button until the microphone is on. */
  unmuteRequested: boolean;
  moderated?: 'muted' | 'video-stopped';
  /** The last refused action's error code (FORBIDDEN, MUTED_BY_MODERATOR, ...). */
  actionError?: string;
  floor: FloorState;
  speakingTime?: 'warning' | 'expired';
  /** A booth's "slow down" or "repeat", sent to the speaker (kept until the floor passes). */
  boothSignal?: { kind: 'slow_down' | 'repeat'; language: string; at: number };
  channels: ChannelInfo[];
  channel: string;
  interpretationAvailable: boolean;
  floorVolume: number;
  caption?: string;
  stage: Stage;
  page?: GalleryPage;
  cameras: Record<string, MediaStreamTrack>;
  connection: ConnectionState;
  quality: ConnectionQuality;
  /** Whether the session is being recorded (the room says so on joining and on each change). */
  recording: RecordingStatus;

  check(token: string, sessionId: string): Promise<void>;
  /** Dev mode: a /dev/token join, without accreditation; the page's client is then at window.plenum for tests and debugging. */
  devJoin(token: string, room: string, name: string): void;
  startPreview(): Promise<void>;
  stopPreview(): void;
  chooseDevice(kind: 'mic' | 'camera' | 'speaker', deviceId: string): Promise<void>;
  setAudioOnly(audioOnly: boolean): Promise<void>;
  join(): Promise<void>;
  toggleMic(): Promise<void>;
  toggleCamera(): Promise<void>;
  acceptUnmute(): Promise<void>;
  requestFloor(kind: 'speaker' | 'point_of_order'): Promise<void>;
  withdrawFloor(): Promise<void>;
  selectChannel(channel: string): Promise<void>;
  setFloorVolume(volume: number): void;
  galleryPage(step: 1 | -1): Promise<void>;
  leave(): Promise<void>;
}

let client: MeetingClient | undefined;
let gallery: Gallery | undefined;
let stopQuality: (() => void) | undefined;
/** Everyone this page was told about, to name whoever comes on the stage. */
const known = new Map<string, PeerInfo>();

/** The room's client while connected (for the gallery's setView). */
export const meetingClient = (): MeetingClient | undefined => client;

const codeOf = (error: unknown): string => (typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : 'CLIENT_ERROR');

function stageOf(c: MeetingClient): Stage {
  const peerId = c.activeSpeaker ?? c.floor.speaker?.id ?? null;
  if (!peerId) return { peerId: null };
  const peer = peerId === c.self?.id ? c.self : c.activeSpeakerPeer?.id === peerId ? c.activeSpeakerPeer : known.get(peerId);
  if (peer) return { peerId, name: peer.name, entity: peer.entity.name };
  const speaker = c.floor.speaker;
  return speaker?.id === peerId ? { peerId, name: speaker.name, entity: speaker.entity } : { peerId };
}

function ownTrack(c: MeetingClient, source: 'camera' | 'mic'): MediaStreamTrack | undefined {
  for (const local of c.localTracks.values()) if (local.source === source) return local.track;
  return undefined;
}

export const useDelegateStore = create<DelegateState>((set, get) => {
  /** The SDK's events, each into the store (the only way room state gets here). */
  function wire(c: MeetingClient): void {
    // Also on a reconnect: the server decides the lobby again for a session that has one.
    c.on('lobby', () => set({ phase: 'lobby' }));
    c.on('reconnected', () => get().phase === 'lobby' && set({ phase: 'room' }));
    c.on('localMedia', (localMedia) => {
      const mic = localMedia.mic === 'on';
      set((s) => ({
        localMedia,
        ownCamera: ownTrack(c, 'camera'),
        ownMic: ownTrack(c, 'mic'),
        unmuteRequested: mic ? false : s.unmuteRequested,
        moderated: mic && s.moderated === 'muted' ? undefined : s.moderated,
      }));
    });
    c.on('moderated', ({ action }) => set({ moderated: action, unmuteRequested: false }));
    c.on('unmuteRequested', () => set({ unmuteRequested: true, moderated: undefined }));
    c.on('videoAllowed', () => set((s) => ({ moderated: s.moderated === 'video-stopped' ? undefined : s.moderated })));
    c.on('floorState', (floor) => {
      const holding = floor.speaker?.id === c.self?.id;
      set({ floor, stage: stageOf(c), speakingTime: holding ? get().speakingTime : undefined, boothSignal: holding ? get().boothSignal : undefined });
    });
    c.on('boothSignal', ({ kind, language, at }) => set({ boothSignal: { kind, language, at } }));
    c.on('speakingTime', ({ state, participantId }) => participantId === c.self?.id && set({ speakingTime: state }));
    c.on('channelsChanged', ({ channels }) => set({ channels }));
    c.on('listening', ({ channel, interpretationAvailable }) => set({ channel, interpretationAvailable, caption: undefined }));
    c.on('caption', ({ language, text }) => language === get().channel && set({ caption: text }));
    c.on('activeSpeaker', () => set({ stage: stageOf(c) }));
    c.on('peerJoined', (peer) => known.set(peer.id, peer));
    // Floor cameras only: a signer's video is the sign-language pin's (sign-language-store.ts).
    c.on('trackAdded', (remote) => remote.kind === 'video' && remote.channel === 'floor' && set((s) => ({ cameras: { ...s.cameras, [remote.peerId]: remote.track } })));
    c.on('trackRemoved', (remote) => {
      if (remote.kind !== 'video' || remote.channel !== 'floor') return;
      set((s) => {
        if (s.cameras[remote.peerId] !== remote.track) return {};
        const cameras = { ...s.cameras };
        delete cameras[remote.peerId];
        return { cameras };
      });
    });
    c.on('connectionState', ({ state }) => set({ connection: state }));
    followRecording(c, (recording) => set({ recording }));
    c.on('closed', ({ reason }) => {
      stopQuality?.();
      gallery?.close();
      client = gallery = stopQuality = undefined;
      set({ phase: 'ended', endReason: reason, cameras: {}, page: undefined, ownCamera: undefined, ownMic: undefined });
    });
  }

  async function act(fn: () => Promise<void>): Promise<void> {
    set({ actionError: undefined });
    try {
      await fn();
    } catch (error) {
      set({ actionError: codeOf(error) });
    }
  }

  return {
    phase: 'checking',
    answeredAt: 0,
    dev: false,
    reasons: [],
    devices: { microphones: [], cameras: [], speakers: [] },
    audioOnly: false,
    localMedia: { mic: 'none', camera: 'none' },
    unmuteRequested: false,
    floor: { controlled: false, speaker: null, queue: [] },
    channels: [],
    channel: 'floor',
    interpretationAvailable: true,
    floorVolume: 0.15,
    stage: { peerId: null },
    cameras: {},
    connection: 'disconnected',
    quality: 'unknown',
    recording: NOT_RECORDING,

    async check(token, sessionId) {
      set({ phase: 'checking', sessionId, error: undefined, reasons: [], endReason: undefined });
      try {
        const answer = await requestJoin('', token, sessionId);
        set({ phase: 'prejoin', answer, answeredAt: Date.now() });
      } catch (error) {
        const reasons = (error as { reasons?: string[] }).reasons;
        const code = codeOf(error);
        // A kept sign-in that has expired: back to the sign-in form.
        if (code === 'UNAUTHENTICATED') useIdentityStore.getState().signOut();
        if (code === 'NOT_ACCREDITED' && reasons) set({ phase: 'refused', reasons });
        else set({ phase: 'error', error });
      }
    },

    devJoin(token, room, name) {
      const answer: JoinAnswer = {
        decision: 'allow',
        reasons: [],
        joinToken: token,
        session: { sessionId: room, eventId: 'dev', title: room, languages: [] },
        participant: { personId: '', name, role: 'delegate', entity: { name: 'Dev mode', type: 'other' } },
        grants: { publishFloor: true, booths: [], subscribe: true, moderate: false },
      };
      set({ phase: 'prejoin', dev: true, answer, answeredAt: Date.now(), sessionId: room, error: undefined, endReason: undefined });
    },

    async startPreview() {
      const { answer, micId, cameraId, audioOnly } = get();
      get().stopPreview();
      if (!answer?.grants.publishFloor) {
        set({ devices: await listMediaDevices().catch(() => get().devices) });
        return;
      }
      try {
        const preview = await openPreview({ micId, cameraId, video: !audioOnly });
        // The pre-join step may have ended while the devices opened.
        if (get().phase !== 'prejoin') return preview.getTracks().forEach((t) => t.stop());
        set({ preview, previewError: undefined, devices: await listMediaDevices() });
      } catch (error) {
        set({ previewError: error instanceof DOMException ? error.name : 'Error', devices: await listMediaDevices().catch(() => get().devices) });
      }
    },

    stopPreview() {
      get().preview?.getTracks().forEach((t) => t.stop());
      set({ preview: undefined });
    },

    async chooseDevice(kind, deviceId) {
      if (kind === 'speaker') {
        set({ speakerId: deviceId });
        const context = client?.audio?.context;
        if (context) await act(() => routeToSpeaker(context, deviceId));
        return;
      }
      set(kind === 'mic' ? { micId: deviceId } : { cameraId: deviceId });
      if (get().phase === 'prejoin') return get().startPreview();
      const c = client;
      if (!c) return;
      await act(() => (kind === 'mic' ? c.switchMicrophone(deviceId) : c.switchCamera(deviceId)));
      // The state is the same, so the SDK announces nothing: the new tracks are picked up here.
      set({ ownCamera: ownTrack(c, 'camera'), ownMic: ownTrack(c, 'mic') });
    },

    async setAudioOnly(audioOnly) {
      set({ audioOnly });
      await get().startPreview();
    },

    async join() {
      const { answer, sessionId, micId, cameraId, speakerId, audioOnly } = get();
      if (!answer || !sessionId || client) return;
      get().stopPreview();
      set({ phase: 'connecting', error: undefined, endReason: undefined, cameras: {}, page: undefined, unmuteRequested: false, moderated: undefined, actionError: undefined, recording: NOT_RECORDING });
      try {
        let token = answer.joinToken;
        const identity = useIdentityStore.getState().identity;
        if (Date.now() - get().answeredAt > TOKEN_FRESH_MS && identity && !get().dev) {
          const fresh = await requestJoin('', identity.token, sessionId);
          set({ answer: fresh, answeredAt: Date.now() });
          token = fresh.joinToken;
        }
        // Audio only chosen before joining: no video is sent or received until the room's switch turns it off.
        const c = new MeetingClient({ token, audioOnly });
        client = c;
        if (get().dev) (window as unknown as { plenum?: { client: MeetingClient } }).plenum = { client: c };
        known.clear();
        wire(c);
        wireVotes(c);
        wireSignLanguage(c);
        // Before publishing, these choose the devices the publishes open.
        if (micId) await c.switchMicrophone(micId);
        if (cameraId) await c.switchCamera(cameraId);
        const self = await c.join();
        known.set(self.id, self);
        set({
          phase: 'room',
          self,
          floor: c.floor,
          channels: c.channels,
          channel: c.selectedChannel,
          interpretationAvailable: c.interpretationAvailable,
          stage: stageOf(c),
          connection: c.connection.state,
        });
        if (c.audio && speakerId) await routeToSpeaker(c.audio.context, speakerId).catch(() => undefined);
        c.setFloorVolume(get().floorVolume);
        const g = new Gallery(c, GALLERY_PAGE_SIZE, (p) => !isStaff(p) || p.id === c.self?.id);
        gallery = g;
        g.on('page', (page) => {
          for (const peer of page.peers) known.set(peer.id, peer);
          set({ page, stage: stageOf(c) });
        });
        await g.reload();
        stopQuality = watchConnectionQuality(c, (quality) => set({ quality }));
        if (get().answer?.grants.publishFloor) {
          if (!audioOnly) await c.publishCamera();
          await c.publishMicrophone();
        }
      } catch (error) {
        // A refusal while connecting (a denied lobby: `closed` already said) or a failure to publish.
        if (get().phase === 'ended') return;
        if (client?.joined) set({ actionError: codeOf(error) });
        else {
          const c = client;
          client = undefined;
          await c?.leave().catch(() => undefined);
          set({ phase: 'ended', endReason: codeOf(error) });
        }
      }
    },

    toggleMic: () =>
      act(async () => {
        const state = get().localMedia.mic;
        if (!client || state === 'muted-by-secretariat') return;
        await client.setMicrophoneEnabled(state !== 'on');
      }),

    toggleCamera: () =>
      act(async () => {
        const state = get().localMedia.camera;
        if (!client || state === 'muted-by-secretariat') return;
        // Switching the camera on ends audio only (which publishes no camera).
        if (state !== 'on' && client.audioOnly.audioOnly) await client.setAudioOnly(false);
        await client.setCameraEnabled(state !== 'on');
      }),

    acceptUnmute: () =>
      act(async () => {
        await client?.setMicrophoneEnabled(true);
      }),

    requestFloor: (kind) => act(async () => client?.requestFloor(kind)),
    withdrawFloor: () => act(async () => client?.withdrawFloorRequest()),

    selectChannel: (channel) => act(async () => client?.selectChannel(channel)),

    setFloorVolume(volume) {
      set({ floorVolume: volume });
      client?.setFloorVolume(volume);
    },

    galleryPage: async (step) => {
      await (step > 0 ? gallery?.next() : gallery?.previous());
    },

    async leave() {
      await client?.leave().catch(() => undefined);
    },
  };
});

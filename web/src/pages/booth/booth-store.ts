// The booth page's state: the interpreter's connection (a MeetingClient), fed by the SDK's events only.
import { create } from 'zustand';
import { requestJoin } from '../../../../client-sdk/src/accreditation-api';
import { MeetingClient, type ConnectionState } from '../../../../client-sdk/src/meeting-client';
import type { BoothSignalKind, BoothState, ChannelInfo, PeerInfo } from '../../../../protocol/signaling';
import { useIdentityStore } from '../../shared/identity-store';
import { followRecording, NOT_RECORDING, type RecordingStatus } from '../../shared/recording-indicator';

export interface ChatLine {
  id: number;
  language: string;
  fromId: string;
  name: string;
  text: string;
  at: number;
}

export type HandoverAction = 'offer' | 'request' | 'accept' | 'take';

interface BoothPageState {
  phase: 'idle' | 'joining' | 'connected' | 'closed';
  /** Joining failed (an API or media error), or the last action was refused. */
  error?: unknown;
  /** Why the session ended (the SDK's close reason). */
  closedReason?: string;
  sessionTitle?: string;
  /** The booths this interpreter works in, and the one this page speaks into. */
  languages: string[];
  booth?: string;
  selfId?: string;
  boothState?: BoothState;
  /** When the pending handover was first seen here: the countdown runs on this clock, never the server's. */
  handoverSeenAt?: number;
  channels: ChannelInfo[];
  /** What the interpreter listens to: the floor or another booth (relay). */
  source: string;
  /** False while a relay booth has nobody live (the floor is heard instead). */
  sourceLive: boolean;
  volume: number;
  speaker: PeerInfo | null;
  speakerVideo?: MediaStreamTrack;
  micTrack?: MediaStreamTrack;
  /** A sign-language booth: the signer's camera, published into it instead of a microphone (docs/SIGN-LANGUAGE.md). */
  signCamera?: MediaStreamTrack;
  coughing: boolean;
  /** The server refused going live: the partner's microphone is open (BOOTH_OCCUPIED). */
  conflict: boolean;
  chat: ChatLine[];
  /** The last slow-down / repeat sent, or refused as too soon. */
  signal?: { kind: BoothSignalKind; outcome: 'sent' | 'limited' };
  connection: ConnectionState;
  /** Whether the session is being recorded (the room says so on joining and on each change). */
  recording: RecordingStatus;
  enter(token: string, sessionId: string): Promise<void>;
  goLive(): Promise<void>;
  goOff(): Promise<void>;
  cough(active: boolean): Promise<void>;
  handover(action: HandoverAction): Promise<void>;
  sendChat(text: string): Promise<void>;
  sendSignal(kind: BoothSignalKind): Promise<void>;
  setSource(source: string): Promise<void>;
  setVolume(volume: number): void;
  /** An interpreter of several booths (a retour, an assignment) speaks into another one; not while live. */
  switchBooth(language: string): Promise<void>;
}

let client: MeetingClient | undefined;
let chatId = 0;

/** The page's MeetingClient, for tests and the console (window.plenum, as the demo pages had it). */
export function boothClient(): MeetingClient | undefined {
  return client;
}

const codeOf = (error: unknown): string | undefined => (error as { code?: string } | undefined)?.code;

/** The speaker's camera among the tracks received: the stage the server sends follows the active speaker. */
function speakerVideo(c: MeetingClient): MediaStreamTrack | undefined {
  const id = c.activeSpeaker;
  if (!id) return undefined;
  for (const r of c.remoteTracks.values()) if (r.peerId === id && r.kind === 'video' && r.source === 'camera') return r.track;
  return undefined;
}

export const useBoothStore = create<BoothPageState>((set, get) => {
  /** Runs a booth request; a refusal is shown (with its code), never thrown at the button. */
  const act = async (fn: (c: MeetingClient, booth: string) => Promise<void>): Promise<boolean> => {
    const { booth } = get();
    if (!client || !booth) return false;
    set({ error: undefined });
    try {
      await fn(client, booth);
      return true;
    } catch (error) {
      set({ error });
      return false;
    }
  };

  const applyBoothState = (state: BoothState) => {
    if (state.language !== get().booth) return;
    const previous = get().boothState?.handover;
    const same = previous && state.handover && previous.from === state.handover.from && previous.since === state.handover.since;
    set({
      boothState: state,
      handoverSeenAt: state.handover ? (same ? get().handoverSeenAt : Date.now()) : undefined,
      // The conflict is over once nobody else holds the microphone.
      conflict: get().conflict && state.live !== null && state.live !== get().selfId,
      coughing: state.live === get().selfId && state.coughing,
    });
  };

  return {
    phase: 'idle',
    languages: [],
    channels: [],
    source: 'floor',
    sourceLive: true,
    volume: 1,
    speaker: null,
    coughing: false,
    conflict: false,
    chat: [],
    connection: 'connected',
    recording: NOT_RECORDING,

    async enter(token, sessionId) {
      if (get().phase !== 'idle') return;
      set({ phase: 'joining', error: undefined, recording: NOT_RECORDING });
      try {
        const answer = await requestJoin('', token, sessionId);
        const languages = answer.grants.booths;
        if (languages.length === 0) throw Object.assign(new Error('no booth'), { code: 'NO_BOOTH' });
        const booth = languages[0]!;
        set({ sessionTitle: answer.session.title, languages, booth });
        // The floor alone while listening to it; a relay booth alone while relaying (floorVolume 0).
        const c = new MeetingClient({ token: answer.joinToken, floorVolume: 0 });
        client = c;
        (window as unknown as { plenum?: unknown }).plenum = { client: c };
        const refreshStage = () => set({ speaker: c.activeSpeakerPeer, speakerVideo: speakerVideo(c) });
        c.on('boothState', applyBoothState);
        c.on('boothChat', (m) => {
          set({ chat: [...get().chat, { id: ++chatId, language: m.language, fromId: m.from.id, name: m.from.name, text: m.text, at: m.at }].slice(-200) });
        });
        c.on('channelsChanged', ({ channels }) => set({ channels }));
        c.on('listening', ({ channel, interpretationAvailable }) => set({ source: channel, sourceLive: interpretationAvailable }));
        c.on('activeSpeaker', refreshStage);
        c.on('trackAdded', (r) => {
          if (r.kind === 'audio') c.audio?.setVolume(get().volume);
          refreshStage();
        });
        c.on('trackRemoved', refreshStage);
        c.on('connectionState', ({ state }) => set({ connection: state }));
        followRecording(c, (recording) => set({ recording }));
        // A reconnect's join answer refreshes the booth without a boothState event: read it again.
        c.on('reconnected', () => {
          const again = c.booths.get(booth);
          if (again) applyBoothState(again);
          set({ channels: c.channels });
          refreshStage();
        });
        c.on('closed', ({ reason }) => {
          get().micTrack?.stop();
          get().signCamera?.stop();
          set({ phase: 'closed', closedReason: reason, micTrack: undefined, signCamera: undefined });
          if (reason === 'UNAUTHENTICATED') useIdentityStore.getState().signOut();
        });
        const self = await c.join();
        set({ selfId: self.id, channels: c.channels });
        const state = c.booths.get(booth);
        if (state) applyBoothState(state);
        // A sign-language booth takes the signer's camera (paused by the server until they are live), no microphone.
        if (c.signChannels.some((s) => s.language === booth)) {
          const camera = (await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 } })).getVideoTracks()[0]!;
          await c.publish(camera, 'camera', { channel: booth, simulcast: true });
          await c.setView({ stage: { width: 640, height: 360 }, tiles: [] });
          set({ phase: 'connected', signCamera: camera });
          refreshStage();
          return;
        }
        // The booth microphone: unprocessed (interpreters' headsets), paused by the server until this interpreter is live.
        const mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
        const track = mic.getAudioTracks()[0]!;
        await c.publish(track, 'mic', { channel: booth });
        // The stage: the speaker's camera, at the size the page shows it.
        await c.setView({ stage: { width: 640, height: 360 }, tiles: [] });
        set({ phase: 'connected', micTrack: track });
        refreshStage();
      } catch (error) {
        const c = client;
        client = undefined;
        await c?.leave().catch(() => undefined);
        if (codeOf(error) === 'UNAUTHENTICATED') useIdentityStore.getState().signOut();
        set({ phase: 'idle', error });
      }
    },

    async goLive() {
      const ok = await act((c, booth) => c.boothGoLive(booth));
      // The partner's microphone is open: the warning says so, not the generic error.
      if (!ok && codeOf(get().error) === 'BOOTH_OCCUPIED') set({ conflict: true, error: undefined });
    },
    async goOff() {
      await act((c, booth) => c.boothGoOff(booth));
    },
    async cough(active) {
      const { boothState, selfId, coughing } = get();
      // Only the live interpreter coughs; a release is sent whatever the state said, so a mute never sticks.
      if (active && (boothState?.live !== selfId || coughing)) return;
      if (!active && !coughing) return;
      set({ coughing: active });
      await act((c, booth) => c.boothCough(booth, active));
    },
    async handover(action) {
      await act((c, booth) => c.boothHandover(booth, action));
    },
    async sendChat(text) {
      await act((c, booth) => c.boothChat(booth, text));
    },
    async sendSignal(kind) {
      const ok = await act((c, booth) => c.boothSignal(booth, kind));
      if (ok) set({ signal: { kind, outcome: 'sent' } });
      else if (codeOf(get().error) === 'RATE_LIMITED') set({ signal: { kind, outcome: 'limited' }, error: undefined });
    },
    async setSource(source) {
      await act((c) => c.selectChannel(source, { floorVolume: 0 }));
    },
    async switchBooth(language) {
      const { booth, boothState, selfId, micTrack, languages } = get();
      if (!client || !micTrack || language === booth || !languages.includes(language)) return;
      if (boothState?.live === selfId) {
        set({ error: { code: 'INVALID_STATE' } });
        return;
      }
      set({ error: undefined });
      try {
        const current = [...client.localTracks.values()].find((l) => l.track === micTrack);
        if (current) await client.unpublish(current.producerId);
        await client.publish(micTrack, 'mic', { channel: language });
        set({ booth: language, boothState: undefined, handoverSeenAt: undefined, conflict: false, coughing: false, signal: undefined });
        const state = client.booths.get(language);
        if (state) applyBoothState(state);
      } catch (error) {
        set({ error });
      }
    },
    setVolume(volume) {
      set({ volume });
      client?.audio?.setVolume(volume);
    },
  };
});

// The delegate page's sign-language channels: which the session has, who signs live, and the pinned one's
// video, as the SDK's events tell it. Pinning asks the server for the live signer's video (setView's sign
// part); it follows handovers by itself, whatever the gallery shows.
import { create } from 'zustand';
import type { MeetingClient, SignVideo } from '../../../../client-sdk/src/meeting-client';
import type { SignChannelInfo } from '../../../../protocol/signaling';

const NOTHING_PINNED: SignVideo = { language: null, track: null, interpreter: null };

interface SignLanguageState {
  channels: SignChannelInfo[];
  video: SignVideo;
  /** The last refused pin's error code. */
  error?: string;
  /** Pins a sign channel beside the stage at this size (null: unpins). */
  pin(language: string | null, size?: { width: number; height: number }): Promise<void>;
}

let client: MeetingClient | undefined;

export const useSignLanguageStore = create<SignLanguageState>((set) => ({
  channels: [],
  video: NOTHING_PINNED,
  async pin(language, size) {
    set({ error: undefined });
    try {
      await client?.pinSignChannel(language, size);
    } catch (error) {
      set({ error: typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : 'CLIENT_ERROR' });
    }
  },
}));

/** Feeds the store from this client's events (before join: the channels come with it). */
export function wireSignLanguage(c: MeetingClient): void {
  client = c;
  useSignLanguageStore.setState({ channels: c.signChannels, video: c.signVideo, error: undefined });
  c.on('signChannelsChanged', ({ channels }) => client === c && useSignLanguageStore.setState({ channels }));
  c.on('signVideo', (video) => client === c && useSignLanguageStore.setState({ video }));
  c.on('closed', () => {
    if (client !== c) return;
    client = undefined;
    useSignLanguageStore.setState({ channels: [], video: NOTHING_PINNED });
  });
}

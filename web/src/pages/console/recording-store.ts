// The conducted session's recording: its recordings from the admin API (the one under way first, if any),
// the secretariat's Start and Stop, and the session's recording setting saved with its rules. The list is read
// when the session is chosen, after each change, when the console's room says recording started or stopped
// (elsewhere, or by the session's own setting), on its lifecycle changes and on demand.
import { create } from 'zustand';
import type { MeetingClient } from '../../../../client-sdk/src/meeting-client';
import { useIdentityStore } from '../../shared/identity-store';
import type { ApiError, SessionRules } from './console-api';
import { useConsoleStore } from './console-store';
import { RecordingApi, type RecordingView } from './recording-api';

/** The session setting (accreditation/model.ts `recording`). */
export interface RecordingSetting {
  auto: boolean;
  /** Days a stopped recording's files are kept; null: until deleted by hand. */
  retentionDays: number | null;
}

export type RecordingDone = 'started' | 'stopped' | 'saved';

interface RecordingState {
  sessionId?: string;
  recordings?: RecordingView[];
  busy: boolean;
  error?: unknown;
  /** The last change done, for the live region. */
  done?: { what: RecordingDone; at: number };
  load(sessionId: string): Promise<void>;
  /** Reads the list again, keeping a refusal shown. */
  refresh(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  saveSetting(setting: RecordingSetting): Promise<boolean>;
  clearError(): void;
}

/** The recording API for the signed-in person and the console's event, if both are known. */
export function recordingApi(): RecordingApi | undefined {
  const token = useIdentityStore.getState().identity?.token;
  const eventId = useConsoleStore.getState().api?.eventId;
  return token && eventId ? new RecordingApi(token, eventId) : undefined;
}

/** The session's setting as its rules hold it (the server fills the defaults). */
export function settingOf(session: SessionRules | undefined): RecordingSetting {
  const r = session?.recording as Partial<RecordingSetting> | undefined;
  return { auto: r?.auto ?? false, retentionDays: r?.retentionDays ?? null };
}

export const useRecordingStore = create<RecordingState>((set, get) => {
  /** Runs a call for the current session; an expired sign-in goes back to the sign-in form. */
  const run = async <T>(fn: (api: RecordingApi, sessionId: string) => Promise<T>): Promise<T | undefined> => {
    const api = recordingApi();
    const sessionId = get().sessionId;
    if (!api || !sessionId) return undefined;
    set({ busy: true, error: undefined });
    try {
      const out = await fn(api, sessionId);
      if (get().sessionId === sessionId) set({ busy: false });
      return out;
    } catch (error) {
      if ((error as ApiError).code === 'UNAUTHENTICATED') useIdentityStore.getState().signOut();
      if (get().sessionId === sessionId) set({ busy: false, error });
      return undefined;
    }
  };
  /** Reads the list again (an earlier refusal stays shown); a list for a session no longer shown is dropped. */
  const reload = async () => {
    const api = recordingApi();
    const sessionId = get().sessionId;
    if (!api || !sessionId) return;
    try {
      const recordings = await api.list(sessionId);
      if (get().sessionId === sessionId) set({ recordings });
    } catch (error) {
      if ((error as ApiError).code === 'UNAUTHENTICATED') useIdentityStore.getState().signOut();
      if (get().sessionId === sessionId) set({ error });
    }
  };

  return {
    busy: false,
    async load(sessionId) {
      set(get().sessionId === sessionId ? { error: undefined } : { sessionId, recordings: undefined, error: undefined, done: undefined, busy: false });
      await reload();
    },
    refresh: () => reload(),
    async start() {
      const started = await run((api, s) => api.start(s));
      await reload();
      if (started) set({ done: { what: 'started', at: Date.now() } });
    },
    async stop() {
      const stopped = await run((api, s) => api.stop(s));
      await reload();
      if (stopped) set({ done: { what: 'stopped', at: Date.now() } });
    },
    async saveSetting(setting) {
      const sessionId = get().sessionId;
      const admin = useConsoleStore.getState().api;
      const current = useConsoleStore.getState().sessions?.find((s) => s.sessionId === sessionId);
      if (!admin || !current) return false;
      // PUT replaces every rule: send the session's current rules with the one change.
      const rules: Partial<SessionRules> = { ...current, recording: { auto: setting.auto, retentionDays: setting.retentionDays } };
      delete rules.sessionId;
      delete rules.eventId;
      const saved = await run(() => admin.putSession(current.sessionId, rules as Omit<SessionRules, 'sessionId' | 'eventId'>));
      if (!saved) return false;
      useConsoleStore.setState((s) => ({ sessions: s.sessions?.map((x) => (x.sessionId === saved.session.sessionId ? saved.session : x)) }));
      set({ done: { what: 'saved', at: Date.now() } });
      // Recording whenever open starts a recording of an open session at once: show it.
      await reload();
      return true;
    },
    clearError() {
      set({ error: undefined });
    },
  };
});

/** The console's room connection for `sessionId`: recording started or stopped there, so its list is read again. */
export function wireConsoleRecording(c: MeetingClient, sessionId: string): void {
  c.on('recordingState', () => {
    const store = useRecordingStore.getState();
    if (store.sessionId === sessionId) void store.refresh();
  });
}

// The console's sessions: the event's sessions from the admin API, the one being conducted, and the
// secretariat's changes to them (create, schedule, lifecycle, lock). The live room is in room-store.ts.
import { create } from 'zustand';
import { useIdentityStore } from '../../shared/identity-store';
import { AdminApi, ApiError, type SessionRules } from './console-api';

export type LifecycleAction = 'open' | 'suspend' | 'resume' | 'close';

/** What a session's status allows next. */
export const NEXT_ACTIONS: Record<SessionRules['status'], LifecycleAction[]> = {
  scheduled: ['open', 'close'],
  open: ['suspend', 'close'],
  suspended: ['resume', 'close'],
  closed: [],
};

export interface ScheduleInput {
  sessionId: string;
  title: string;
  startsAt?: string;
  endsAt?: string;
  lobby: boolean;
  floorControl: boolean;
  languages: string[];
}

interface ConsoleState {
  api?: AdminApi;
  sessions?: SessionRules[];
  selected?: string;
  busy: boolean;
  error?: unknown;
  /** The last change done, for the live region. */
  done?: { what: 'saved' | LifecycleAction | 'locked' | 'unlocked'; sessionId: string; at: number };
  start(token: string, eventId: string | undefined, selected: string | undefined): Promise<void>;
  select(sessionId: string): void;
  schedule(input: ScheduleInput): Promise<boolean>;
  transition(sessionId: string, action: LifecycleAction): Promise<void>;
  lock(sessionId: string, locked: boolean): Promise<void>;
  clearError(): void;
}

/** GET /api/events: an identity token without an event (the organisation's provider) acts for the first it may. */
async function firstEvent(token: string): Promise<string> {
  const res = await fetch('/api/events', { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json().catch(() => ({}))) as { events?: { eventId: string }[]; error?: { code: string; message: string } };
  if (!res.ok || !body.events?.[0]) throw new ApiError(body.error?.code ?? 'NOT_FOUND', body.error?.message ?? 'no event');
  return body.events[0].eventId;
}

export const useConsoleStore = create<ConsoleState>((set, get) => {
  /** Runs an admin call; an expired sign-in goes back to the sign-in form. */
  const run = async <T>(fn: (api: AdminApi) => Promise<T>): Promise<T | undefined> => {
    const api = get().api;
    if (!api) return undefined;
    set({ busy: true, error: undefined });
    try {
      const out = await fn(api);
      set({ busy: false });
      return out;
    } catch (error) {
      if ((error as ApiError).code === 'UNAUTHENTICATED') useIdentityStore.getState().signOut();
      set({ busy: false, error });
      return undefined;
    }
  };
  const replace = (session: SessionRules) =>
    set((s) => ({ sessions: s.sessions?.some((x) => x.sessionId === session.sessionId) ? s.sessions.map((x) => (x.sessionId === session.sessionId ? session : x)) : [...(s.sessions ?? []), session] }));

  return {
    busy: false,
    async start(token, eventId, selected) {
      set({ busy: true, error: undefined });
      try {
        const api = new AdminApi(token, eventId ?? (await firstEvent(token)));
        set({ api });
        const { sessions } = await api.sessions();
        set({ sessions, busy: false, selected: sessions.some((s) => s.sessionId === selected) ? selected : undefined });
      } catch (error) {
        if ((error as ApiError).code === 'UNAUTHENTICATED') useIdentityStore.getState().signOut();
        set({ busy: false, error });
      }
    },
    select(sessionId) {
      set({ selected: sessionId });
      const url = new URL(window.location.href);
      url.searchParams.set('session', sessionId);
      window.history.replaceState(null, '', url);
    },
    async schedule(input) {
      const existing = get().sessions?.find((s) => s.sessionId === input.sessionId);
      // PUT replaces every rule: an existing session keeps what the form does not show.
      const kept: Partial<SessionRules> = { ...(existing ?? { status: 'scheduled', locked: false }) };
      delete kept.sessionId;
      delete kept.eventId;
      const rules = { ...kept, title: input.title, lobby: input.lobby, floorControl: input.floorControl, languages: input.languages, startsAt: input.startsAt, endsAt: input.endsAt } as Omit<SessionRules, 'sessionId' | 'eventId'>;
      if (!input.startsAt) delete rules.startsAt;
      if (!input.endsAt) delete rules.endsAt;
      const saved = await run((api) => api.putSession(input.sessionId, rules));
      if (!saved) return false;
      replace(saved.session);
      set({ done: { what: 'saved', sessionId: input.sessionId, at: Date.now() } });
      return true;
    },
    async transition(sessionId, action) {
      const out = await run((api) => api.lifecycle(sessionId, action));
      if (!out) return;
      const session = get().sessions?.find((s) => s.sessionId === sessionId);
      if (session) replace({ ...session, status: out.status });
      set({ done: { what: action, sessionId, at: Date.now() } });
    },
    async lock(sessionId, locked) {
      const out = await run((api) => api.lock(sessionId, locked));
      if (!out) return;
      const session = get().sessions?.find((s) => s.sessionId === sessionId);
      if (session) replace({ ...session, locked: out.locked });
      set({ done: { what: out.locked ? 'locked' : 'unlocked', sessionId, at: Date.now() } });
    },
    clearError() {
      set({ error: undefined });
    },
  };
});

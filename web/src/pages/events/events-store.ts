// The /events page's state: who is signed in, their sessions per event, and the last join decision.
import { create } from 'zustand';
import { listSessions, requestJoin, signIn, type SessionSummary } from '../../../../client-sdk/src/accreditation-api';

export interface EventSessions {
  eventId: string;
  title: string;
  sessions: SessionSummary[];
}

export interface Decision {
  sessionId: string;
  title: string;
  decision: 'allow' | 'lobby' | 'deny';
  reasons: string[];
}

interface EventsState {
  identity?: { token: string; name: string };
  events?: EventSessions[];
  busy: 'signing-in' | 'loading' | 'joining' | undefined;
  error?: unknown;
  decision?: Decision;
  signIn(email: string, accessCode: string): Promise<void>;
  join(session: SessionSummary): Promise<void>;
}

/** The SDK has no call for GET /api/events (yet); same error shape as its own calls. */
async function listEvents(token: string): Promise<{ eventId: string; title: string }[]> {
  const res = await fetch('/api/events', { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json().catch(() => ({}))) as { events?: { eventId: string; title: string }[]; error?: { code: string } };
  if (!res.ok) throw Object.assign(new Error(body.error?.code ?? `HTTP_${res.status}`), { code: body.error?.code ?? `HTTP_${res.status}` });
  return body.events ?? [];
}

export const useEventsStore = create<EventsState>((set, get) => ({
  busy: undefined,
  async signIn(email, accessCode) {
    set({ busy: 'signing-in', error: undefined });
    try {
      const { identityToken, name } = await signIn('', email, accessCode);
      set({ identity: { token: identityToken, name }, busy: 'loading' });
      const events = await listEvents(identityToken);
      const withSessions = await Promise.all(
        events.map(async (e) => ({ eventId: e.eventId, title: e.title, sessions: (await listSessions('', identityToken, e.eventId)).sessions })),
      );
      set({ events: withSessions, busy: undefined });
    } catch (error) {
      set({ error, busy: undefined });
    }
  },
  async join(session) {
    const token = get().identity?.token;
    if (!token) return;
    set({ busy: 'joining', error: undefined, decision: undefined });
    try {
      const answer = await requestJoin('', token, session.sessionId);
      set({ busy: undefined, decision: { sessionId: session.sessionId, title: session.title, decision: answer.decision, reasons: answer.reasons } });
    } catch (error) {
      const reasons = (error as { reasons?: string[] }).reasons;
      const code = (error as { code?: string }).code;
      // A refusal is a decision with its reasons; anything else is an error.
      if (code === 'NOT_ACCREDITED' && reasons) set({ busy: undefined, decision: { sessionId: session.sessionId, title: session.title, decision: 'deny', reasons } });
      else set({ busy: undefined, error });
    }
  },
}));

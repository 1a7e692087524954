// The /events page's state: who is signed in, their sessions per event, and the last join decision.
import { create } from 'zustand';
import { useIdentityStore } from '../../shared/identity-store';
import { listSessions, requestJoin, type JoinAnswer, type OwnAccreditation, type SessionSummary } from '../../../../client-sdk/src/accreditation-api';

export interface EventSessions {
  eventId: string;
  title: string;
  /** The person's own registration for the event; null when not registered. */
  accreditation: OwnAccreditation | null;
  sessions: SessionSummary[];
}

export interface Decision {
  sessionId: string;
  title: string;
  decision: 'allow' | 'lobby' | 'deny';
  reasons: string[];
  /** Where the person goes in: their page for this session (allowed or in the lobby). */
  enterAt?: string;
}

interface EventsState {
  events?: EventSessions[];
  busy: 'loading' | 'joining' | undefined;
  error?: unknown;
  decision?: Decision;
  load(token: string): Promise<void>;
  join(token: string, session: SessionSummary): Promise<void>;
}

/** The page for the person's grants: the secretariat's console, an interpreter's booth, or the delegate's room. */
export function pageFor(answer: Pick<JoinAnswer, 'grants'>, sessionId: string): string {
  const page = answer.grants.moderate ? '/console' : answer.grants.booths.length > 0 ? '/booth' : '/delegate';
  return `${page}?session=${encodeURIComponent(sessionId)}`;
}

/** The SDK has no call for GET /api/events (yet); same error shape as its own calls. */
async function listEvents(token: string): Promise<{ eventId: string; title: string }[]> {
  const res = await fetch('/api/events', { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json().catch(() => ({}))) as { events?: { eventId: string; title: string }[]; error?: { code: string } };
  if (!res.ok) throw Object.assign(new Error(body.error?.code ?? `HTTP_${res.status}`), { code: body.error?.code ?? `HTTP_${res.status}` });
  return body.events ?? [];
}

export const useEventsStore = create<EventsState>((set) => ({
  busy: undefined,
  async load(token) {
    set({ busy: 'loading', error: undefined });
    try {
      const events = await listEvents(token);
      const withSessions = await Promise.all(
        events.map(async (e) => {
          const { accreditation, sessions } = await listSessions('', token, e.eventId);
          return { eventId: e.eventId, title: e.title, accreditation, sessions };
        }),
      );
      set({ events: withSessions, busy: undefined });
    } catch (error) {
      // A kept sign-in that has expired: back to the sign-in form, quietly.
      if ((error as { code?: string }).code === 'UNAUTHENTICATED') useIdentityStore.getState().signOut();
      set({ error, busy: undefined });
    }
  },
  async join(token, session) {
    set({ busy: 'joining', error: undefined, decision: undefined });
    try {
      const answer = await requestJoin('', token, session.sessionId);
      set({
        busy: undefined,
        decision: { sessionId: session.sessionId, title: session.title, decision: answer.decision, reasons: answer.reasons, enterAt: pageFor(answer, session.sessionId) },
      });
    } catch (error) {
      const reasons = (error as { reasons?: string[] }).reasons;
      const code = (error as { code?: string }).code;
      // An identity token that expired since the list was loaded: back to the sign-in form.
      if (code === 'UNAUTHENTICATED') useIdentityStore.getState().signOut();
      // A refusal is a decision with its reasons; anything else is an error.
      if (code === 'NOT_ACCREDITED' && reasons) set({ busy: undefined, decision: { sessionId: session.sessionId, title: session.title, decision: 'deny', reasons } });
      else set({ busy: undefined, error });
    }
  },
}));

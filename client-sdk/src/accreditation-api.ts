// HTTP calls around joining: sign in (embedded mode), list an event's sessions, ask to join one.
import type { ErrorBody } from '../../protocol/errors.js';
import { MeetingClientError } from './client-error.js'; // not meeting-client: a page that only signs in stays small

export interface JoinAnswer {
  decision: 'allow' | 'lobby';
  reasons: string[];
  joinToken: string;
  session: { sessionId: string; eventId: string; title: string; languages: string[] };
  participant: { personId: string; name: string; role: string; entity: { name: string; type: string; countryCode?: string } };
  grants: { publishFloor: boolean; booths: string[]; subscribe: boolean; moderate: boolean };
}

export interface SessionSummary {
  sessionId: string;
  meetingId?: string;
  title: string;
  status: 'scheduled' | 'open' | 'suspended' | 'closed';
  startsAt?: string;
  endsAt?: string;
  lobby: boolean;
  languages: string[];
  /** Whether this person enters directly or through the lobby. */
  access: 'allow' | 'lobby';
}

/** The signed-in person's own registration for an event; null when they are not registered for it. */
export interface OwnAccreditation {
  status: 'approved' | 'pending' | 'rejected' | 'withdrawn' | 'revoked';
  role: string;
  entity: { name: string; type: string; countryCode?: string };
}

async function call<T>(url: string, init: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  const body = (await res.json().catch(() => ({}))) as { error?: ErrorBody; reasons?: string[] } & T;
  if (!res.ok) {
    const error = new MeetingClientError(body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? res.statusText);
    (error as MeetingClientError & { reasons?: string[] }).reasons = body.reasons;
    throw error;
  }
  return body;
}

const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/**
 * Embedded sign-in: e-mail and access code for an identity token, which is good for one event. `eventId`
 * picks the event when the same e-mail is registered in several (each registration has its own code).
 */
export function signIn(baseUrl: string, email: string, accessCode: string, eventId?: string): Promise<{ identityToken: string; name: string; eventId: string }> {
  return call(`${baseUrl}/api/auth/sign-in`, json(eventId === undefined ? { email, accessCode } : { email, accessCode, eventId }));
}

/** The sessions of an event that this person may enter, and their own accreditation for the event. */
export function listSessions(
  baseUrl: string,
  identityToken: string,
  eventId: string,
): Promise<{ event: { eventId: string; title: string }; accreditation: OwnAccreditation | null; sessions: SessionSummary[] }> {
  return call(`${baseUrl}/api/events/${encodeURIComponent(eventId)}/sessions`, { headers: { authorization: `Bearer ${identityToken}` } });
}

/** Asks to join a session; rejects with NOT_ACCREDITED (and `reasons`) when refused. */
export function requestJoin(baseUrl: string, identityToken: string, sessionId: string): Promise<JoinAnswer> {
  return call(`${baseUrl}/api/join`, json({ identityToken, sessionId }));
}

import { join } from 'node:path';
import { z } from 'zod';
import { JsonFile } from './json-file.js';
import { sessionRules, type SessionRules, type SessionRulesInput } from './model.js';

export const meeting = z.object({ meetingId: z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/), eventId: z.string(), title: z.string().min(1).max(200) });
export type Meeting = z.infer<typeof meeting>;

const fileSchema = z.object({
  version: z.literal(1),
  events: z.array(z.object({ eventId: z.string(), title: z.string() })),
  meetings: z.array(meeting).default([]),
  sessions: z.array(sessionRules),
});

/** A session id is unique across events and belongs to the event that created it. */
export class SessionOfOtherEventError extends Error {
  constructor(readonly sessionId: string) {
    super(`session ${sessionId} belongs to another event`);
    this.name = 'SessionOfOtherEventError';
  }
}

export interface EventInfo {
  eventId: string;
  title: string;
}

/** The sessions the server knows and the access rules of each, kept in the data directory (sessions.json). */
export class SessionDirectory {
  private readonly file: JsonFile<typeof fileSchema>;
  private data: z.infer<typeof fileSchema>;

  constructor(dataDir: string, seed?: () => { events: EventInfo[]; sessions: SessionRulesInput[] }) {
    this.file = new JsonFile(join(dataDir, 'sessions.json'), fileSchema);
    if (this.file.exists()) this.data = this.file.load();
    else {
      const s = seed?.() ?? { events: [], sessions: [] };
      this.data = { version: 1, events: s.events, meetings: [], sessions: s.sessions.map((x) => sessionRules.parse(x)) };
      this.file.save(this.data);
    }
  }

  get(sessionId: string): SessionRules | undefined {
    return this.data.sessions.find((s) => s.sessionId === sessionId);
  }

  list(eventId?: string): SessionRules[] {
    return this.data.sessions.filter((s) => !eventId || s.eventId === eventId);
  }

  events(): EventInfo[] {
    return [...this.data.events];
  }

  event(eventId: string): EventInfo | undefined {
    return this.data.events.find((e) => e.eventId === eventId);
  }

  meetings(eventId: string): Meeting[] {
    return this.data.meetings.filter((m) => m.eventId === eventId);
  }

  upsertMeeting(input: Meeting): Meeting {
    const m = meeting.parse(input);
    if (!this.event(m.eventId)) this.data.events.push({ eventId: m.eventId, title: m.eventId });
    const i = this.data.meetings.findIndex((x) => x.meetingId === m.meetingId && x.eventId === m.eventId);
    if (i >= 0) this.data.meetings[i] = m;
    else this.data.meetings.push(m);
    this.file.save(this.data);
    return m;
  }

  upsert(input: SessionRulesInput): SessionRules {
    const rules = sessionRules.parse(input);
    // Moving a session to another event would hand its room to that event's people.
    const current = this.get(rules.sessionId);
    if (current && current.eventId !== rules.eventId) throw new SessionOfOtherEventError(rules.sessionId);
    if (!this.event(rules.eventId)) this.data.events.push({ eventId: rules.eventId, title: rules.eventId });
    const i = this.data.sessions.findIndex((s) => s.sessionId === rules.sessionId);
    if (i >= 0) this.data.sessions[i] = rules;
    else this.data.sessions.push(rules);
    this.file.save(this.data);
    return rules;
  }
}

// The secretariat's recording routes (server/http/recording-routes.ts, docs/RECORDING.md) with the identity
// token as Bearer: start and stop a session's recording, its recordings, a recording's index, and its files,
// chapters and captions fetched as blobs (a plain link cannot carry the token). Failures carry the stable code.
import { ApiError } from './console-api';

export type RecordingStatus = 'recording' | 'stopped' | 'expired';

export interface RecordingFile {
  channel: string;
  part: number;
  kind: 'audio' | 'video';
  mediaType: string;
  startMs: number;
  endMs: number | null;
  bytes: number;
  url: string;
}

export interface RecordingView {
  recordingId: string;
  eventId: string;
  sessionId: string;
  status: RecordingStatus;
  /** A person id, `auto` (the session records whenever open) or `admin-api-key`. */
  startedBy: string;
  startedAt: string;
  stoppedAt: string | null;
  retentionDays: number | null;
  expiresAt: string | null;
  files: RecordingFile[];
}

/** One entry of the meeting index (server/recording/meeting-index.ts): the mark's data and its place on the clock. */
export type IndexEntry = (
  | { kind: 'floor'; personId: string; name: string; entity: string; entityType?: string }
  | { kind: 'point-of-order'; personId: string; name: string; entity: string }
  | { kind: 'session'; status: string }
  | { kind: 'vote-opened'; voteId: string; voteKind: string; question: string }
  | { kind: 'vote-closed'; voteId: string; voteKind: string; question: string; result: unknown }
  | { kind: 'gap'; channel: string; reason: string }
  | { kind: 'recording'; action: 'started' | 'continued' | 'stopped'; node: string }
) & { atMs: number; endMs: number | null; at: string };

export interface MeetingIndex {
  recording: Omit<RecordingView, 'files'>;
  files: RecordingFile[];
  entries: IndexEntry[];
}

/** A fetched file and the name the server gave it (Content-Disposition), for saving. */
export interface FetchedFile {
  blob: Blob;
  fileName: string;
}

/** The file name of an attachment (`filename="…"`), if the header names one plainly. */
export function attachmentName(disposition: string | null): string | undefined {
  const match = /filename="([^"/\\]+)"/.exec(disposition ?? '');
  return match?.[1];
}

export class RecordingApi {
  constructor(
    private readonly token: string,
    private readonly eventId: string,
  ) {}

  private base(sessionId: string): string {
    return `/api/admin/events/${encodeURIComponent(this.eventId)}/sessions/${encodeURIComponent(sessionId)}`;
  }

  private async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(url, { ...init, headers: { authorization: `Bearer ${this.token}` } });
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
      throw new ApiError(body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? res.statusText);
    }
    return res;
  }

  async start(sessionId: string): Promise<RecordingView> {
    return ((await (await this.fetch(`${this.base(sessionId)}/recording/start`, { method: 'POST' })).json()) as { recording: RecordingView }).recording;
  }

  async stop(sessionId: string): Promise<RecordingView> {
    return ((await (await this.fetch(`${this.base(sessionId)}/recording/stop`, { method: 'POST' })).json()) as { recording: RecordingView }).recording;
  }

  /** The session's recordings, newest first, each with its files. */
  async list(sessionId: string): Promise<RecordingView[]> {
    return ((await (await this.fetch(`${this.base(sessionId)}/recordings`)).json()) as { recordings: RecordingView[] }).recordings;
  }

  async index(sessionId: string, recordingId: string): Promise<MeetingIndex> {
    return (await (await this.fetch(`${this.base(sessionId)}/recordings/${encodeURIComponent(recordingId)}`)).json()) as MeetingIndex;
  }

  /** A file by the URL the API gave it (only this API's own paths are fetched). */
  async file(file: RecordingFile, fallbackName: string): Promise<FetchedFile> {
    if (!file.url.startsWith(`/api/admin/events/${encodeURIComponent(this.eventId)}/`)) throw new ApiError('BAD_REQUEST', 'not a recording file of this event');
    const res = await this.fetch(file.url);
    return { blob: await res.blob(), fileName: attachmentName(res.headers.get('content-disposition')) ?? fallbackName };
  }

  async chapters(sessionId: string, recordingId: string): Promise<FetchedFile> {
    const res = await this.fetch(`${this.base(sessionId)}/recordings/${encodeURIComponent(recordingId)}/chapters.vtt`);
    return { blob: await res.blob(), fileName: `${sessionId}-${recordingId}-chapters.vtt` };
  }

  async captions(sessionId: string, recordingId: string, language: string): Promise<FetchedFile> {
    const res = await this.fetch(`${this.base(sessionId)}/recordings/${encodeURIComponent(recordingId)}/captions/${encodeURIComponent(language)}.vtt`);
    return { blob: await res.blob(), fileName: `${sessionId}-${recordingId}-captions-${language}.vtt` };
  }
}

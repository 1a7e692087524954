// The vocabulary of a session's recording, shared by the media side (channel recorders, the session
// recording on the room's owner) and the record side (store, meeting index, HTTP routes).
import { z } from 'zod';

/** `r_` and 32 hex digits: random, so an id from one session reveals nothing of another's. */
export const recordingId = z.string().regex(/^r_[0-9a-f]{32}$/);

export type RecordingStatus = 'recording' | 'stopped' | 'expired';

/** One recording of one session: started and stopped once; recorders may come and go under it. */
export interface RecordingRecord {
  recordingId: string;
  eventId: string;
  sessionId: string;
  status: RecordingStatus;
  startedBy: string;
  /** The session clock's origin: every file's and mark's `ms` counts from here. */
  startedAt: Date;
  stoppedAt: Date | null;
  /**
   * Who stopped it: a person id or 'admin-api-key' (the secretariat's decision: a session that records
   * whenever open does not start again by itself until it opens again), or 'session-closed'.
   */
  stoppedBy: string | null;
  /** Copied from the session's `recording.retentionDays` at start (null: kept until deleted). */
  retentionDays: number | null;
  /** When a stopped recording's files are deleted (stoppedAt + retention). */
  expiresAt: Date | null;
}

/**
 * Channels: `floor` (the active speaker's floor microphone), a language code (the booth's live interpreter,
 * else the floor, as a listener of that channel hears it), `floor-video` (the active speaker's camera).
 */
export const recordingChannel = z.string().regex(/^(floor|floor-video|[a-z]{2,3}(-[A-Za-z0-9]{2,8})?)$/);

export type RecordingFileKind = 'audio' | 'video';

/** One file of a channel. Audio channels have one part that survives recorder restarts; video has one per source. */
export interface RecordingFileRecord {
  recordingId: string;
  channel: string;
  part: number;
  kind: RecordingFileKind;
  /** Relative to the recording's folder: `<channel>-<part>.ogg|webm`. */
  fileName: string;
  mediaType: 'audio/ogg' | 'video/webm';
  /** Where on the session clock (ms since startedAt) the file's first sample lies. */
  startMs: number;
  /** Where its last sample lies: updated every few seconds while it is written, final once stopped. */
  endMs: number | null;
  bytes: number;
}

/**
 * Why a channel has a gap: its recorder process died and was restarted; the media worker died (the room
 * was rebuilt); the room closed here and opened again (idle, or a node shut down); another node took the
 * room over. `all` as a gap's channel: every channel of the session.
 */
export type GapReason = 'recorder-exited' | 'worker-died' | 'room-closed' | 'failover';

/** What the meeting index records, each at a place on the session clock. */
export type MarkData =
  | { kind: 'floor'; personId: string; name: string; entity: string; entityType?: string }
  | { kind: 'point-of-order'; personId: string; name: string; entity: string }
  | { kind: 'session'; status: string }
  | { kind: 'vote-opened'; voteId: string; voteKind: string; question: string }
  | { kind: 'vote-closed'; voteId: string; voteKind: string; question: string; result: unknown }
  | { kind: 'gap'; channel: string; reason: GapReason }
  | { kind: 'recording'; action: 'started' | 'continued' | 'stopped'; node: string };

export type MarkKind = MarkData['kind'];

export interface RecordingMark {
  id?: number;
  recordingId: string;
  /** Start on the session clock. */
  atMs: number;
  /** End on the session clock, for spans (a floor turn, a gap); null for instants or a span still open. */
  endMs: number | null;
  data: MarkData;
}

// The index of a recorded meeting, rendered from the recording's rows: a JSON document (what happened, where
// on the session clock, and the files), WebVTT chapters for players, and one language's captions as WebVTT.
// Pure functions: the routes read the rows, these only render them.
import type { MarkData, RecordingFileRecord, RecordingMark, RecordingRecord } from './recording-model.js';

/** How long an instant's chapter lasts (a point of order, a vote, a lifecycle change), unless the next begins sooner. */
export const INSTANT_CUE_MS = 1000;
/** Longest a caption stays up when no line follows it. */
export const CAPTION_MAX_MS = 5000;

export interface IndexFile {
  channel: string;
  part: number;
  kind: RecordingFileRecord['kind'];
  mediaType: RecordingFileRecord['mediaType'];
  startMs: number;
  endMs: number | null;
  bytes: number;
  url: string;
}

/** One entry of the index: the mark's data, where it lies on the session clock, and the wall-clock time. */
export type IndexEntry = MarkData & {
  atMs: number;
  /** The span's end; null for an instant, or a span left open (a crash before it could be closed). */
  endMs: number | null;
  /** `atMs` as a wall-clock time (ISO 8601). */
  at: string;
  /** Floor turns and points of order: "name — entity". */
  who?: string;
};

export interface MeetingIndex {
  recording: {
    recordingId: string;
    eventId: string;
    sessionId: string;
    status: RecordingRecord['status'];
    startedBy: string;
    startedAt: string;
    stoppedAt: string | null;
    stoppedBy: string | null;
    retentionDays: number | null;
    expiresAt: string | null;
  };
  files: IndexFile[];
  entries: IndexEntry[];
}

/** Marks by time, ties in the order they were written (their ids). */
function inOrder(marks: readonly RecordingMark[]): RecordingMark[] {
  return [...marks].sort((a, b) => a.atMs - b.atMs || (a.id ?? 0) - (b.id ?? 0));
}

export function indexJson(recording: RecordingRecord, files: readonly RecordingFileRecord[], marks: readonly RecordingMark[], fileUrl: (file: RecordingFileRecord) => string): MeetingIndex {
  const origin = recording.startedAt.getTime();
  return {
    recording: {
      recordingId: recording.recordingId,
      eventId: recording.eventId,
      sessionId: recording.sessionId,
      status: recording.status,
      startedBy: recording.startedBy,
      startedAt: recording.startedAt.toISOString(),
      stoppedAt: recording.stoppedAt?.toISOString() ?? null,
      stoppedBy: recording.stoppedBy,
      retentionDays: recording.retentionDays,
      expiresAt: recording.expiresAt?.toISOString() ?? null,
    },
    files: files.map((f) => ({ channel: f.channel, part: f.part, kind: f.kind, mediaType: f.mediaType, startMs: f.startMs, endMs: f.endMs, bytes: f.bytes, url: fileUrl(f) })),
    entries: inOrder(marks).map((m) => {
      const d = m.data;
      const who = d.kind === 'floor' || d.kind === 'point-of-order' ? { who: `${d.name} — ${d.entity}` } : {};
      return { ...d, ...who, atMs: m.atMs, endMs: m.endMs, at: new Date(origin + m.atMs).toISOString() };
    }),
  };
}

// ---- WebVTT ----------------------------------------------------------------------------------------------

/** `HH:MM:SS.mmm` (hours grow past two digits for a meeting of more than 99 hours). */
export function vttTime(ms: number): string {
  const t = Math.max(0, Math.round(ms));
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(Math.floor(t / 3_600_000))}:${pad(Math.floor(t / 60_000) % 60)}:${pad(Math.floor(t / 1000) % 60)}.${pad(t % 1000, 3)}`;
}

/**
 * Text safe inside a cue: one line (a blank line would end the cue), the three characters WebVTT reserves
 * escaped (so `-->` cannot start a timing line, and no tag is read), and bounded.
 */
export function vttText(text: string, max = 300): string {
  const line = text.replace(/\s+/g, ' ').trim();
  const clipped = line.length > max ? `${line.slice(0, max - 1)}…` : line;
  return clipped.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

interface Cue {
  startMs: number;
  endMs: number;
  text: string;
}

function vttDocument(cues: readonly Cue[]): string {
  const blocks = cues.map((c) => `${vttTime(c.startMs)} --> ${vttTime(c.endMs)}\n${vttText(c.text) || '…'}`);
  return ['WEBVTT', ...blocks].join('\n\n') + '\n';
}

/**
 * Where a cue ends: a span at its end (or the recording's end when left open), an instant after `instantMs`
 * unless the next cue begins sooner; never before it begins (WebVTT wants end > start).
 */
function cueEnd(startMs: number, spanEnd: number | null, nextStart: number | undefined, endMs: number, instantMs: number): number {
  let end: number;
  if (spanEnd !== null) end = Math.min(spanEnd, Math.max(endMs, startMs));
  else end = Math.min(startMs + instantMs, nextStart ?? Number.POSITIVE_INFINITY, endMs);
  return end > startMs ? end : startMs + Math.min(instantMs, Math.max(1, (nextStart ?? startMs + instantMs) - startMs));
}

/** Marks that last (the others are instants). */
const SPANS: ReadonlySet<MarkData['kind']> = new Set(['floor', 'gap']);

const ENTITY_TYPE_LABELS: Record<string, string> = {
  member_state: 'Member State',
  observer_state: 'Observer State',
  sector_member: 'Sector Member',
  associate: 'Associate',
  academia: 'Academia',
  intergovernmental_organization: 'Intergovernmental Organization',
  non_governmental_organization: 'Non-Governmental Organization',
  un_system: 'UN System',
  secretariat: 'Secretariat',
  other: 'Other',
};

const GAP_REASONS: Record<string, string> = { 'recorder-exited': 'recorder restarted', 'worker-died': 'media worker restarted', 'room-closed': 'room reopened', failover: 'node failover' };

/** A closed vote's outcome in a few words: the totals, or who was elected. */
function resultSummary(result: unknown): string {
  const r = result as { kind?: string; totals?: Record<string, number>; elected?: string[]; tied?: string[] } | null;
  if (!r || typeof r !== 'object') return '';
  if (r.totals) return Object.entries(r.totals).map(([position, n]) => `${position} ${n}`).join(', ');
  if (r.elected) return r.elected.length > 0 ? `elected: ${r.elected.join(', ')}` : r.tied?.length ? `tied: ${r.tied.join(', ')}` : 'none elected';
  return '';
}

/** A chapter's title, or undefined for marks that are not chapters (the recording's own start/continue/stop). */
export function chapterTitle(d: MarkData): string | undefined {
  switch (d.kind) {
    case 'floor': {
      const type = d.entityType ? ` — ${ENTITY_TYPE_LABELS[d.entityType] ?? d.entityType}` : '';
      return `${d.entity}${type}: ${d.name}`;
    }
    case 'point-of-order':
      return `Point of order — ${d.entity}: ${d.name}`;
    case 'session':
      return `Session ${d.status}`;
    case 'vote-opened':
      return `Vote opened: ${d.question}`;
    case 'vote-closed': {
      const summary = resultSummary(d.result);
      return `Vote closed: ${d.question}${summary ? ` (${summary})` : ''}`;
    }
    case 'gap':
      return `Gap in ${d.channel === 'all' ? 'every channel' : d.channel}: ${GAP_REASONS[d.reason] ?? d.reason}`;
    default:
      return undefined;
  }
}

/**
 * WebVTT chapters: one cue per floor turn, point of order, vote opened or closed, lifecycle change and gap.
 * `endMs`: the recording's length on the session clock (spans left open end there).
 */
export function chaptersVtt(marks: readonly RecordingMark[], endMs: number): string {
  const chapters = inOrder(marks).flatMap((m) => {
    const title = chapterTitle(m.data);
    return title === undefined ? [] : [{ mark: m, title }];
  });
  const cues = chapters.map(({ mark, title }, i) => {
    // The next chapter that begins later than this one: an instant does not run over it.
    const next = chapters.slice(i + 1).find((c) => c.mark.atMs > mark.atMs)?.mark.atMs;
    // A span still open (its end never written: a crash, or the recording still under way) runs to `endMs`.
    const spanEnd = mark.endMs ?? (SPANS.has(mark.data.kind) ? endMs : null);
    return { startMs: mark.atMs, endMs: cueEnd(mark.atMs, spanEnd, next, endMs, INSTANT_CUE_MS), text: title };
  });
  return vttDocument(cues);
}

export interface CaptionLine {
  at: Date;
  text: string;
}

/**
 * One language's captions as WebVTT: each final line from when it was published until the next (at most
 * CAPTION_MAX_MS), on the recording's clock. Lines from before the recording began are left out.
 */
export function captionsVtt(lines: readonly CaptionLine[], recordingStart: Date, endMs: number): string {
  const origin = recordingStart.getTime();
  const timed = lines
    .map((l) => ({ ms: l.at.getTime() - origin, text: l.text }))
    .filter((l) => l.ms >= 0)
    .sort((a, b) => a.ms - b.ms);
  const cues = timed.map((l, i) => {
    const next = timed.slice(i + 1).find((n) => n.ms > l.ms)?.ms;
    return { startMs: l.ms, endMs: cueEnd(l.ms, null, next, endMs, CAPTION_MAX_MS), text: l.text };
  });
  return vttDocument(cues);
}

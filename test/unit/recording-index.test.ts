import { describe, expect, it } from 'vitest';
import { captionsVtt, chaptersVtt, indexJson, vttText, vttTime } from '../../server/recording/meeting-index.js';
import type { MarkData, RecordingFileRecord, RecordingMark, RecordingRecord } from '../../server/recording/recording-model.js';

// The meeting index rendered from a recording's rows: the JSON document, WebVTT chapters and captions. Every
// VTT produced here is read back by a small checker: the header, well-formed timings, start times that never
// go back, ends after starts, and cue text that cannot break out of its cue.

interface ParsedCue {
  startMs: number;
  endMs: number;
  text: string;
}

const TIME = /^(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})$/;
const ms = (t: string): number => {
  const m = TIME.exec(t);
  if (!m) throw new Error(`not a WebVTT time: ${t}`);
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]);
};

/** Reads a WebVTT file back, or throws saying what is wrong with it. */
function parseVtt(vtt: string): ParsedCue[] {
  expect(vtt.endsWith('\n')).toBe(true);
  const blocks = vtt.trimEnd().split('\n\n');
  expect(blocks[0]).toBe('WEBVTT');
  const cues = blocks.slice(1).map((block) => {
    const [timing, ...text] = block.split('\n');
    const m = /^(\S+) --> (\S+)$/.exec(timing!);
    if (!m) throw new Error(`not a timing line: ${timing}`);
    expect(text.length).toBeGreaterThan(0);
    for (const line of text) {
      expect(line.trim()).not.toBe('');
      expect(line).not.toContain('-->');
      expect(line).not.toMatch(/[<>]/);
      // Every & starts an escape.
      expect(line.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
    }
    return { startMs: ms(m[1]!), endMs: ms(m[2]!), text: text.join('\n') };
  });
  cues.forEach((c, i) => {
    expect(c.endMs, `cue ${i} ends after it begins`).toBeGreaterThan(c.startMs);
    if (i > 0) expect(c.startMs, `cue ${i} does not begin before the one before it`).toBeGreaterThanOrEqual(cues[i - 1]!.startMs);
  });
  return cues;
}

const START = new Date('2026-11-26T09:00:00.000Z');
const recording: RecordingRecord = {
  recordingId: 'r_0123456789abcdef0123456789abcdef',
  eventId: 'ev-1',
  sessionId: 'plenary',
  status: 'stopped',
  startedBy: 'p-sec',
  startedAt: START,
  stoppedAt: new Date(START.getTime() + 3_725_000),
  stoppedBy: 'p-sec',
  retentionDays: 30,
  expiresAt: new Date(START.getTime() + 3_725_000 + 30 * 86_400_000),
};

let nextId = 1;
const mark = (atMs: number, endMs: number | null, data: MarkData): RecordingMark => ({ id: nextId++, recordingId: recording.recordingId, atMs, endMs, data });

const files: RecordingFileRecord[] = [
  { recordingId: recording.recordingId, channel: 'floor', part: 1, kind: 'audio', fileName: 'floor-1.ogg', mediaType: 'audio/ogg', startMs: 40, endMs: 3_725_000, bytes: 123456 },
  { recordingId: recording.recordingId, channel: 'floor-video', part: 2, kind: 'video', fileName: 'floor-video-2.webm', mediaType: 'video/webm', startMs: 60_000, endMs: null, bytes: 99 },
];

// Written out of time order on purpose (a late floor turn; an instant written after a later span).
const marks: RecordingMark[] = [
  mark(0, null, { kind: 'recording', action: 'started', node: 'node-a' }),
  mark(0, null, { kind: 'session', status: 'open' }),
  mark(120_000, 300_000, { kind: 'floor', personId: 'p-ke', name: 'Jane Doe', entity: 'Kenya', entityType: 'member_state' }),
  mark(400_000, null, { kind: 'floor', personId: 'p-fr', name: 'Jean <b>Dupont</b>', entity: 'France & Monaco', entityType: 'member_state' }),
  mark(150_000, null, { kind: 'point-of-order', personId: 'p-br', name: 'Ana Silva', entity: 'Brazil' }),
  mark(150_000, null, { kind: 'vote-opened', voteId: 'v1', voteKind: 'recorded', question: 'Adopt --> A/79/L.1?\n\nNOTE 1' }),
  mark(150_500, null, { kind: 'vote-closed', voteId: 'v1', voteKind: 'recorded', question: 'Adopt A/79/L.1?', result: { kind: 'recorded', totals: { yes: 12, no: 3, abstain: 2 }, byEntity: [], notVoting: [] } }),
  mark(200_000, 204_000, { kind: 'gap', channel: 'fr', reason: 'recorder-exited' }),
];

describe('vttTime and vttText', () => {
  it('formats the session clock as HH:MM:SS.mmm, past 99 hours too', () => {
    expect(vttTime(0)).toBe('00:00:00.000');
    expect(vttTime(3_725_042)).toBe('01:02:05.042');
    expect(vttTime(59_999)).toBe('00:00:59.999');
    expect(vttTime(100 * 3_600_000 + 1)).toBe('100:00:00.001');
  });
  it('keeps a cue on one line and escapes what WebVTT reserves', () => {
    expect(vttText('a --> b')).toBe('a --&gt; b');
    expect(vttText('<c.x>Tom & Jerry</c>\r\n\r\nNOTE')).toBe('&lt;c.x&gt;Tom &amp; Jerry&lt;/c&gt; NOTE');
    expect(vttText('x'.repeat(1000)).length).toBeLessThanOrEqual(300);
  });
});

describe('indexJson', () => {
  const index = indexJson(recording, files, marks, (f) => `/files/${f.channel}/${f.part}`);

  it('describes the recording and its files, with their urls', () => {
    expect(index.recording).toEqual({
      recordingId: recording.recordingId,
      eventId: 'ev-1',
      sessionId: 'plenary',
      status: 'stopped',
      startedBy: 'p-sec',
      startedAt: '2026-11-26T09:00:00.000Z',
      stoppedAt: '2026-11-26T10:02:05.000Z',
      stoppedBy: 'p-sec',
      retentionDays: 30,
      expiresAt: '2026-12-26T10:02:05.000Z',
    });
    expect(index.files).toEqual([
      { channel: 'floor', part: 1, kind: 'audio', mediaType: 'audio/ogg', startMs: 40, endMs: 3_725_000, bytes: 123456, url: '/files/floor/1' },
      { channel: 'floor-video', part: 2, kind: 'video', mediaType: 'video/webm', startMs: 60_000, endMs: null, bytes: 99, url: '/files/floor-video/2' },
    ]);
    // Nothing of where the files are on disk.
    expect(JSON.stringify(index)).not.toContain('.ogg');
  });

  it('lists every entry in time order, ties in the order written, with who and the wall-clock time', () => {
    expect(index.entries.map((e) => [e.atMs, e.kind])).toEqual([
      [0, 'recording'],
      [0, 'session'],
      [120_000, 'floor'],
      [150_000, 'point-of-order'],
      [150_000, 'vote-opened'],
      [150_500, 'vote-closed'],
      [200_000, 'gap'],
      [400_000, 'floor'],
    ]);
    expect(index.entries[2]).toEqual({ kind: 'floor', personId: 'p-ke', name: 'Jane Doe', entity: 'Kenya', entityType: 'member_state', who: 'Jane Doe — Kenya', atMs: 120_000, endMs: 300_000, at: '2026-11-26T09:02:00.000Z' });
    expect(index.entries[3]).toMatchObject({ who: 'Ana Silva — Brazil', endMs: null });
    expect(index.entries[5]).toMatchObject({ kind: 'vote-closed', result: { totals: { yes: 12, no: 3, abstain: 2 } } });
    expect(index.entries[6]).toMatchObject({ kind: 'gap', channel: 'fr', reason: 'recorder-exited', endMs: 204_000 });
    // A span left open stays open in the JSON: the reader sees it was never closed.
    expect(index.entries[7]).toMatchObject({ kind: 'floor', endMs: null, who: 'Jean <b>Dupont</b> — France & Monaco' });
  });

  it('renders an empty recording', () => {
    const empty = indexJson({ ...recording, status: 'recording', stoppedAt: null, expiresAt: null }, [], [], () => '');
    expect(empty).toEqual({ recording: expect.objectContaining({ status: 'recording', stoppedAt: null, expiresAt: null }), files: [], entries: [] });
  });
});

describe('chaptersVtt', () => {
  const END = 3_725_000;
  const cues = parseVtt(chaptersVtt(marks, END));

  it('has one chapter per floor turn, point of order, vote, lifecycle change and gap, in time order', () => {
    expect(cues.map((c) => c.text)).toEqual([
      'Session open',
      'Kenya — Member State: Jane Doe',
      'Point of order — Brazil: Ana Silva',
      'Vote opened: Adopt --&gt; A/79/L.1? NOTE 1',
      'Vote closed: Adopt A/79/L.1? (yes 12, no 3, abstain 2)',
      'Gap in fr: recorder restarted',
      'France &amp; Monaco — Member State: Jean &lt;b&gt;Dupont&lt;/b&gt;',
    ]);
  });

  it('gives spans their ends, runs a span left open to the end, and keeps instants short', () => {
    const [session, kenya, order, opened, closed, gap, france] = cues;
    expect(session).toEqual(expect.objectContaining({ startMs: 0, endMs: 1000 }));
    expect(kenya).toEqual(expect.objectContaining({ startMs: 120_000, endMs: 300_000 }));
    // Two instants at one time both last until the next chapter that begins later (clipped below 1 s).
    expect(order).toEqual(expect.objectContaining({ startMs: 150_000, endMs: 150_500 }));
    expect(opened).toEqual(expect.objectContaining({ startMs: 150_000, endMs: 150_500 }));
    expect(closed).toEqual(expect.objectContaining({ startMs: 150_500, endMs: 151_500 }));
    expect(gap).toEqual(expect.objectContaining({ startMs: 200_000, endMs: 204_000 }));
    expect(france).toEqual(expect.objectContaining({ startMs: 400_000, endMs: END }));
  });

  it('keeps a cue valid when an instant lies at the very end, and renders an empty recording as a bare header', () => {
    const late = parseVtt(chaptersVtt([mark(5000, null, { kind: 'session', status: 'closed' })], 5000));
    expect(late).toEqual([{ startMs: 5000, endMs: 6000, text: 'Session closed' }]);
    expect(chaptersVtt([], 0)).toBe('WEBVTT\n');
    expect(parseVtt(chaptersVtt([], 0))).toEqual([]);
    // The recording's own start is not a chapter.
    expect(parseVtt(chaptersVtt([mark(0, null, { kind: 'recording', action: 'started', node: 'n' })], 100))).toEqual([]);
  });

  it('names a gap of every channel and each reason', () => {
    const gap = (channel: string, reason: 'recorder-exited' | 'worker-died' | 'room-closed' | 'failover') => parseVtt(chaptersVtt([mark(0, 100, { kind: 'gap', channel, reason })], 1000))[0]!.text;
    expect(gap('all', 'failover')).toBe('Gap in every channel: node failover');
    expect(gap('ar', 'worker-died')).toBe('Gap in ar: media worker restarted');
    expect(gap('floor', 'room-closed')).toBe('Gap in floor: room reopened');
  });

  it('summarises an election', () => {
    const election = (elected: string[], tied: string[]) =>
      parseVtt(chaptersVtt([mark(0, null, { kind: 'vote-closed', voteId: 'v', voteKind: 'secret', question: 'Elect', result: { kind: 'secret', ballots: 3, abstentions: 0, byCandidate: [], elected, tied } })], 10_000))[0]!.text;
    expect(election(['Ghana', 'Peru'], [])).toBe('Vote closed: Elect (elected: Ghana, Peru)');
    expect(election([], ['Chile', 'Oman'])).toBe('Vote closed: Elect (tied: Chile, Oman)');
  });
});

describe('captionsVtt', () => {
  const at = (ms: number) => new Date(START.getTime() + ms);

  it('shows each line until the next one, at most 5 s, on the recording clock, escaped', () => {
    const vtt = captionsVtt(
      [
        { at: at(10_000), text: 'Good morning, distinguished delegates.' },
        { at: at(12_000), text: 'The draft <A/79/L.1> --> is before you & me.' },
        { at: at(-3000), text: 'before the recording' },
        { at: at(30_000), text: 'Thank you.' },
      ],
      START,
      31_000,
    );
    expect(parseVtt(vtt)).toEqual([
      { startMs: 10_000, endMs: 12_000, text: 'Good morning, distinguished delegates.' },
      { startMs: 12_000, endMs: 17_000, text: 'The draft &lt;A/79/L.1&gt; --&gt; is before you &amp; me.' },
      { startMs: 30_000, endMs: 31_000, text: 'Thank you.' },
    ]);
  });

  it('renders no captions as a bare header', () => {
    expect(parseVtt(captionsVtt([], START, 0))).toEqual([]);
  });
});

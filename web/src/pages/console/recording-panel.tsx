// The conducted session's recording: whether it is being recorded (since when, by whom, the session clock),
// Start and Stop; the session's setting (record whenever open, how long files are kept); and its past
// recordings with their files per channel, chapters and captions (fetched with the identity token, then
// saved), and the meeting index as a short list. Refusals are shown by their stable code.
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { saveDocumentFile } from '../../shared/documents-download';
import { languageName } from '../../shared/i18n';
import { announce } from '../../shared/live-region';
import { consoleError, errorCodeOf, personLabel } from './console-labels';
import { useConsoleStore } from './console-store';
import type { FetchedFile, IndexEntry, MeetingIndex, RecordingFile, RecordingView } from './recording-api';
import { recordingApi, settingOf, useRecordingStore } from './recording-store';
import { useRoomStore } from './room-store';

const RECORDING_CODES = new Set(['RECORDING_ACTIVE', 'RECORDING_NOT_ACTIVE']);
const GAP_REASONS = new Set(['recorder-exited', 'worker-died', 'room-closed', 'failover']);
const SESSION_STATUSES = new Set(['scheduled', 'open', 'suspended', 'closed']);
const MAX_RETENTION_DAYS = 36500;

/** A place on the session clock as hh:mm:ss (hours keep counting past 24). */
export function clockTime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

function recordingError(t: TFunction, error: unknown): string {
  const code = errorCodeOf(error);
  return RECORDING_CODES.has(code) ? t(`recording.errors.${code}`) : consoleError(t, error);
}

/** A channel by name: the floor, the floor video, every channel (a gap's), else a language in the page's language. */
function channelLabel(t: TFunction, channel: string, uiLanguage: string): string {
  if (channel === 'floor') return t('recording.channels.floor');
  if (channel === 'floor-video') return t('recording.channels.floorVideo');
  if (channel === 'all') return t('recording.channels.all');
  return languageName(channel, uiLanguage);
}

/** Who started a recording: the session's own setting, automation, or a person (by name when in the room). */
function useStartedBy(): (startedBy: string) => string {
  const { t } = useTranslation();
  const roster = useRoomStore((s) => s.roster);
  return (startedBy) => {
    if (startedBy === 'auto') return t('recording.startedByAuto');
    if (startedBy === 'admin-api-key') return t('recording.startedByApiKey');
    const person = roster.find((p) => p.id === startedBy);
    return person ? personLabel(t, person) : startedBy;
  };
}

function entryText(t: TFunction, entry: IndexEntry, uiLanguage: string): string {
  switch (entry.kind) {
    case 'floor':
      return t('recording.entries.floor', { who: personLabel(t, entry) });
    case 'point-of-order':
      return t('recording.entries.pointOfOrder', { who: personLabel(t, entry) });
    case 'session':
      return t('recording.entries.session', { status: SESSION_STATUSES.has(entry.status) ? t(`console.status.${entry.status}`) : entry.status });
    case 'vote-opened':
      return t('recording.entries.voteOpened', { question: entry.question });
    case 'vote-closed':
      return t('recording.entries.voteClosed', { question: entry.question });
    case 'gap':
      return t('recording.entries.gap', {
        channel: channelLabel(t, entry.channel, uiLanguage),
        reason: GAP_REASONS.has(entry.reason) ? t(`recording.gapReasons.${entry.reason}`) : entry.reason,
      });
    case 'recording':
      return t(`recording.entries.recording.${entry.action}`);
  }
}

function RecordingErrorAlert({ error, testId }: { error: unknown; testId: string }) {
  const { t } = useTranslation();
  return (
    <div className="alert" role="alert" data-testid={testId} data-code={errorCodeOf(error)}>
      {error !== undefined ? recordingError(t, error) : ''}
    </div>
  );
}

/** The session clock of a recording under way, ticking each second (not announced: a timer is not live). */
function SessionClock({ startedAt }: { startedAt: string }) {
  const { t } = useTranslation();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const elapsed = clockTime(now - new Date(startedAt).getTime());
  return (
    <span className="recording-clock" role="timer" aria-label={t('recording.clock', { time: elapsed })} data-testid="recording-clock">
      {elapsed}
    </span>
  );
}

function Status({ active }: { active: RecordingView | undefined }) {
  const { t, i18n } = useTranslation();
  const busy = useRecordingStore((s) => s.busy);
  const start = useRecordingStore((s) => s.start);
  const stop = useRecordingStore((s) => s.stop);
  const startedBy = useStartedBy();
  const time = new Intl.DateTimeFormat(i18n.language, { timeStyle: 'medium' });
  return (
    <div className="recording-status" data-testid="recording-status" data-state={active ? 'recording' : 'idle'} data-recording-id={active?.recordingId ?? ''}>
      <p id="recording-status-line">
        {active ? (
          <>
            <span className="recording-dot" aria-hidden="true" />
            {t('recording.status.recording', { since: time.format(new Date(active.startedAt)), by: startedBy(active.startedBy) })}{' '}
            <SessionClock startedAt={active.startedAt} />
          </>
        ) : (
          t('recording.status.idle')
        )}
      </p>
      <div className="row" role="group" aria-label={t('recording.controls')}>
        <button type="button" onClick={() => void start()} disabled={busy || !!active} aria-describedby="recording-status-line" data-testid="recording-start">
          {t('recording.start')}
        </button>
        <button type="button" className="danger" onClick={() => void stop()} disabled={busy || !active} aria-describedby="recording-status-line" data-testid="recording-stop">
          {t('recording.stop')}
        </button>
      </div>
    </div>
  );
}

function SettingForm({ sessionId }: { sessionId: string }) {
  const { t } = useTranslation();
  const session = useConsoleStore((s) => s.sessions?.find((x) => x.sessionId === sessionId));
  const saveSetting = useRecordingStore((s) => s.saveSetting);
  const busy = useRecordingStore((s) => s.busy);
  const saved = settingOf(session);
  const [auto, setAuto] = useState(saved.auto);
  const [days, setDays] = useState(saved.retentionDays === null ? '' : String(saved.retentionDays));
  // The form follows the session's setting when it changes elsewhere (another console, a reload).
  useEffect(() => {
    setAuto(saved.auto);
    setDays(saved.retentionDays === null ? '' : String(saved.retentionDays));
  }, [saved.auto, saved.retentionDays]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void saveSetting({ auto, retentionDays: days.trim() === '' ? null : Number(days) });
  };
  return (
    <form className="schedule-form" onSubmit={submit} aria-labelledby="recording-setting-heading" data-testid="recording-setting">
      <h3 id="recording-setting-heading">{t('recording.setting.heading')}</h3>
      <label className="check">
        <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.target.checked)} data-testid="recording-auto" />
        {t('recording.setting.auto')}
      </label>
      <label>
        {t('recording.setting.retention')}
        <input type="number" inputMode="numeric" min={1} max={MAX_RETENTION_DAYS} step={1} value={days} onChange={(e) => setDays(e.target.value)} aria-describedby="recording-retention-hint" data-testid="recording-retention" />
      </label>
      <p id="recording-retention-hint" className="hint">
        {t('recording.setting.retentionHint')}
      </p>
      <div className="row">
        <button type="submit" disabled={busy || !session} data-testid="recording-setting-save">
          {t('recording.setting.save')}
        </button>
      </div>
    </form>
  );
}

/** Fetches a file with the identity token and saves it; says so in the live region, or shows the refusal. */
function useSave() {
  const { t } = useTranslation();
  const [error, setError] = useState<unknown>();
  const save = async (fetchFile: () => Promise<FetchedFile>) => {
    setError(undefined);
    try {
      const { blob, fileName } = await fetchFile();
      saveDocumentFile({ blob, fileName, contentType: blob.type });
      announce(t('recording.downloaded', { name: fileName }));
    } catch (e) {
      setError(e);
    }
  };
  return { save, error };
}

function Files({ recording, onSave }: { recording: RecordingView; onSave: (fetchFile: () => Promise<FetchedFile>) => void }) {
  const { t, i18n } = useTranslation();
  const size = (bytes: number) =>
    new Intl.NumberFormat(i18n.language, { style: 'unit', unit: bytes >= 1_000_000 ? 'megabyte' : 'kilobyte', maximumFractionDigits: 1 }).format(bytes >= 1_000_000 ? bytes / 1_000_000 : bytes / 1000);
  const captionId = `recording-files-${recording.recordingId}`;
  if (recording.files.length === 0) return <p data-testid="recording-no-files">{t('recording.noFiles')}</p>;
  const expired = recording.status === 'expired';
  return (
    <table className="data" aria-labelledby={captionId}>
      <caption id={captionId}>{t('recording.files')}</caption>
      <thead>
        <tr>
          <th scope="col">{t('recording.channel')}</th>
          <th scope="col">{t('recording.part')}</th>
          <th scope="col">{t('recording.span')}</th>
          <th scope="col">{t('recording.size')}</th>
          <th scope="col">{t('recording.download')}</th>
        </tr>
      </thead>
      <tbody>
        {recording.files.map((f: RecordingFile) => {
          const channel = channelLabel(t, f.channel, i18n.language);
          return (
            <tr key={`${f.channel}/${f.part}`} data-testid="recording-file" data-channel={f.channel} data-part={f.part} data-media-type={f.mediaType}>
              <th scope="row">{channel}</th>
              <td>{f.part}</td>
              <td>
                {clockTime(f.startMs)} – {f.endMs === null ? '…' : clockTime(f.endMs)}
              </td>
              <td>{size(f.bytes)}</td>
              <td>
                {expired ? (
                  t('recording.expiredFiles')
                ) : (
                  <button
                    type="button"
                    className="link"
                    onClick={() => onSave(() => recordingApi()!.file(f, `${recording.sessionId}-${recording.recordingId}-${f.channel}-${f.part}.${f.mediaType === 'video/webm' ? 'webm' : 'ogg'}`))}
                    aria-label={t('recording.downloadChannel', { channel, part: f.part })}
                    data-testid="recording-file-download"
                    data-channel={f.channel}
                    data-part={f.part}
                  >
                    {t('recording.download')}
                  </button>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** The meeting index as a short list: each entry at its place on the session clock. */
function IndexList({ index }: { index: MeetingIndex }) {
  const { t, i18n } = useTranslation();
  if (index.entries.length === 0) return <p data-testid="recording-index-empty">{t('recording.indexEmpty')}</p>;
  return (
    <ol className="recording-index" data-testid="recording-index" aria-label={t('recording.index')}>
      {index.entries.map((entry, i) => (
        <li key={i} data-testid="index-entry" data-kind={entry.kind}>
          <span className="recording-time">
            {clockTime(entry.atMs)}
            {entry.endMs !== null && entry.endMs !== entry.atMs && ` – ${clockTime(entry.endMs)}`}
          </span>{' '}
          {entryText(t, entry, i18n.language)}
        </li>
      ))}
    </ol>
  );
}

function PastRecording({ recording, captionLanguages }: { recording: RecordingView; captionLanguages: string[] }) {
  const { t, i18n } = useTranslation();
  const startedBy = useStartedBy();
  const { save, error } = useSave();
  const [index, setIndex] = useState<MeetingIndex>();
  const [indexError, setIndexError] = useState<unknown>();
  const [shown, setShown] = useState(false);
  const date = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'medium' });
  const headingId = `recording-${recording.recordingId}`;
  const toggleIndex = async () => {
    if (shown) return setShown(false);
    setShown(true);
    setIndexError(undefined);
    try {
      setIndex(await recordingApi()!.index(recording.sessionId, recording.recordingId));
    } catch (e) {
      setIndexError(e);
    }
  };
  return (
    <li className="recording" data-testid="recording" data-recording-id={recording.recordingId} data-status={recording.status}>
      <h4 id={headingId}>{t('recording.recordingOf', { time: date.format(new Date(recording.startedAt)) })}</h4>
      <dl className="recording-facts">
        <div>
          <dt>{t('recording.statusLabel')}</dt>
          <dd data-testid="recording-state">{t(`recording.states.${recording.status}`)}</dd>
        </div>
        <div>
          <dt>{t('recording.startedAt')}</dt>
          <dd>
            <time dateTime={recording.startedAt}>{date.format(new Date(recording.startedAt))}</time>
          </dd>
        </div>
        <div>
          <dt>{t('recording.stoppedAt')}</dt>
          <dd>{recording.stoppedAt ? <time dateTime={recording.stoppedAt}>{date.format(new Date(recording.stoppedAt))}</time> : '—'}</dd>
        </div>
        <div>
          <dt>{t('recording.startedBy')}</dt>
          <dd>{startedBy(recording.startedBy)}</dd>
        </div>
        <div>
          <dt>{t('recording.kept')}</dt>
          <dd>
            {recording.expiresAt ? (
              <time dateTime={recording.expiresAt}>{t('recording.keptUntil', { time: date.format(new Date(recording.expiresAt)) })}</time>
            ) : recording.retentionDays === null ? (
              t('recording.keptForever')
            ) : (
              t('recording.keptDays', { days: recording.retentionDays })
            )}
          </dd>
        </div>
      </dl>
      <Files recording={recording} onSave={(f) => void save(f)} />
      <div className="row" role="group" aria-label={t('recording.indexFiles')}>
        <button type="button" className="secondary" onClick={() => void save(() => recordingApi()!.chapters(recording.sessionId, recording.recordingId))} data-testid="recording-chapters">
          {t('recording.chapters')}
        </button>
        {captionLanguages.map((language) => (
          <button
            key={language}
            type="button"
            className="secondary"
            onClick={() => void save(() => recordingApi()!.captions(recording.sessionId, recording.recordingId, language))}
            data-testid="recording-captions"
            data-language={language}
          >
            {t('recording.captions', { language: languageName(language, i18n.language) })}
          </button>
        ))}
        <button type="button" className="secondary" onClick={() => void toggleIndex()} aria-expanded={shown} aria-controls={`${headingId}-index`} data-testid="recording-index-toggle">
          {t('recording.showIndex')}
        </button>
      </div>
      {error !== undefined && <RecordingErrorAlert error={error} testId="recording-download-error" />}
      <div id={`${headingId}-index`} hidden={!shown}>
        {indexError !== undefined && <RecordingErrorAlert error={indexError} testId="recording-index-error" />}
        {shown && index && <IndexList index={index} />}
      </div>
    </li>
  );
}

/** Start, stop and a saved setting go to the live region. */
function useRecordingAnnouncements() {
  const { t } = useTranslation();
  const done = useRecordingStore((s) => s.done);
  useEffect(() => {
    if (done) announce(t(`recording.done.${done.what}`));
  }, [done]); // a new change only, not a language change
}

export function RecordingPanel({ sessionId }: { sessionId: string }) {
  const { t } = useTranslation();
  const load = useRecordingStore((s) => s.load);
  const recordings = useRecordingStore((s) => s.recordings);
  const error = useRecordingStore((s) => s.error);
  const busy = useRecordingStore((s) => s.busy);
  const session = useConsoleStore((s) => s.sessions?.find((x) => x.sessionId === sessionId));
  const status = session?.status;
  useRecordingAnnouncements();
  // Read on choosing the session and on its lifecycle changes (opening may start a recording by itself).
  useEffect(() => void load(sessionId), [sessionId, status, load]);
  const mine = useRecordingStore((s) => s.sessionId === sessionId);
  const list = mine ? recordings : undefined;
  const active = list?.find((r) => r.status === 'recording');
  const captionLanguages = [...new Set(session?.languages ?? [])];
  return (
    <section className="panel recording-panel" aria-labelledby="recording-heading" data-testid="recording-panel">
      <h2 id="recording-heading">{t('recording.heading')}</h2>
      {mine && error !== undefined && <RecordingErrorAlert error={error} testId="recording-error" />}
      {list && <Status active={active} />}
      <SettingForm sessionId={sessionId} />
      <div data-testid="recordings">
        <div className="row">
          <h3 id="recordings-heading">{t('recording.past')}</h3>
          <button type="button" className="secondary" onClick={() => void load(sessionId)} disabled={busy} data-testid="recordings-refresh">
            {t('recording.refresh')}
          </button>
        </div>
        {list && list.length === 0 && <p data-testid="recordings-empty">{t('recording.none')}</p>}
        {list && list.length > 0 && (
          <ul className="recordings" aria-labelledby="recordings-heading">
            {list.map((r) => (
              <PastRecording key={r.recordingId} recording={r} captionLanguages={captionLanguages} />
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}

// "● Recording since hh:mm": shown while the session is being recorded, so nobody speaks unaware of it. The
// room tells each participant on joining while it records, and everyone when it starts or stops (the SDK's
// recordingState); the change is said once through the page's live region.
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { MeetingClient } from '../../../client-sdk/src/meeting-client';
import { announce } from './live-region';
import './recording-indicator.css';

export interface RecordingStatus {
  recording: boolean;
  /** When the recording started, ms since the epoch. */
  since: number | null;
}

export const NOT_RECORDING: RecordingStatus = { recording: false, since: null };

/**
 * Follows the room's recording state. The room tells a newcomer only while it records, so a reconnect that
 * heard nothing before `reconnected` means it stopped while this page was away.
 */
export function followRecording(c: MeetingClient, onChange: (status: RecordingStatus) => void): void {
  let told = false;
  c.on('reconnecting', () => {
    told = false;
  });
  c.on('recordingState', ({ recording, since }) => {
    told = true;
    onChange({ recording, since: recording ? since : null });
  });
  c.on('reconnected', () => told || onChange(NOT_RECORDING));
}

export function RecordingIndicator({ status }: { status: RecordingStatus }) {
  const { t, i18n } = useTranslation();
  /** What the live region was last told (nothing said for a session never recorded). */
  const said = useRef(false);
  useEffect(() => {
    if (said.current === status.recording) return;
    // After the page's own effects of the same render (a page says "joined" from a parent's effect), so this
    // message follows it instead of being replaced by it.
    const timer = setTimeout(() => {
      said.current = status.recording;
      announce(t(status.recording ? 'recordingIndicator.started' : 'recordingIndicator.stopped'));
    }, 0);
    return () => clearTimeout(timer);
  }, [status.recording, t]);

  if (!status.recording) return null;
  const since = status.since === null ? null : new Intl.DateTimeFormat(i18n.language, { hour: '2-digit', minute: '2-digit' }).format(status.since);
  // role=status for those who look for it; aria-live off: the live region above already says the change once.
  return (
    <p className="recording-indicator" role="status" aria-live="off" data-testid="recording-indicator" data-since={status.since ?? ''}>
      <span className="recording-indicator-dot" aria-hidden="true">
        ●
      </span>{' '}
      <span className="recording-indicator-label">{t('recordingIndicator.label')}</span>
      {since && <span className="recording-indicator-since"> {t('recordingIndicator.since', { time: since })}</span>}
    </p>
  );
}

// /booth: the interpreter's console. Signs in, joins the session of ?session= with the interpreter's grants,
// then shows the speaker, what the interpreter hears, the booth microphone, the partner and handover, the
// slow-down / repeat requests, the booth chat and the session's documents.
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessage, reasonMessage } from '../../shared/api-errors';
import { languageName } from '../../shared/i18n';
import { useIdentityStore } from '../../shared/identity-store';
import { Layout } from '../../shared/layout';
import { RecordingIndicator } from '../../shared/recording-indicator';
import { SignInForm } from '../../shared/sign-in';
import { BoothChat } from './booth-chat';
import { boothClient, useBoothStore } from './booth-store';
import { DocumentsPanel } from './documents-panel';
import { ListeningPanel } from './listening-panel';
import { MicrophonePanel } from './microphone-panel';
import { PartnerPanel } from './partner-panel';
import { SignalsPanel } from './signals-panel';
import { SignCameraPanel } from './sign-camera-panel';
import { SpeakerStage } from './speaker-stage';
import { useBoothAnnouncements } from './use-booth-announcements';

/** Codes the booth page explains itself; others go through the shared messages. */
const BOOTH_ERRORS = new Set(['NO_BOOTH', 'NO_SESSION', 'INVALID_STATE', 'FORBIDDEN', 'RATE_LIMITED', 'NOT_CONNECTED', 'TIMEOUT', 'NotAllowedError', 'NotFoundError']);

function BoothError() {
  const { t } = useTranslation();
  const error = useBoothStore((s) => s.error);
  const code = (error as { code?: string; name?: string } | undefined)?.code ?? (error as { name?: string } | undefined)?.name;
  const reasons = (error as { reasons?: string[] } | undefined)?.reasons;
  let text = '';
  if (error !== undefined) text = code && BOOTH_ERRORS.has(code) ? t(`booth.errors.${code}`) : errorMessage(t, error);
  return (
    <div className="alert" role="alert" data-testid="error" data-code={code ?? ''}>
      {text}
      {reasons && reasons.length > 0 && (
        <ul>
          {reasons.map((r) => (
            <li key={r} data-reason={r}>
              {reasonMessage(t, r)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function ConnectionBanner() {
  const { t } = useTranslation();
  const connection = useBoothStore((s) => s.connection);
  if (connection === 'connected') return null;
  return (
    <p className="booth-banner" role="status" data-testid="connection-banner" data-state={connection}>
      {t(`booth.connection.${connection}`)}
    </p>
  );
}

/** Interpreters of several booths choose the one they speak into. */
function BoothChoice() {
  const { t, i18n } = useTranslation();
  const { booth, languages, switchBooth } = useBoothStore();
  if (languages.length < 2) return null;
  return (
    <label className="booth-row">
      {t('booth.chooseBooth')}{' '}
      <select value={booth} onChange={(e) => void switchBooth(e.target.value)} data-testid="booth-select">
        {languages.map((l) => (
          <option key={l} value={l}>
            {languageName(l, i18n.language)}
          </option>
        ))}
      </select>
    </label>
  );
}

function Console() {
  const { t, i18n } = useTranslation();
  const { booth, sessionTitle, recording } = useBoothStore();
  useBoothAnnouncements();
  return (
    <div data-testid="booth-console">
      <p className="booth-title" data-testid="booth-title">
        {t('booth.boothOf', { language: languageName(booth ?? '', i18n.language), session: sessionTitle ?? '' })}
      </p>
      <RecordingIndicator status={recording} />
      <BoothChoice />
      <ConnectionBanner />
      <div className="booth-grid">
        <div className="booth-column">
          <SpeakerStage />
          <ListeningPanel />
          <SignalsPanel />
        </div>
        <div className="booth-column">
          <SignCameraPanel />
          <MicrophonePanel />
          <PartnerPanel />
          <BoothChat />
          <DocumentsPanel />
        </div>
      </div>
    </div>
  );
}

function Closed() {
  const { t } = useTranslation();
  const reason = useBoothStore((s) => s.closedReason);
  return (
    <div data-testid="closed" data-reason={reason ?? ''}>
      <p>{t('booth.closed', { reason: reason ?? '' })}</p>
      <p>
        <a href="/events">{t('booth.backToEvents')}</a>
      </p>
    </div>
  );
}

export function BoothPage() {
  const { t, i18n } = useTranslation();
  const token = useIdentityStore((s) => s.identity?.token);
  const phase = useBoothStore((s) => s.phase);
  const enter = useBoothStore((s) => s.enter);
  const sessionId = new URLSearchParams(window.location.search).get('session');

  useEffect(() => {
    document.title = `${t('booth.title')} — ${t('app.name')}`;
  }, [t, i18n.language]);
  useEffect(() => {
    if (!sessionId) useBoothStore.setState({ error: { code: 'NO_SESSION' } });
    else if (token && phase === 'idle' && useBoothStore.getState().error === undefined) void enter(token, sessionId);
  }, [token, phase, sessionId, enter]);
  useEffect(() => {
    // Leave the room when the tab closes, so the partner sees this booth seat free at once.
    const leave = () => void boothClient()?.leave();
    window.addEventListener('pagehide', leave);
    return () => window.removeEventListener('pagehide', leave);
  }, []);

  return (
    <Layout title={t('booth.title')}>
      <BoothError />
      {!token ? <SignInForm /> : phase === 'connected' ? <Console /> : phase === 'closed' ? <Closed /> : phase === 'joining' ? <p data-testid="joining">{t('booth.joining')}</p> : null}
    </Layout>
  );
}

// /delegate?session=<id>: sign in, the accreditation decision, the pre-join check, the lobby, the room, the end.
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessage, reasonMessage } from '../../shared/api-errors';
import { useIdentityStore } from '../../shared/identity-store';
import { Layout } from '../../shared/layout';
import { SignInForm } from '../../shared/sign-in';
import { useDelegateStore } from './delegate-store';
import { DevJoin } from './dev-join';
import { DocumentsPanel } from './documents-panel';
import { PreJoin } from './pre-join';
import { Room } from './room';
import { useDelegateAnnouncements } from './use-announcements';
import { VotePanel } from './vote-panel';

const sessionParam = (): string | null => new URLSearchParams(window.location.search).get('session');

function Refused() {
  const { t } = useTranslation();
  const reasons = useDelegateStore((s) => s.reasons);
  return (
    <section className="panel refused" data-testid="refused" aria-labelledby="refused-heading">
      <h2 id="refused-heading">{t('delegate.refused.heading')}</h2>
      <ul>
        {reasons.map((r) => (
          <li key={r} data-reason={r}>
            {reasonMessage(t, r)}
          </li>
        ))}
      </ul>
      <p>
        <a href="/events">{t('delegate.backToEvents')}</a>
      </p>
    </section>
  );
}

const END_REASONS = new Set(['LEFT', 'SESSION_CLOSED', 'SERVER_SHUTDOWN', 'MEDIA_WORKER_DIED', 'DISCONNECTED', 'REPLACED', 'ACCREDITATION_REVOKED', 'REMOVED_BY_SECRETARIAT', 'LOBBY_DENIED']);

function Ended() {
  const { t } = useTranslation();
  const reason = useDelegateStore((s) => s.endReason) ?? 'DISCONNECTED';
  const check = useDelegateStore((s) => s.check);
  const sessionId = useDelegateStore((s) => s.sessionId);
  const token = useIdentityStore((s) => s.identity?.token);
  return (
    <section className="panel" data-testid="ended" data-reason={reason} aria-labelledby="ended-heading">
      <h2 id="ended-heading">{t('delegate.ended.heading')}</h2>
      <p>{END_REASONS.has(reason) ? t(`delegate.ended.${reason}`) : t('errors.generic', { code: reason })}</p>
      <p className="row">
        {token && sessionId && (
          <button type="button" onClick={() => void check(token, sessionId)} data-testid="rejoin">
            {t('delegate.ended.rejoin')}
          </button>
        )}
        <a href="/events">{t('delegate.backToEvents')}</a>
      </p>
    </section>
  );
}

function Waiting({ testId, text }: { testId: string; text: string }) {
  return (
    <p className="panel waiting" data-testid={testId} aria-busy="true">
      {text}
    </p>
  );
}

function Content() {
  const { t } = useTranslation();
  const phase = useDelegateStore((s) => s.phase);
  const error = useDelegateStore((s) => s.error);
  switch (phase) {
    case 'checking':
      return <Waiting testId="checking" text={t('delegate.checking')} />;
    case 'refused':
      return <Refused />;
    case 'error':
      return (
        <div className="alert" role="alert" data-testid="error" data-code={(error as { code?: string } | undefined)?.code ?? ''}>
          {errorMessage(t, error)}
        </div>
      );
    case 'prejoin':
      return <PreJoin />;
    case 'connecting':
      return <Waiting testId="connecting" text={t('delegate.connecting')} />;
    case 'lobby':
      return <Waiting testId="lobby-waiting" text={t('delegate.lobby')} />;
    case 'room':
      return (
        <>
          <VotePanel />
          <DocumentsPanel />
          <Room />
        </>
      );
    case 'ended':
      return <Ended />;
  }
}

export function DelegatePage() {
  const { t, i18n } = useTranslation();
  const token = useIdentityStore((s) => s.identity?.token);
  const check = useDelegateStore((s) => s.check);
  const sessionId = sessionParam();
  useDelegateAnnouncements();
  useEffect(() => {
    if (token && sessionId && !useDelegateStore.getState().dev) void check(token, sessionId);
  }, [token, sessionId, check]);
  useEffect(() => {
    document.title = `${t('delegate.title')} — ${t('app.name')}`;
  }, [t, i18n.language]);
  const dev = useDelegateStore((s) => s.dev);
  let body;
  if (dev) body = <Content />;
  else if (!sessionId) {
    body = (
      <>
        <p className="panel" data-testid="no-session">
          {t('delegate.noSession')} <a href="/events">{t('delegate.backToEvents')}</a>
        </p>
        <DevJoin room={null} />
      </>
    );
  } else if (!token) {
    body = (
      <>
        <SignInForm />
        <DevJoin room={sessionId} />
      </>
    );
  } else body = <Content />;
  return (
    <Layout title={t('delegate.title')}>
      <div className="delegate">{body}</div>
    </Layout>
  );
}

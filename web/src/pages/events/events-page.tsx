// /events: sign in, see the sessions one is accredited for, ask to join one and see the decision.
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import type { SessionSummary } from '../../../../client-sdk/src/accreditation-api';
import { errorMessage, reasonMessage } from '../../shared/api-errors';
import { languageName } from '../../shared/i18n';
import { Layout } from '../../shared/layout';
import { entityTypeLabel, roleLabel } from '../../shared/person-labels';
import { useIdentityStore } from '../../shared/identity-store';
import { announce } from '../../shared/live-region';
import { SignInForm } from '../../shared/sign-in';
import { useEventsStore, type Decision, type EventSessions } from './events-store';

function OwnAccreditation({ event }: { event: EventSessions }) {
  const { t } = useTranslation();
  const a = event.accreditation;
  return (
    <p className="own-accreditation" data-testid="accreditation" data-status={a?.status ?? 'none'}>
      <strong>{t('events.accreditation.label')}</strong>{' '}
      {a
        ? t('events.accreditation.summary', {
            status: t(`registrationStatus.${a.status}`),
            role: roleLabel(t, a.role),
            entity: a.entity.name,
            entityType: entityTypeLabel(t, a.entity.type),
          })
        : t('events.accreditation.none')}
    </p>
  );
}

function SessionTime({ session }: { session: SessionSummary }) {
  const { t, i18n } = useTranslation();
  if (!session.startsAt) return <>{t('events.session.notScheduled')}</>;
  const format = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'short' });
  const start = new Date(session.startsAt);
  return (
    <time dateTime={session.startsAt}>
      {session.endsAt ? format.formatRange(start, new Date(session.endsAt)) : format.format(start)}
    </time>
  );
}

function DecisionPanel({ decision }: { decision: Decision }) {
  const { t } = useTranslation();
  return (
    <div className="decision" data-testid="join-decision" data-decision={decision.decision}>
      <h3>{t('events.decision.heading', { title: decision.title })}</h3>
      <p>{t(`events.decision.${decision.decision}`)}</p>
      {decision.reasons.length > 0 && (
        <>
          <p>{t('events.decision.reasons')}</p>
          <ul>
            {decision.reasons.map((r) => (
              <li key={r} data-reason={r}>
                {reasonMessage(t, r)}
              </li>
            ))}
          </ul>
        </>
      )}
      {decision.enterAt && (
        <p>
          <a href={decision.enterAt} data-testid="enter">
            {t('events.decision.enter')}
          </a>
        </p>
      )}
    </div>
  );
}

function SessionItem({ session }: { session: SessionSummary }) {
  const { t, i18n } = useTranslation();
  const join = useEventsStore((s) => s.join);
  const token = useIdentityStore((s) => s.identity?.token);
  const joining = useEventsStore((s) => s.busy === 'joining');
  const decision = useEventsStore((s) => (s.decision?.sessionId === session.sessionId ? s.decision : undefined));
  const headingId = `session-${session.sessionId}`;
  return (
    <li className="session" data-testid="session" data-session-id={session.sessionId} data-status={session.status} aria-labelledby={headingId}>
      <div>
        <h3 id={headingId}>{session.title}</h3>
        <dl>
          <dt>{t('events.session.status')}</dt>
          <dd data-testid="session-status">{t(`events.statusValue.${session.status}`)}</dd>
          <dt>{t('events.session.time')}</dt>
          <dd>
            <SessionTime session={session} />
          </dd>
          <dt>{t('events.session.languages')}</dt>
          <dd>{session.languages.length ? new Intl.ListFormat(i18n.language, { type: 'unit' }).format(session.languages.map((l) => languageName(l, i18n.language))) : t('events.session.noLanguages')}</dd>
          <dt>{t('events.session.accreditation')}</dt>
          <dd data-testid="session-access" data-access={session.access}>
            {t(`events.session.access.${session.access}`)}
          </dd>
        </dl>
        {decision && <DecisionPanel decision={decision} />}
      </div>
      <div>
        <button type="button" disabled={joining} onClick={() => token && void join(token, session)} aria-describedby={headingId} data-testid="join">
          {t('events.session.join')}
        </button>
      </div>
    </li>
  );
}

function SessionList() {
  const { t } = useTranslation();
  const { events, busy } = useEventsStore();
  const identity = useIdentityStore((s) => s.identity);
  const signOut = useIdentityStore((s) => s.signOut);
  if (busy === 'loading') return <p>{t('events.loading')}</p>;
  if (!events) return null;
  return (
    <div>
      <p data-testid="signed-in-as">
        {t('signIn.signedInAs', { name: identity?.name })}{' '}
        <button type="button" className="link" onClick={signOut} data-testid="sign-out">
          {t('signIn.signOut')}
        </button>
      </p>
      {events.map((event) => (
        <section key={event.eventId} aria-labelledby={`event-${event.eventId}`}>
          <h2 id={`event-${event.eventId}`}>{event.title}</h2>
          <OwnAccreditation event={event} />
          {event.sessions.length === 0 ? (
            <p>{t('events.none')}</p>
          ) : (
            <ul className="sessions" data-testid="sessions">
              {event.sessions.map((s) => (
                <SessionItem key={s.sessionId} session={s} />
              ))}
            </ul>
          )}
        </section>
      ))}
    </div>
  );
}

/** Results go to the live region; errors to the alert region, whose role makes them heard at once. */
function useAnnouncements() {
  const { t } = useTranslation();
  const events = useEventsStore((s) => s.events);
  const decision = useEventsStore((s) => s.decision);
  const count = events?.reduce((n, e) => n + e.sessions.length, 0);
  useEffect(() => {
    if (count !== undefined) announce(t('events.loaded', { count }));
  }, [count, t]);
  useEffect(() => {
    if (decision) announce(`${decision.title}: ${t(`events.decision.${decision.decision}`)}`);
  }, [decision, t]);
}

export function EventsPage() {
  const { t, i18n } = useTranslation();
  const error = useEventsStore((s) => s.error);
  const load = useEventsStore((s) => s.load);
  const token = useIdentityStore((s) => s.identity?.token);
  useAnnouncements();
  useEffect(() => {
    if (token) void load(token);
  }, [token, load]);
  useEffect(() => {
    document.title = `${t('events.title')} — ${t('app.name')}`;
  }, [t, i18n.language]);
  return (
    <Layout title={t('events.title')}>
      <div className="alert" role="alert" data-testid="error" data-code={(error as { code?: string } | undefined)?.code ?? ''}>
        {error !== undefined ? errorMessage(t, error) : ''}
      </div>
      {token ? <SessionList /> : <SignInForm />}
    </Layout>
  );
}

// Sessions: the event's sessions, the one conducted, its lifecycle and lock, and a form to create or schedule one.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { languageName } from '../../shared/i18n';
import type { SessionRules } from './console-api';
import { UN_LANGUAGES } from './console-labels';
import { NEXT_ACTIONS, useConsoleStore, type LifecycleAction, type ScheduleInput } from './console-store';

/** An ISO time as a datetime-local value (local time, minutes), and back. */
const toLocalInput = (iso?: string) => {
  if (!iso) return '';
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
const fromLocalInput = (value: string) => (value ? new Date(value).toISOString() : undefined);

function SessionTime({ session }: { session: SessionRules }) {
  const { t, i18n } = useTranslation();
  if (!session.startsAt) return <>{t('console.sessions.notScheduled')}</>;
  const format = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'short' });
  return <time dateTime={session.startsAt}>{session.endsAt ? format.formatRange(new Date(session.startsAt), new Date(session.endsAt)) : format.format(new Date(session.startsAt))}</time>;
}

function ScheduleForm({ editing, onDone }: { editing?: SessionRules; onDone: () => void }) {
  const { t, i18n } = useTranslation();
  const schedule = useConsoleStore((s) => s.schedule);
  const busy = useConsoleStore((s) => s.busy);
  const [form, setForm] = useState<ScheduleInput>(() => ({
    sessionId: editing?.sessionId ?? '',
    title: editing?.title ?? '',
    startsAt: editing?.startsAt,
    endsAt: editing?.endsAt,
    lobby: editing?.lobby ?? false,
    floorControl: editing?.floorControl ?? true,
    languages: editing?.languages ?? [],
  }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await schedule(form)) onDone();
  };
  const toggleLanguage = (code: string, on: boolean) => setForm((f) => ({ ...f, languages: on ? [...f.languages, code] : f.languages.filter((l) => l !== code) }));
  return (
    <form className="schedule-form" onSubmit={(e) => void submit(e)} data-testid="schedule-form" aria-labelledby="schedule-heading">
      <h3 id="schedule-heading">{editing ? t('console.schedule.editHeading', { title: editing.title }) : t('console.schedule.newHeading')}</h3>
      <label>
        {t('console.schedule.sessionId')}
        <input required pattern="[A-Za-z0-9_\-][A-Za-z0-9._\-]{0,63}" maxLength={64} readOnly={!!editing} value={form.sessionId} onChange={(e) => setForm({ ...form, sessionId: e.target.value })} data-testid="schedule-session-id" aria-describedby="session-id-hint" />
      </label>
      <p id="session-id-hint" className="hint">{t('console.schedule.sessionIdHint')}</p>
      <label>
        {t('console.schedule.title')}
        <input required maxLength={200} value={form.title} onChange={(e) => setForm({ ...form, title: e.target.value })} data-testid="schedule-title" />
      </label>
      <label>
        {t('console.schedule.startsAt')}
        <input type="datetime-local" value={toLocalInput(form.startsAt)} onChange={(e) => setForm({ ...form, startsAt: fromLocalInput(e.target.value) })} data-testid="schedule-starts" />
      </label>
      <label>
        {t('console.schedule.endsAt')}
        <input type="datetime-local" value={toLocalInput(form.endsAt)} onChange={(e) => setForm({ ...form, endsAt: fromLocalInput(e.target.value) })} data-testid="schedule-ends" />
      </label>
      <label className="check">
        <input type="checkbox" checked={form.lobby} onChange={(e) => setForm({ ...form, lobby: e.target.checked })} data-testid="schedule-lobby" />
        {t('console.schedule.lobby')}
      </label>
      <label className="check">
        <input type="checkbox" checked={form.floorControl} onChange={(e) => setForm({ ...form, floorControl: e.target.checked })} data-testid="schedule-floor-control" />
        {t('console.schedule.floorControl')}
      </label>
      <fieldset>
        <legend>{t('console.schedule.languages')}</legend>
        {UN_LANGUAGES.map((code) => (
          <label key={code} className="check">
            <input type="checkbox" checked={form.languages.includes(code)} onChange={(e) => toggleLanguage(code, e.target.checked)} data-testid={`schedule-language-${code}`} />
            {languageName(code, i18n.language)}
          </label>
        ))}
      </fieldset>
      <div className="row">
        <button type="submit" disabled={busy} data-testid="schedule-save">
          {t('console.schedule.save')}
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          {t('console.schedule.cancel')}
        </button>
      </div>
    </form>
  );
}

function SelectedSession({ session, onEdit }: { session: SessionRules; onEdit: () => void }) {
  const { t } = useTranslation();
  const transition = useConsoleStore((s) => s.transition);
  const lock = useConsoleStore((s) => s.lock);
  const busy = useConsoleStore((s) => s.busy);
  const allowed = NEXT_ACTIONS[session.status];
  const actions: LifecycleAction[] = ['open', 'suspend', 'resume', 'close'];
  return (
    <div className="selected-session" data-testid="selected-session" data-session-id={session.sessionId} data-status={session.status}>
      <h3>{t('console.sessions.conducting', { title: session.title })}</h3>
      <p>
        {t('console.sessions.status')}: <strong data-testid="selected-status">{t(`console.status.${session.status}`)}</strong>
      </p>
      <div className="row" role="group" aria-label={t('console.sessions.lifecycle')}>
        {actions.map((action) => (
          <button key={action} type="button" className={action === 'close' ? 'danger' : undefined} disabled={busy || !allowed.includes(action)} onClick={() => void transition(session.sessionId, action)} data-testid={`lifecycle-${action}`}>
            {t(`console.lifecycle.${action}`)}
          </button>
        ))}
        <label className="check">
          <input type="checkbox" checked={session.locked} disabled={busy} onChange={(e) => void lock(session.sessionId, e.target.checked)} data-testid="lock" />
          {t('console.sessions.locked')}
        </label>
        <button type="button" className="secondary" onClick={onEdit} data-testid="edit-schedule">
          {t('console.sessions.edit')}
        </button>
      </div>
    </div>
  );
}

export function SessionsPanel() {
  const { t } = useTranslation();
  const sessions = useConsoleStore((s) => s.sessions);
  const selected = useConsoleStore((s) => s.selected);
  const select = useConsoleStore((s) => s.select);
  const [form, setForm] = useState<'new' | 'edit' | undefined>();
  const current = sessions?.find((s) => s.sessionId === selected);
  if (!sessions) return null;
  return (
    <section aria-labelledby="sessions-heading" className="panel" data-testid="sessions-panel">
      <h2 id="sessions-heading">{t('console.sessions.heading')}</h2>
      <table className="data" data-testid="sessions">
        <caption className="visually-hidden">{t('console.sessions.heading')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('console.sessions.title')}</th>
            <th scope="col">{t('console.sessions.status')}</th>
            <th scope="col">{t('console.sessions.time')}</th>
            <th scope="col">{t('console.sessions.lobby')}</th>
            <th scope="col">
              <span className="visually-hidden">{t('console.sessions.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {sessions.map((s) => (
            <tr key={s.sessionId} data-testid="session-row" data-session-id={s.sessionId} data-status={s.status} aria-current={s.sessionId === selected ? 'true' : undefined}>
              <th scope="row">{s.title}</th>
              <td data-testid="session-status">{t(`console.status.${s.status}`)}</td>
              <td>
                <SessionTime session={s} />
              </td>
              <td>{s.lobby ? t('console.yes') : t('console.no')}</td>
              <td>
                <button type="button" className="secondary" onClick={() => select(s.sessionId)} disabled={s.sessionId === selected} aria-label={t('console.sessions.conductNamed', { title: s.title })} data-testid="conduct-session">
                  {t('console.sessions.conduct')}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!form && (
        <button type="button" onClick={() => setForm('new')} data-testid="new-session">
          {t('console.sessions.new')}
        </button>
      )}
      {form && <ScheduleForm key={form === 'edit' ? current?.sessionId : 'new'} editing={form === 'edit' ? current : undefined} onDone={() => setForm(undefined)} />}
      {current && <SelectedSession session={current} onEdit={() => setForm('edit')} />}
    </section>
  );
}

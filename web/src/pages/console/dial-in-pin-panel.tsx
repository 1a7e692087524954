// Phone dial-in (server/http/dial-in-routes.ts): the sessions' dial-in numbers, and personal dial-in PINs.
// The secretariat issues a person's PIN (shown here once, to be given to them: the server keeps only a keyed
// hash), replaces or revokes it, and sees who has one and since when. Refusals are shown by their stable code.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { useIdentityStore } from '../../shared/identity-store';
import { announce } from '../../shared/live-region';
import { ApiError } from './console-api';
import { consoleError, errorCodeOf, personLabel } from './console-labels';
import { useConsoleStore } from './console-store';

interface PinStatus {
  personId: string;
  issuedAt: string;
  /** A person id, or `admin-api-key`. */
  issuedBy: string;
}
interface IssuedPin extends PinStatus {
  pin: string;
}
interface Person {
  personId: string;
  name: string;
  entity: { name: string };
}

const DIAL_IN_CODES = new Set(['NOT_FOUND', 'NOT_SUPPORTED']);

/** The dial-in admin calls of one event, with the identity token as Bearer. */
function dialInApi(token: string, eventId: string) {
  const base = `/api/admin/events/${encodeURIComponent(eventId)}`;
  const call = async <T,>(path: string, method = 'GET'): Promise<T> => {
    const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
      throw new ApiError(body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? res.statusText);
    }
    return (res.status === 204 ? undefined : await res.json()) as T;
  };
  const person = (personId: string) => `/people/${encodeURIComponent(personId)}/dial-in-pin`;
  return {
    pins: () => call<{ pins: PinStatus[] }>('/dial-in-pins'),
    /** The event's registrations (the embedded registry); a CRM's are not listed (NOT_SUPPORTED). */
    people: () => call<{ registrations: Person[] }>('/registrations'),
    issue: (personId: string) => call<IssuedPin>(person(personId), 'POST'),
    revoke: (personId: string) => call<void>(person(personId), 'DELETE'),
  };
}

function dialInError(t: TFunction, error: unknown): string {
  const code = errorCodeOf(error);
  return DIAL_IN_CODES.has(code) ? t(`dialIn.errors.${code}`) : consoleError(t, error);
}

/** Four digits at a time on screen; one by one for a screen reader. */
const grouped = (pin: string) => pin.replace(/(\d{4})(?=\d)/g, '$1 ');
const spelled = (pin: string) => pin.split('').join(' ');

function Numbers() {
  const { t } = useTranslation();
  const sessions = useConsoleStore((s) => s.sessions) ?? [];
  const numbered = sessions.flatMap((s) => {
    const number = (s.dialIn as { number?: string } | undefined)?.number;
    return number ? [{ sessionId: s.sessionId, title: s.title, number }] : [];
  });
  return (
    <>
      <h3 id="dial-in-numbers-heading">{t('dialIn.numbers')}</h3>
      {numbered.length === 0 ? (
        <p data-testid="dial-in-no-numbers">{t('dialIn.noNumbers')}</p>
      ) : (
        <ul aria-labelledby="dial-in-numbers-heading" data-testid="dial-in-numbers">
          {numbered.map((s) => (
            <li key={s.sessionId} data-session-id={s.sessionId}>
              {t('dialIn.numberOf', { title: s.title, number: s.number })}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

export function DialInPinPanel() {
  const { t, i18n } = useTranslation();
  const token = useIdentityStore((s) => s.identity?.token);
  const eventId = useConsoleStore((s) => s.api?.eventId);
  const [pins, setPins] = useState<PinStatus[]>([]);
  const [people, setPeople] = useState<Person[] | null>(null);
  const [chosen, setChosen] = useState('');
  const [issued, setIssued] = useState<IssuedPin>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const api = token && eventId ? dialInApi(token, eventId) : undefined;

  const load = useCallback(async () => {
    if (!token || !eventId) return;
    const calls = dialInApi(token, eventId);
    try {
      setPins((await calls.pins()).pins);
      // Without a list (a CRM holds the registrations), the person is named by their id.
      setPeople(await calls.people().then((r) => r.registrations, () => null));
    } catch (e) {
      setError(e);
    }
  }, [token, eventId]);
  useEffect(() => {
    void load();
  }, [load]);

  const nameOf = (personId: string) => {
    const p = people?.find((x) => x.personId === personId);
    return p ? personLabel(t, p) : personId;
  };
  const byOf = (issuedBy: string) => (issuedBy === 'admin-api-key' ? t('dialIn.byApiKey') : nameOf(issuedBy));
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const issue = (personId: string) =>
    run(async () => {
      const pin = await api!.issue(personId);
      setIssued(pin);
      announce(t('dialIn.issued', { person: nameOf(personId) }));
      setPins((await api!.pins()).pins);
    });
  const revoke = (personId: string) =>
    run(async () => {
      await api!.revoke(personId);
      if (issued?.personId === personId) setIssued(undefined);
      announce(t('dialIn.revoked', { person: nameOf(personId) }));
      setPins((await api!.pins()).pins);
    });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (chosen.trim()) void issue(chosen.trim());
  };
  const time = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'short' });

  return (
    <section className="panel dial-in-panel" aria-labelledby="dial-in-heading" data-testid="dial-in-panel">
      <h2 id="dial-in-heading">{t('dialIn.heading')}</h2>
      <p className="hint">{t('dialIn.intro')}</p>
      <Numbers />

      <form className="schedule-form" onSubmit={submit} aria-labelledby="dial-in-issue-heading" data-testid="dial-in-issue-form">
        <h3 id="dial-in-issue-heading">{t('dialIn.issueHeading')}</h3>
        <label htmlFor="dial-in-person">{t('dialIn.person')}</label>
        {people ? (
          <select id="dial-in-person" required value={chosen} onChange={(e) => setChosen(e.target.value)} data-testid="dial-in-person">
            <option value="">{t('dialIn.choose')}</option>
            {people.map((p) => (
              <option key={p.personId} value={p.personId}>
                {personLabel(t, p)}
              </option>
            ))}
          </select>
        ) : (
          <input id="dial-in-person" required maxLength={128} pattern="[A-Za-z0-9_\-][A-Za-z0-9._:@+\-]{0,127}" value={chosen} onChange={(e) => setChosen(e.target.value)} aria-describedby="dial-in-person-hint" data-testid="dial-in-person" />
        )}
        {!people && (
          <p id="dial-in-person-hint" className="hint">
            {t('dialIn.personIdHint')}
          </p>
        )}
        <div className="row">
          <button type="submit" disabled={busy || !api} data-testid="dial-in-issue">
            {t('dialIn.issue')}
          </button>
        </div>
      </form>

      {issued && (
        <div className="dial-in-issued" data-testid="dial-in-issued" data-person-id={issued.personId}>
          <h3 id="dial-in-issued-heading">{t('dialIn.issuedHeading', { person: nameOf(issued.personId) })}</h3>
          <p>
            {t('dialIn.pinLabel')}{' '}
            <output className="dial-in-pin" aria-label={spelled(issued.pin)} data-testid="dial-in-pin">
              {grouped(issued.pin)}
            </output>
          </p>
          <p className="hint">{t('dialIn.shownOnce')}</p>
          <button type="button" className="secondary" onClick={() => setIssued(undefined)} data-testid="dial-in-hide">
            {t('dialIn.hide')}
          </button>
        </div>
      )}

      <div className="alert" role="alert" data-testid="dial-in-error" data-code={errorCodeOf(error)}>
        {error !== undefined ? dialInError(t, error) : ''}
      </div>

      <h3 id="dial-in-list-heading">{t('dialIn.list')}</h3>
      <div className="row">
        <button type="button" className="secondary" onClick={() => void load()} disabled={busy} data-testid="dial-in-refresh">
          {t('dialIn.refresh')}
        </button>
      </div>
      {pins.length === 0 ? (
        <p data-testid="dial-in-none">{t('dialIn.none')}</p>
      ) : (
        <table className="data" aria-labelledby="dial-in-list-heading" data-testid="dial-in-list">
          <thead>
            <tr>
              <th scope="col">{t('dialIn.person')}</th>
              <th scope="col">{t('dialIn.issuedAt')}</th>
              <th scope="col">{t('dialIn.issuedBy')}</th>
              <th scope="col">{t('dialIn.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {pins.map((p) => (
              <tr key={p.personId} data-person-id={p.personId}>
                <th scope="row">{nameOf(p.personId)}</th>
                <td>
                  <time dateTime={p.issuedAt}>{time.format(new Date(p.issuedAt))}</time>
                </td>
                <td>{byOf(p.issuedBy)}</td>
                <td>
                  <div className="row">
                    <button type="button" className="secondary" disabled={busy} onClick={() => void issue(p.personId)} aria-label={t('dialIn.replaceFor', { person: nameOf(p.personId) })} data-testid="dial-in-replace">
                      {t('dialIn.replace')}
                    </button>
                    <button type="button" className="danger" disabled={busy} onClick={() => void revoke(p.personId)} aria-label={t('dialIn.revokeFor', { person: nameOf(p.personId) })} data-testid="dial-in-revoke">
                      {t('dialIn.revoke')}
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

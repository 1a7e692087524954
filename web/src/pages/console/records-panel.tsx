// Records: the quorum by entity type, attendance (summary and CSV export), the audit trail with filters,
// and the state of outgoing webhook deliveries. All from the admin API with the identity token.
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { announce } from '../../shared/live-region';
import { saveBlob, type AttendanceSummary, type AuditFilter, type AuditRecord, type DeliveryState, type QuorumView, type WebhooksPage } from './console-api';
import { AUDIT_DECISIONS, auditReasonLabel, consoleError, decisionLabel, entityTypeLabel, errorCodeOf, roleLabel, sourceLabel } from './console-labels';
import { useConsoleStore } from './console-store';
import { useRoomStore } from './room-store';

const STATES: DeliveryState[] = ['pending', 'retrying', 'delivered', 'failed'];

function useDateFormat() {
  const { i18n } = useTranslation();
  const format = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'short', timeStyle: 'medium' });
  return (iso: string | null | undefined) => (iso ? format.format(new Date(iso)) : '—');
}

/** One section's load: its data, its error (with its code), and a reload. */
function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const run = useCallback(async () => {
    setError(undefined);
    try {
      setData(await load());
    } catch (e) {
      setError(e);
    }
  }, deps); // the caller names what the load depends on
  useEffect(() => void run(), [run]);
  return { data, error, run, setData };
}

/** `value`, but changing at most once per `ms` (the last change always lands): a join storm is one reload. */
function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = Math.max(0, last.current + ms - Date.now());
    const timer = setTimeout(() => {
      last.current = Date.now();
      setShown(value);
    }, wait);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return shown;
}

function SectionError({ error, testId }: { error: unknown; testId: string }) {
  const { t } = useTranslation();
  return (
    <div className="alert" role="alert" data-testid={testId} data-code={errorCodeOf(error)}>
      {error !== undefined ? consoleError(t, error) : ''}
    </div>
  );
}

function Quorum({ sessionId }: { sessionId: string }) {
  const { t } = useTranslation();
  const api = useConsoleStore((s) => s.api)!;
  const live = useThrottled(useRoomStore((s) => s.quorum), 2000);
  // The live view says something changed; the route adds listeners on other nodes.
  const { data, error } = useLoad<QuorumView>(() => api.quorum(sessionId), [api, sessionId, live]);
  return (
    <div data-testid="quorum">
      <h3>{t('console.records.quorum')}</h3>
      <SectionError error={error} testId="quorum-error" />
      {data && (
        <table className="data">
          <caption className="visually-hidden">{t('console.records.quorum')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('console.records.entityType')}</th>
              <th scope="col">{t('console.records.count')}</th>
              <th scope="col">{t('console.records.entities')}</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(data.byType).map(([type, b]) => (
              <tr key={type} data-testid="quorum-type" data-type={type} data-count={b.count}>
                <th scope="row">{entityTypeLabel(t, type)}</th>
                <td>{b.count}</td>
                <td>{b.entities.join(', ')}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">{t('console.records.total')}</th>
              <td data-testid="quorum-total">{data.total}</td>
              <td />
            </tr>
          </tfoot>
        </table>
      )}
    </div>
  );
}

function Attendance({ sessionId }: { sessionId: string }) {
  const { t } = useTranslation();
  const api = useConsoleStore((s) => s.api)!;
  const live = useThrottled(useRoomStore((s) => s.quorum), 2000);
  const summary = useLoad<AttendanceSummary>(() => api.attendanceSummary(sessionId), [api, sessionId, live]);
  const [downloadError, setDownloadError] = useState<unknown>();
  const download = async () => {
    setDownloadError(undefined);
    try {
      saveBlob(await api.attendanceCsv(sessionId), `attendance-${sessionId}.csv`);
      announce(t('console.records.downloaded'));
    } catch (e) {
      setDownloadError(e);
    }
  };
  const s = summary.data;
  return (
    <div data-testid="attendance">
      <h3>{t('console.records.attendance')}</h3>
      <SectionError error={summary.error ?? downloadError} testId="attendance-error" />
      {s && (
        <p data-testid="attendance-summary">
          {t('console.records.present', { participants: s.participants.total, listeners: s.listeners.total })}{' '}
          {Object.entries(s.participants.byEntityType)
            .map(([type, n]) => `${entityTypeLabel(t, type)}: ${n}`)
            .join(' · ')}
        </p>
      )}
      <button type="button" onClick={() => void download()} data-testid="attendance-download">
        {t('console.records.download')}
      </button>
    </div>
  );
}

function Audit({ sessionId }: { sessionId: string }) {
  const { t } = useTranslation();
  const api = useConsoleStore((s) => s.api)!;
  const date = useDateFormat();
  const [filter, setFilter] = useState<AuditFilter>({ sessionId });
  const [records, setRecords] = useState<AuditRecord[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<unknown>();
  const load = useCallback(
    async (cursor?: number) => {
      setError(undefined);
      try {
        const page = await api.audit(filter, cursor);
        setRecords((r) => (cursor ? [...r, ...page.records] : page.records));
        setNext(page.nextCursor);
      } catch (e) {
        setError(e);
      }
    },
    [api, filter],
  );
  useEffect(() => void load(), [load]);
  return (
    <div data-testid="audit">
      <h3>{t('console.audit.heading')}</h3>
      <div className="filters" role="search" aria-label={t('console.audit.filters')}>
        <label className="check">
          <input type="checkbox" checked={filter.sessionId !== undefined} onChange={(e) => setFilter({ ...filter, sessionId: e.target.checked ? sessionId : undefined })} data-testid="audit-this-session" />
          {t('console.audit.thisSession')}
        </label>
        <label>
          {t('console.audit.decision')}
          <select value={filter.decision ?? ''} onChange={(e) => setFilter({ ...filter, decision: e.target.value || undefined })} data-testid="audit-decision">
            <option value="">{t('console.audit.allDecisions')}</option>
            {AUDIT_DECISIONS.map((d) => (
              <option key={d} value={d}>
                {decisionLabel(t, d)}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="secondary" onClick={() => void load()} data-testid="audit-refresh">
          {t('console.records.refresh')}
        </button>
      </div>
      <SectionError error={error} testId="audit-error" />
      {records.length === 0 ? (
        <p data-testid="audit-empty">{t('console.audit.empty')}</p>
      ) : (
        <table className="data" data-testid="audit-records">
          <caption className="visually-hidden">{t('console.audit.heading')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('console.audit.at')}</th>
              <th scope="col">{t('console.audit.person')}</th>
              <th scope="col">{t('console.audit.decision')}</th>
              <th scope="col">{t('console.audit.reasons')}</th>
              <th scope="col">{t('console.audit.source')}</th>
            </tr>
          </thead>
          <tbody>
            {records.map((r, i) => (
              <tr key={r.id ?? `${r.at}-${i}`} data-testid="audit-record" data-decision={r.decision} data-person-id={r.personId ?? ''}>
                <td>{date(r.at)}</td>
                <td>
                  {r.name ? t('console.person', { name: r.name, entity: r.entity ?? '' }) : (r.personId ?? '—')}
                  {r.role ? ` · ${roleLabel(t, r.role)}` : ''}
                </td>
                <td>{decisionLabel(t, r.decision)}</td>
                <td>{r.reasons.map((reason) => auditReasonLabel(t, reason)).join(' ')}</td>
                <td>{r.actor ? t('console.audit.by', { source: sourceLabel(t, r.source), actor: r.actor }) : sourceLabel(t, r.source)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next !== null && (
        <button type="button" className="secondary" onClick={() => void load(next)} data-testid="audit-more">
          {t('console.records.more')}
        </button>
      )}
    </div>
  );
}

function Webhooks() {
  const { t } = useTranslation();
  const api = useConsoleStore((s) => s.api)!;
  const date = useDateFormat();
  const [state, setState] = useState<DeliveryState | ''>('');
  const { data, error, run, setData } = useLoad<WebhooksPage>(() => api.webhooks({ state: state || undefined }), [api, state]);
  const more = async () => {
    if (!data?.nextCursor) return;
    const page = await api.webhooks({ state: state || undefined, cursor: data.nextCursor });
    setData({ ...page, deliveries: [...data.deliveries, ...page.deliveries] });
  };
  return (
    <div data-testid="webhooks">
      <h3>{t('console.webhooks.heading')}</h3>
      <SectionError error={error} testId="webhooks-error" />
      {data && !data.configured && <p data-testid="webhooks-off">{t('console.webhooks.notConfigured')}</p>}
      {data && (
        <dl className="counts" data-testid="webhook-counts">
          {STATES.map((s) => (
            <div key={s} data-state={s} data-count={data.counts[s]}>
              <dt>{t(`console.webhooks.state.${s}`)}</dt>
              <dd>{data.counts[s]}</dd>
            </div>
          ))}
        </dl>
      )}
      <div className="filters">
        <label>
          {t('console.webhooks.filter')}
          <select value={state} onChange={(e) => setState(e.target.value as DeliveryState | '')} data-testid="webhooks-state">
            <option value="">{t('console.webhooks.allStates')}</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {t(`console.webhooks.state.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="secondary" onClick={() => void run()} data-testid="webhooks-refresh">
          {t('console.records.refresh')}
        </button>
      </div>
      {data && data.deliveries.length > 0 && (
        <table className="data" data-testid="webhook-deliveries">
          <caption className="visually-hidden">{t('console.webhooks.heading')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('console.webhooks.at')}</th>
              <th scope="col">{t('console.webhooks.type')}</th>
              <th scope="col">{t('console.webhooks.session')}</th>
              <th scope="col">{t('console.webhooks.stateColumn')}</th>
              <th scope="col">{t('console.webhooks.attempts')}</th>
              <th scope="col">{t('console.webhooks.nextAttempt')}</th>
              <th scope="col">{t('console.webhooks.lastError')}</th>
            </tr>
          </thead>
          <tbody>
            {data.deliveries.map((d) => (
              <tr key={d.deliveryId} data-testid="webhook-delivery" data-state={d.state}>
                <td>{date(d.createdAt)}</td>
                <td>
                  <code>{d.type}</code>
                </td>
                <td>{d.sessionId}</td>
                <td>{t(`console.webhooks.state.${d.state}`)}</td>
                <td>{d.attempts}</td>
                <td>{date(d.nextAttemptAt)}</td>
                <td>{d.lastError ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data?.nextCursor != null && (
        <button type="button" className="secondary" onClick={() => void more()} data-testid="webhooks-more">
          {t('console.records.more')}
        </button>
      )}
    </div>
  );
}

export function RecordsPanel({ sessionId }: { sessionId: string }) {
  const { t } = useTranslation();
  return (
    <section aria-labelledby="records-heading" className="panel" data-testid="records-panel">
      <h2 id="records-heading">{t('console.records.heading')}</h2>
      <Quorum sessionId={sessionId} />
      <Attendance sessionId={sessionId} />
      <Audit sessionId={sessionId} />
      <Webhooks />
    </section>
  );
}

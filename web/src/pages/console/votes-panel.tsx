// The console's votes: open a vote (question, kind, who may vote, candidates and seats, duration, quorum),
// conduct it (the live count, a roll-call's entity called with Pass, Close), its results with exports, the
// session's past votes, and who casts an entity's vote besides its head of delegation.
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { VoteKind, VoteView } from '../../../../protocol/signaling';
import { useIdentityStore } from '../../shared/identity-store';
import { announce } from '../../shared/live-region';
import { entityTypeLabel } from '../../shared/person-labels';
import { closedAnnouncement, voteError, voteKindLabel } from '../delegate/vote-labels';
import { VoteResults } from '../delegate/vote-results';
import { VoteTimer } from '../delegate/vote-timer';
import '../delegate/vote.css';
import { saveBlob } from './console-api';
import { consoleError, errorCodeOf } from './console-labels';
import { useConsoleStore } from './console-store';
import { VotesApi } from './votes-api';
import { useVotesStore } from './votes-store';

const KINDS: VoteKind[] = ['recorded', 'roll_call', 'secret'];
const VOTING_TYPES = ['member_state', 'observer_state', 'sector_member', 'associate', 'intergovernmental_organization', 'non_governmental_organization'];
const VOTE_CODES = new Set(['VOTE_ALREADY_OPEN', 'VOTE_CLOSED', 'VOTE_ALREADY_CAST', 'VOTE_NOT_ENTITLED', 'VOTE_NOT_CALLED', 'QUORUM_NOT_MET']);

function useVotesApi(): VotesApi | undefined {
  const token = useIdentityStore((s) => s.identity?.token);
  const eventId = useConsoleStore((s) => s.api?.eventId);
  const [api, setApi] = useState<VotesApi>();
  useEffect(() => setApi(token && eventId ? new VotesApi(token, eventId) : undefined), [token, eventId]);
  return api;
}

function VoteErrorAlert({ error, testId }: { error: unknown; testId: string }) {
  const { t } = useTranslation();
  const code = errorCodeOf(error);
  return (
    <div className="alert" role="alert" data-testid={testId} data-code={code}>
      {error === undefined ? '' : VOTE_CODES.has(code) ? voteError(t, code) : consoleError(t, error)}
    </div>
  );
}

function OpenVoteForm() {
  const { t } = useTranslation();
  const open = useVotesStore((s) => s.open);
  const busy = useVotesStore((s) => s.busy);
  const [question, setQuestion] = useState('');
  const [kind, setKind] = useState<VoteKind>('recorded');
  const [types, setTypes] = useState<string[]>(['member_state']);
  const [candidates, setCandidates] = useState('');
  const [seats, setSeats] = useState(1);
  const [minutes, setMinutes] = useState(5);
  const [quorum, setQuorum] = useState(0);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const names = candidates.split('\n').map((c) => c.trim()).filter(Boolean);
    const ok = await open({
      question: question.trim(),
      kind,
      eligibleEntityTypes: types,
      durationSeconds: Math.round(minutes * 60),
      quorum,
      ...(kind === 'secret' ? { candidates: names, seats } : {}),
    });
    if (ok) setQuestion('');
  };
  return (
    <form className="schedule-form" onSubmit={(e) => void submit(e)} data-testid="open-vote-form" aria-labelledby="open-vote-heading">
      <h3 id="open-vote-heading">{t('votes.console.open')}</h3>
      <label>
        {t('votes.console.question')}
        <input required maxLength={1000} value={question} onChange={(e) => setQuestion(e.target.value)} data-testid="vote-question-input" />
      </label>
      <label>
        {t('votes.console.kindField')}
        <select value={kind} onChange={(e) => setKind(e.target.value as VoteKind)} data-testid="vote-kind-select">
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {voteKindLabel(t, k)}
            </option>
          ))}
        </select>
      </label>
      <fieldset>
        <legend>{t('votes.console.eligible')}</legend>
        {VOTING_TYPES.map((type) => (
          <label key={type} className="check">
            <input
              type="checkbox"
              checked={types.includes(type)}
              disabled={types.length === 1 && types[0] === type}
              onChange={(e) => setTypes((ts) => (e.target.checked ? [...ts, type] : ts.filter((x) => x !== type)))}
              data-testid={`vote-eligible-${type}`}
            />
            {entityTypeLabel(t, type)}
          </label>
        ))}
      </fieldset>
      {kind === 'secret' && (
        <>
          <label>
            {t('votes.console.candidatesField')}
            <textarea required value={candidates} onChange={(e) => setCandidates(e.target.value)} data-testid="vote-candidates-input" />
          </label>
          <label>
            {t('votes.console.seatsField')}
            <input type="number" min={1} max={100} required value={seats} onChange={(e) => setSeats(Number(e.target.value))} data-testid="vote-seats-input" />
          </label>
        </>
      )}
      <label>
        {t('votes.console.duration')}
        <input type="number" min={1} max={1440} step={1} required value={minutes} onChange={(e) => setMinutes(Number(e.target.value))} data-testid="vote-duration-input" />
      </label>
      <label>
        {t('votes.console.quorum')}
        <input type="number" min={0} max={10000} required value={quorum} onChange={(e) => setQuorum(Number(e.target.value))} data-testid="vote-quorum-input" />
      </label>
      <div className="row">
        <button type="submit" disabled={busy} data-testid="open-vote">
          {t('votes.console.submit')}
        </button>
      </div>
    </form>
  );
}

/** Saves a closed vote's results as a file, through the admin API with the identity token. */
function useExport(sessionId: string) {
  const { t } = useTranslation();
  const api = useVotesApi();
  const [error, setError] = useState<unknown>();
  const download = async (vote: VoteView, format: 'csv' | 'json') => {
    if (!api) return;
    setError(undefined);
    try {
      saveBlob(await api.results(sessionId, vote.voteId, format), `vote-${sessionId}-${vote.voteId}.${format}`);
      announce(t('votes.console.downloaded'));
    } catch (e) {
      setError(e);
    }
  };
  return { download, error };
}

function CurrentVote({ vote, sessionId }: { vote: VoteView; sessionId: string }) {
  const { t, i18n } = useTranslation();
  const busy = useVotesStore((s) => s.busy);
  const pass = useVotesStore((s) => s.pass);
  const close = useVotesStore((s) => s.close);
  const { download, error } = useExport(sessionId);
  const number = new Intl.NumberFormat(i18n.language);
  const open = vote.status === 'open';
  return (
    <div className="vote-panel current-vote" data-testid="current-vote" data-vote-id={vote.voteId} data-status={vote.status} data-kind={vote.kind} aria-labelledby="current-vote-heading" role="group">
      <h3 id="current-vote-heading">{open ? t('votes.console.current') : t('votes.results')}</h3>
      <p className="vote-question" data-testid="vote-question">
        {vote.question}
      </p>
      <p data-testid="vote-kind">{t('votes.kindLabel', { kind: voteKindLabel(t, vote.kind) })}</p>
      {open && <VoteTimer vote={vote} />}
      <p data-testid="vote-progress" data-cast={vote.cast} data-entitled={vote.entitled}>
        {t('votes.progress', { cast: number.format(vote.cast), entitled: number.format(vote.entitled) })}
      </p>
      {open && vote.kind === 'roll_call' && (
        <p className="row" data-testid="vote-called" data-entity={vote.called ?? ''}>
          {vote.called ? t('votes.called', { entity: vote.called }) : t('votes.rollCallEnded')}
          {vote.called && (
            <button type="button" className="secondary" onClick={() => void pass()} disabled={busy} data-testid="vote-pass">
              {t('votes.console.pass')}
            </button>
          )}
        </p>
      )}
      {open && (
        <div className="row">
          <button type="button" className="danger" onClick={() => void close()} disabled={busy} data-testid="vote-close">
            {t('votes.console.close')}
          </button>
        </div>
      )}
      {!open && vote.result && (
        <>
          <VoteResults result={vote.result} headingLevel={4} />
          <div className="row">
            <button type="button" className="secondary" onClick={() => void download(vote, 'csv')} data-testid="vote-export-csv">
              {t('votes.console.exportCsv')}
            </button>
            <button type="button" className="secondary" onClick={() => void download(vote, 'json')} data-testid="vote-export-json">
              {t('votes.console.exportJson')}
            </button>
          </div>
          {error !== undefined && <VoteErrorAlert error={error} testId="vote-export-error" />}
        </>
      )}
    </div>
  );
}

function PastVotes({ sessionId }: { sessionId: string }) {
  const { t, i18n } = useTranslation();
  const api = useVotesApi();
  const closedCount = useVotesStore((s) => s.closedCount);
  const currentId = useVotesStore((s) => s.vote?.voteId);
  const [votes, setVotes] = useState<VoteView[]>();
  const [error, setError] = useState<unknown>();
  const { download, error: exportError } = useExport(sessionId);
  useEffect(() => {
    if (!api) return;
    let live = true;
    api.list(sessionId).then(
      (v) => live && (setVotes(v), setError(undefined)),
      (e: unknown) => live && setError(e),
    );
    return () => void (live = false);
  }, [api, sessionId, closedCount, currentId]);
  const date = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'short', timeStyle: 'short' });
  return (
    <div data-testid="past-votes">
      <h3 id="past-votes-heading">{t('votes.console.past')}</h3>
      {error !== undefined && <VoteErrorAlert error={error} testId="past-votes-error" />}
      {exportError !== undefined && <VoteErrorAlert error={exportError} testId="past-export-error" />}
      {votes && votes.length === 0 && <p data-testid="past-votes-empty">{t('votes.console.none')}</p>}
      {votes && votes.length > 0 && (
        <table className="data" aria-labelledby="past-votes-heading">
          <thead>
            <tr>
              <th scope="col">{t('votes.console.question')}</th>
              <th scope="col">{t('votes.console.kindField')}</th>
              <th scope="col">{t('votes.console.status')}</th>
              <th scope="col">{t('votes.console.openedAt')}</th>
              <th scope="col">{t('votes.console.export')}</th>
            </tr>
          </thead>
          <tbody>
            {votes.map((v) => (
              <tr key={v.voteId} data-testid="past-vote" data-vote-id={v.voteId} data-status={v.status}>
                <th scope="row">{v.question}</th>
                <td>{voteKindLabel(t, v.kind)}</td>
                <td>{v.status === 'open' ? t('votes.console.statusOpen') : t('votes.console.statusClosed')}</td>
                <td>{date.format(new Date(v.openedAt))}</td>
                <td>
                  {v.status === 'closed' && (
                    <span className="row">
                      <button type="button" className="link" onClick={() => void download(v, 'csv')} aria-label={t('votes.console.exportCsvNamed', { question: v.question })}>
                        CSV
                      </button>
                      <button type="button" className="link" onClick={() => void download(v, 'json')} aria-label={t('votes.console.exportJsonNamed', { question: v.question })}>
                        JSON
                      </button>
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function DesignateForm() {
  const { t } = useTranslation();
  const api = useVotesApi();
  const [entity, setEntity] = useState('');
  const [personId, setPersonId] = useState('');
  const [done, setDone] = useState<{ entity: string; personId: string }>();
  const [error, setError] = useState<unknown>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!api) return;
    setError(undefined);
    setDone(undefined);
    try {
      await api.designate(entity.trim(), personId.trim());
      const d = { entity: entity.trim(), personId: personId.trim() };
      setDone(d);
      announce(t('votes.console.designated', d));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form className="schedule-form" onSubmit={(e) => void submit(e)} data-testid="designate-form" aria-labelledby="designate-heading">
      <h3 id="designate-heading">{t('votes.console.designate')}</h3>
      <p className="hint">{t('votes.console.designateHint')}</p>
      <label>
        {t('votes.console.designateEntity')}
        <input required maxLength={200} value={entity} onChange={(e) => setEntity(e.target.value)} data-testid="designate-entity" />
      </label>
      <label>
        {t('votes.console.designatePerson')}
        <input required maxLength={128} value={personId} onChange={(e) => setPersonId(e.target.value)} data-testid="designate-person" />
      </label>
      <div className="row">
        <button type="submit" data-testid="designate-submit">
          {t('votes.console.designateSubmit')}
        </button>
      </div>
      {done && (
        <p data-testid="designated" data-entity={done.entity} data-person-id={done.personId}>
          {t('votes.console.designated', done)}
        </p>
      )}
      {error !== undefined && <VoteErrorAlert error={error} testId="designate-error" />}
    </form>
  );
}

/** Opened and closed votes go to the live region (the count does not: it would never stop talking). */
function useVoteAnnouncements(vote: VoteView | undefined) {
  const { t } = useTranslation();
  const key = vote ? `${vote.voteId}:${vote.status}` : '';
  useEffect(() => {
    if (!vote) return;
    announce(vote.status === 'open' ? t('votes.announce.opened', { question: vote.question, kind: voteKindLabel(t, vote.kind) }) : closedAnnouncement(t, vote));
  }, [key]); // opening and closing only
}

export function VotesPanel({ sessionId }: { sessionId: string }) {
  const { t } = useTranslation();
  const vote = useVotesStore((s) => s.vote);
  const error = useVotesStore((s) => s.error);
  useVoteAnnouncements(vote);
  return (
    <section className="panel votes-panel" aria-labelledby="votes-heading" data-testid="votes-panel">
      <h2 id="votes-heading">{t('votes.console.heading')}</h2>
      {error !== undefined && <VoteErrorAlert error={error} testId="votes-error" />}
      {vote && <CurrentVote vote={vote} sessionId={sessionId} />}
      {vote?.status !== 'open' && <OpenVoteForm />}
      <PastVotes sessionId={sessionId} />
      <DesignateForm />
    </section>
  );
}

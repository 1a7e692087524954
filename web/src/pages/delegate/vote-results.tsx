// A closed vote's result: totals and a table by entity (recorded vote, roll-call), or totals by candidate
// with those elected (secret ballot: nothing links an entity to a choice). The console shows the same.
import { useTranslation } from 'react-i18next';
import type { VoteResult } from '../../../../protocol/signaling';
import { entityTypeLabel } from '../../shared/person-labels';
import { positionLabel } from './vote-labels';

const POSITIONS = ['yes', 'no', 'abstain'] as const;

export function VoteResults({ result, headingLevel = 3 }: { result: VoteResult; headingLevel?: 3 | 4 }) {
  const { t, i18n } = useTranslation();
  const number = new Intl.NumberFormat(i18n.language);
  const Heading = `h${headingLevel}` as const;
  if (result.kind === 'secret') {
    return (
      <div className="vote-results" data-testid="vote-results" data-kind="secret">
        <Heading>{t('votes.results')}</Heading>
        <table className="data" data-testid="vote-results-candidates">
          <caption className="visually-hidden">{t('votes.results')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('votes.candidate')}</th>
              <th scope="col">{t('votes.votesCount')}</th>
            </tr>
          </thead>
          <tbody>
            {result.byCandidate.map((c) => (
              <tr key={c.candidate} data-testid="vote-result-candidate" data-candidate={c.candidate} data-votes={c.votes}>
                <th scope="row">{c.candidate}</th>
                <td>{number.format(c.votes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p data-testid="vote-ballots" data-count={result.ballots}>
          {t('votes.ballots', { count: number.format(result.ballots) })} · {t('votes.abstentions', { count: number.format(result.abstentions) })}
        </p>
        <p data-testid="vote-elected" data-elected={result.elected.join('|')}>
          {result.elected.length ? t('votes.elected', { names: result.elected.join(', ') }) : t('votes.noneElected')}
        </p>
        {result.tied.length > 0 && <p data-testid="vote-tied">{t('votes.tied', { names: result.tied.join(', ') })}</p>}
      </div>
    );
  }
  return (
    <div className="vote-results" data-testid="vote-results" data-kind={result.kind}>
      <Heading>{t('votes.results')}</Heading>
      <dl className="vote-totals" data-testid="vote-totals">
        {POSITIONS.map((p) => (
          <div key={p} data-position={p} data-count={result.totals[p]}>
            <dt>{positionLabel(t, p)}</dt>
            <dd>{number.format(result.totals[p])}</dd>
          </div>
        ))}
      </dl>
      <table className="data" data-testid="vote-results-table">
        <caption>{t('votes.resultsTable')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('votes.entity')}</th>
            <th scope="col">{t('votes.entityType')}</th>
            <th scope="col">{t('votes.vote')}</th>
          </tr>
        </thead>
        <tbody>
          {result.byEntity.map((v) => (
            <tr key={v.entity} data-testid="vote-result-entity" data-entity={v.entity} data-position={v.position}>
              <th scope="row">{v.entity}</th>
              <td>{entityTypeLabel(t, v.entityType)}</td>
              <td>{positionLabel(t, v.position)}</td>
            </tr>
          ))}
          {result.notVoting.map((e) => (
            <tr key={e} data-testid="vote-result-entity" data-entity={e} data-position="not-voting">
              <th scope="row">{e}</th>
              <td />
              <td>{t('votes.notVoting')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

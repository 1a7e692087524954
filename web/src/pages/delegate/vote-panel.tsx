// The session's vote on the delegate page: the question, its kind, the timer and the count; for whoever
// casts the entity's vote, the choice (yes / no / abstain, or candidates up to the seats), a confirmation
// step, then "your delegation has voted"; the result when it closes. Opened, cast and closed are announced.
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Ballot, VotePosition, VoteView } from '../../../../protocol/signaling';
import { announce } from '../../shared/live-region';
import { useDelegateStore } from './delegate-store';
import { closedAnnouncement, positionLabel, voteError, voteKindLabel } from './vote-labels';
import { VoteResults } from './vote-results';
import { useVoteStore } from './vote-store';
import { VoteTimer } from './vote-timer';
import './vote.css';

const POSITIONS: VotePosition[] = ['yes', 'no', 'abstain'];

function useVoteAnnouncements(vote: VoteView | undefined, voted: boolean, calledYou: boolean): void {
  const { t } = useTranslation();
  const key = vote ? `${vote.voteId}:${vote.status}` : '';
  useEffect(() => {
    if (!vote) return;
    announce(vote.status === 'open' ? t('votes.announce.opened', { question: vote.question, kind: voteKindLabel(t, vote.kind) }) : closedAnnouncement(t, vote));
  }, [key]); // a vote opening or closing is news, not each count
  useEffect(() => {
    if (voted && vote?.status === 'open') announce(t('votes.announce.cast'));
  }, [voted]);
  useEffect(() => {
    if (calledYou) announce(t('votes.announce.calledYou'));
  }, [calledYou]);
}

/** The confirmation step: what will be cast, said in words, with Confirm (focused) and Change. */
function Confirm({ ballot, onConfirm, onCancel, busy }: { ballot: Ballot; onConfirm: () => void; onCancel: () => void; busy: boolean }) {
  const { t } = useTranslation();
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => confirmRef.current?.focus(), []);
  const text =
    'position' in ballot
      ? t('votes.confirmPosition', { position: positionLabel(t, ballot.position) })
      : ballot.candidates.length
        ? t('votes.confirmCandidates', { candidates: ballot.candidates.join(', ') })
        : t('votes.confirmAbstain');
  return (
    <div className="vote-confirm" role="group" aria-labelledby="vote-confirm-heading" data-testid="vote-confirm">
      <h3 id="vote-confirm-heading">{t('votes.confirmHeading')}</h3>
      <p data-testid="vote-confirm-text">{text}</p>
      <div className="row">
        <button type="button" ref={confirmRef} onClick={onConfirm} disabled={busy} data-testid="vote-confirm-button">
          {t('votes.confirm')}
        </button>
        <button type="button" className="secondary" onClick={onCancel} disabled={busy} data-testid="vote-cancel">
          {t('votes.cancel')}
        </button>
      </div>
    </div>
  );
}

function Candidates({ vote, onChoose }: { vote: VoteView; onChoose: (ballot: Ballot) => void }) {
  const { t } = useTranslation();
  const [chosen, setChosen] = useState<string[]>([]);
  const seats = vote.seats ?? 1;
  const toggle = (candidate: string, on: boolean) => setChosen((c) => (on ? [...c, candidate] : c.filter((x) => x !== candidate)));
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        // In the order of the ballot paper, not of the clicks.
        onChoose({ candidates: (vote.candidates ?? []).filter((c) => chosen.includes(c)) });
      }}
    >
      <fieldset data-testid="vote-candidates">
        <legend>{t('votes.candidates', { seats })}</legend>
        {(vote.candidates ?? []).map((candidate) => {
          const on = chosen.includes(candidate);
          return (
            <label key={candidate} className="check">
              <input type="checkbox" checked={on} disabled={!on && chosen.length >= seats} onChange={(e) => toggle(candidate, e.target.checked)} data-testid="vote-candidate" data-candidate={candidate} />
              {candidate}
            </label>
          );
        })}
      </fieldset>
      <button type="submit" data-testid="vote-cast-ballot">
        {t('votes.castBallot')}
      </button>
    </form>
  );
}

export function VotePanel() {
  const { t, i18n } = useTranslation();
  const vote = useVoteStore((s) => s.vote);
  const own = useVoteStore((s) => s.own);
  const error = useVoteStore((s) => s.error);
  const busy = useVoteStore((s) => s.busy);
  const cast = useVoteStore((s) => s.cast);
  const self = useDelegateStore((s) => s.self);
  const role = useDelegateStore((s) => s.answer?.participant.role);
  const [pending, setPending] = useState<Ballot | null>(null);
  const entity = self?.entity.name;
  const calledYou = vote?.status === 'open' && vote.kind === 'roll_call' && !!entity && vote.called === entity && !own.voted;
  useVoteAnnouncements(vote, own.voted, calledYou);
  useEffect(() => setPending(null), [vote?.voteId, vote?.status]);
  if (!vote) return null;

  const number = new Intl.NumberFormat(i18n.language);
  const open = vote.status === 'open';
  // The server decides who casts the entity's vote; an entity type outside the vote, or a refusal, makes the panel read-only.
  const eligible = !!self && vote.eligibleEntityTypes.includes(self.entity.type) && error !== 'VOTE_NOT_ENTITLED';
  const canChoose = open && eligible && !own.voted && !pending;
  const confirm = async () => {
    if (pending && (await cast(pending))) setPending(null);
    else setPending(null);
  };
  return (
    <section className="panel vote-panel" aria-labelledby="vote-heading" data-testid="vote-panel" data-vote-id={vote.voteId} data-status={vote.status} data-kind={vote.kind}>
      <h2 id="vote-heading">{t('votes.heading')}</h2>
      <p className="vote-question" data-testid="vote-question">
        {vote.question}
      </p>
      <p data-testid="vote-kind">{t('votes.kindLabel', { kind: voteKindLabel(t, vote.kind) })}</p>
      {vote.kind === 'secret' && <p>{t('votes.seats', { seats: number.format(vote.seats ?? 1) })}</p>}
      {open && <VoteTimer vote={vote} />}
      {open && (
        <p data-testid="vote-progress" data-cast={vote.cast} data-entitled={vote.entitled}>
          {t('votes.progress', { cast: number.format(vote.cast), entitled: number.format(vote.entitled) })}
        </p>
      )}
      {open && vote.kind === 'roll_call' && (
        <p data-testid="vote-called" data-entity={vote.called ?? ''} aria-current={calledYou ? 'true' : undefined}>
          {vote.called ? t('votes.called', { entity: vote.called }) : t('votes.rollCallEnded')}
          {calledYou && <strong> {t('votes.calledYou')}</strong>}
        </p>
      )}
      {open && !eligible && (
        <p className="notice" data-testid="vote-read-only">
          {t('votes.readOnly')}
        </p>
      )}
      {open && eligible && role !== 'head_of_delegation' && !own.voted && <p className="hint">{t('votes.readOnly')}</p>}
      {error && (
        <p className="alert" role="alert" data-testid="vote-error" data-code={error}>
          {voteError(t, error)}
        </p>
      )}
      {canChoose && vote.kind !== 'secret' && (
        <div role="group" aria-label={t('votes.choose')} className="row vote-positions">
          {POSITIONS.map((p) => (
            <button key={p} type="button" className={`position-${p}`} disabled={vote.kind === 'roll_call' && !calledYou} onClick={() => setPending({ position: p })} data-testid={`vote-${p}`}>
              {positionLabel(t, p)}
            </button>
          ))}
        </div>
      )}
      {canChoose && vote.kind === 'secret' && <Candidates vote={vote} onChoose={setPending} />}
      {open && pending && !own.voted && <Confirm ballot={pending} busy={busy} onConfirm={() => void confirm()} onCancel={() => setPending(null)} />}
      {own.voted && (
        <p className="notice ok" data-testid="vote-voted" data-position={own.position ?? ''}>
          {own.position && vote.kind !== 'secret' ? t('votes.votedPosition', { position: positionLabel(t, own.position) }) : t('votes.voted')}
        </p>
      )}
      {!open && vote.result && <VoteResults result={vote.result} />}
    </section>
  );
}

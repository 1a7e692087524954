// Words for votes in the interface language: the kind, a position, a refusal by its stable code, the time left.
import type { TFunction } from 'i18next';
import type { VoteKind, VotePosition, VoteView } from '../../../../protocol/signaling';

const VOTE_ERRORS = new Set(['VOTE_ALREADY_OPEN', 'VOTE_CLOSED', 'VOTE_ALREADY_CAST', 'VOTE_NOT_ENTITLED', 'VOTE_NOT_CALLED', 'QUORUM_NOT_MET']);

export const voteKindLabel = (t: TFunction, kind: VoteKind): string => t(`votes.kind.${kind}`);
export const positionLabel = (t: TFunction, position: VotePosition): string => t(`votes.position.${position}`);

export const codeOf = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : 'NETWORK';

/** A vote refusal by its stable code; any other code in a generic sentence. */
export function voteError(t: TFunction, code: string): string {
  return VOTE_ERRORS.has(code) ? t(`votes.errors.${code}`) : t('votes.errors.other', { code });
}

/** "m:ss" in the interface language's digits. */
export function clock(seconds: number, language: string): string {
  const minutes = new Intl.NumberFormat(language).format(Math.floor(seconds / 60));
  const rest = new Intl.NumberFormat(language, { minimumIntegerDigits: 2 }).format(seconds % 60);
  return `${minutes}:${rest}`;
}

/** What the live region says when a vote closes: the question, and the totals of a vote by entity. */
export function closedAnnouncement(t: TFunction, vote: VoteView): string {
  const closed = t('votes.announce.closed', { question: vote.question });
  const r = vote.result;
  if (!r) return closed;
  if (r.kind === 'secret') return `${closed} ${r.elected.length ? t('votes.elected', { names: r.elected.join(', ') }) : t('votes.noneElected')}`;
  return `${closed} ${t('votes.announce.totals', r.totals)}`;
}

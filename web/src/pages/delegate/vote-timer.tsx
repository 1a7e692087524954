// The time left before a vote closes by itself, ticking once a second while it is open.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { VoteView } from '../../../../protocol/signaling';
import { clock } from './vote-labels';

export function VoteTimer({ vote }: { vote: VoteView }) {
  const { t, i18n } = useTranslation();
  const [now, setNow] = useState(() => Date.now());
  const running = vote.status === 'open' && vote.closesAt !== null;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  if (!running || vote.closesAt === null) return null;
  const left = Math.max(0, Math.round((vote.closesAt - now) / 1000));
  // Not a live region: a countdown read every second would drown everything else.
  return (
    <p className="vote-timer" data-testid="vote-time-left" data-closes-at={vote.closesAt}>
      {t('votes.timeLeft', { time: clock(left, i18n.language) })}
    </p>
  );
}

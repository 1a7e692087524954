// The booth partner: present or not, who is live, and the handover (offer, request, accept, take now) with
// the countdown before "take now" opens. The countdown runs on this page's clock from when it saw the request.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useBoothStore } from './booth-store';

function useSecondsLeft(until: number | undefined): number | undefined {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (until === undefined) return;
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [until]);
  return until === undefined ? undefined : Math.max(0, Math.ceil((until - now) / 1000));
}

export function PartnerPanel() {
  const { t } = useTranslation();
  const { boothState, selfId, handoverSeenAt, handover } = useBoothStore();
  const live = boothState?.live ?? null;
  const partners = boothState?.interpreters.filter((i) => i.id !== selfId) ?? [];
  const h = boothState?.handover ?? null;
  const mine = live !== null && live === selfId;
  const fromName = h ? (boothState?.interpreters.find((i) => i.id === h.from)?.name ?? '') : '';
  const mayAccept = !!h && ((h.kind === 'offer' && h.from !== selfId) || (h.kind === 'request' && mine));
  const myRequest = h?.kind === 'request' && h.from === selfId;
  const secondsLeft = useSecondsLeft(h?.kind === 'request' && handoverSeenAt !== undefined ? handoverSeenAt + h.takeAfterMs : undefined);

  let pending = '';
  if (h?.kind === 'offer') pending = h.from === selfId ? t('booth.partner.youOffered') : t('booth.partner.offers', { name: fromName });
  if (h?.kind === 'request') pending = myRequest ? t('booth.partner.youRequested') : t('booth.partner.requests', { name: fromName });

  return (
    <section className="booth-panel" aria-labelledby="booth-partner-heading">
      <h2 id="booth-partner-heading">{t('booth.partner.heading')}</h2>
      {partners.length === 0 ? (
        <p data-testid="partner-absent">{t('booth.partner.absent')}</p>
      ) : (
        <ul className="booth-partners" data-testid="partners">
          {partners.map((p) => (
            <li key={p.id} data-testid="partner" data-partner-id={p.id} data-live={p.id === live}>
              <bdi>{p.name}</bdi> — {p.id === live ? t('booth.partner.live') : t('booth.partner.present')}
            </li>
          ))}
        </ul>
      )}
      <p data-testid="handover-state" data-kind={h?.kind ?? ''}>
        {pending}
        {h?.kind === 'request' && secondsLeft !== undefined && (
          <span data-testid="handover-countdown" data-seconds={secondsLeft}>
            {' '}
            {secondsLeft > 0 ? t(myRequest ? 'booth.partner.takeIn' : 'booth.partner.answerIn', { seconds: secondsLeft }) : myRequest ? t('booth.partner.takeNow') : ''}
          </span>
        )}
      </p>
      <div className="booth-row">
        <button type="button" className="secondary" disabled={!mine || h !== null} onClick={() => void handover('offer')} data-testid="handover-offer">
          {t('booth.partner.offer')}
        </button>
        <button type="button" className="secondary" disabled={mine || live === null || h !== null} onClick={() => void handover('request')} data-testid="handover-request">
          {t('booth.partner.request')}
        </button>
        <button type="button" disabled={!mayAccept} onClick={() => void handover('accept')} data-testid="handover-accept">
          {t('booth.partner.accept')}
        </button>
        <button type="button" className="secondary" disabled={!myRequest || (secondsLeft ?? 1) > 0} onClick={() => void handover('take')} data-testid="handover-take">
          {t('booth.partner.take')}
        </button>
      </div>
    </section>
  );
}

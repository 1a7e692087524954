// The floor: who holds it (with the time left), the speakers list with one's own place, and the requests.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { FloorState } from '../../../../protocol/signaling';
import { languageName } from '../../shared/i18n';
import { useDelegateStore } from './delegate-store';

/** Seconds left of the holder's speaking time, ticking once a second while someone holds the floor. */
function useTimeLeft(speaker: FloorState['speaker']): number | undefined {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!speaker) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [speaker]);
  if (!speaker || !speaker.limitMs) return undefined;
  return Math.max(0, Math.round((speaker.since + speaker.limitMs - now) / 1000));
}

export function FloorPanel() {
  const { t, i18n } = useTranslation();
  const floor = useDelegateStore((s) => s.floor);
  const selfId = useDelegateStore((s) => s.self?.id);
  const requestFloor = useDelegateStore((s) => s.requestFloor);
  const withdrawFloor = useDelegateStore((s) => s.withdrawFloor);
  const boothSignal = useDelegateStore((s) => s.boothSignal);
  const left = useTimeLeft(floor.speaker);
  const position = floor.queue.findIndex((e) => e.id === selfId) + 1;
  const holding = floor.speaker?.id === selfId;
  const minutes = new Intl.NumberFormat(i18n.language, { minimumIntegerDigits: 1 });
  const seconds = new Intl.NumberFormat(i18n.language, { minimumIntegerDigits: 2 });
  return (
    <section className="floor-panel" aria-labelledby="floor-heading">
      <h2 id="floor-heading">{t('delegate.floor.heading')}</h2>
      <p data-testid="floor-holder" data-speaker-id={floor.speaker?.id ?? ''}>
        {!floor.speaker
          ? t('delegate.floor.free')
          : holding
            ? t('delegate.floor.youHaveFloor')
            : t('delegate.floor.hasFloor', { name: floor.speaker.name, entity: floor.speaker.entity })}
        {left !== undefined && (
          <span className={`time-left${left * 1000 <= (floor.speaker?.warningMs ?? 0) ? ' warning' : ''}`} data-testid="time-left">
            {' '}
            {t('delegate.floor.timeLeft', { time: `${minutes.format(Math.floor(left / 60))}:${seconds.format(left % 60)}` })}
          </span>
        )}
      </p>
      {holding && boothSignal && (
        <p className="notice request" data-testid="booth-signal" data-kind={boothSignal.kind} data-language={boothSignal.language}>
          {t(`delegate.floor.boothSignal.${boothSignal.kind}`, { language: languageName(boothSignal.language, i18n.language) })}
        </p>
      )}
      <div className="row">
        <button type="button" onClick={() => void requestFloor('speaker')} disabled={position > 0 || holding} data-testid="request-floor">
          {t('delegate.floor.request')}
        </button>
        <button type="button" className="secondary" onClick={() => void requestFloor('point_of_order')} disabled={holding} data-testid="point-of-order">
          {t('delegate.floor.pointOfOrder')}
        </button>
        <button type="button" className="secondary" onClick={() => void withdrawFloor()} disabled={position === 0} data-testid="withdraw-floor">
          {t('delegate.floor.withdraw')}
        </button>
      </div>
      {position > 0 && (
        <p className="notice" data-testid="my-position" data-position={position}>
          {t('delegate.floor.position', { position })}
        </p>
      )}
      <h3 id="speakers-heading">{t('delegate.floor.speakersList')}</h3>
      {floor.queue.length === 0 ? (
        <p data-testid="speakers-empty">{t('delegate.floor.listEmpty')}</p>
      ) : (
        <ol className="speakers-list" aria-labelledby="speakers-heading" data-testid="speakers-list">
          {floor.queue.map((entry) => (
            <li key={entry.id} data-testid="speaker-entry" data-speaker-id={entry.id} data-kind={entry.kind} aria-current={entry.id === selfId ? 'true' : undefined}>
              {t('delegate.personLabel', { name: entry.name, entity: entry.entity })}
              {entry.kind === 'point_of_order' && <span className="tag"> ({t('terms.pointOfOrder')})</span>}
              {entry.id === selfId && <span className="tag"> ({t('delegate.floor.you')})</span>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

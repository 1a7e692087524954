// The floor: who speaks, for how long, and the speakers list — reordered by drag and drop or by the
// move up/down buttons (the keyboard way), given the floor, taken back.
import { useEffect, useState, type DragEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { FloorState, SpeakerEntry } from '../../../../protocol/signaling';
import { boothSignalText, personLabel } from './console-labels';
import { PersonButton } from './person-button';
import { useRoomStore } from './room-store';

/** Seconds left of the speaker's time, ticking once a second; negative when over. */
function useSecondsLeft(speaker: FloorState['speaker']): number | undefined {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!speaker) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [speaker]);
  return speaker ? Math.round((speaker.since + speaker.limitMs - now) / 1000) : undefined;
}

function SpeakingTimer({ speaker }: { speaker: NonNullable<FloorState['speaker']> }) {
  const { t } = useTranslation();
  const left = useSecondsLeft(speaker) ?? 0;
  const state = left <= 0 ? 'expired' : left * 1000 <= speaker.warningMs ? 'warning' : 'ok';
  const abs = Math.abs(left);
  const clock = `${Math.floor(abs / 60)}:${String(abs % 60).padStart(2, '0')}`;
  return (
    <span className={`speaking-timer ${state}`} data-testid="speaking-timer" data-state={state}>
      {state === 'expired' ? t('console.floor.over', { time: clock }) : t('console.floor.left', { time: clock })}
    </span>
  );
}

function SpeakerItem({ entry, index, count, onDrop }: { entry: SpeakerEntry; index: number; count: number; onDrop: (id: string, to: number) => void }) {
  const { t } = useTranslation();
  const act = useRoomStore((s) => s.act);
  const [over, setOver] = useState(false);
  const label = personLabel(t, entry);
  const person = { id: entry.id, name: entry.name };
  const move = (to: number) => void act('moveSpeaker', person, (c) => c.moveSpeaker(entry.id, to));
  return (
    <li
      className={`speaker${entry.kind === 'point_of_order' ? ' point-of-order' : ''}${over ? ' drop-target' : ''}`}
      draggable
      onDragStart={(e: DragEvent) => {
        e.dataTransfer.setData('text/plain', entry.id);
        e.dataTransfer.effectAllowed = 'move';
      }}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        const id = e.dataTransfer.getData('text/plain');
        if (id && id !== entry.id) onDrop(id, index);
      }}
      data-testid="speaker"
      data-participant-id={entry.id}
      data-kind={entry.kind}
    >
      <span className="speaker-name">
        <span aria-hidden="true" className="grip">
          ⋮⋮
        </span>
        {label}
        {entry.kind === 'point_of_order' && <span className="badge">{t('terms.pointOfOrder')}</span>}
      </span>
      <span className="row">
        <PersonButton text={t('console.speakers.giveFloor')} person={label} className="" onClick={() => void act('giveFloor', person, (c) => c.giveFloor(entry.id))} data-testid="speaker-give" />
        <PersonButton text={t('console.speakers.moveUp')} person={label} disabled={index === 0} onClick={() => move(index - 1)} data-testid="speaker-up" />
        <PersonButton text={t('console.speakers.moveDown')} person={label} disabled={index === count - 1} onClick={() => move(index + 1)} data-testid="speaker-down" />
        <PersonButton text={t('console.speakers.remove')} person={label} onClick={() => void act('removeSpeaker', person, (c) => c.removeSpeaker(entry.id))} data-testid="speaker-remove" />
      </span>
    </li>
  );
}

/** The booths' requests to the speaker, as a delegate's desk shows them: the latest on top. */
function BoothSignals() {
  const { t, i18n } = useTranslation();
  const signals = useRoomStore((s) => s.boothSignals);
  if (signals.length === 0) return null;
  return (
    <ul className="booth-signals" aria-label={t('console.signals.heading')} data-testid="booth-signals">
      {signals.map((s) => (
        <li key={`${s.at}-${s.language}-${s.kind}`} data-testid="booth-signal" data-kind={s.kind} data-language={s.language}>
          {boothSignalText(t, s, i18n.language)}
        </li>
      ))}
    </ul>
  );
}

export function FloorPanel() {
  const { t } = useTranslation();
  const floor = useRoomStore((s) => s.floor);
  const act = useRoomStore((s) => s.act);
  const speaker = floor.speaker;
  const next = floor.queue[0];
  const dropOn = (id: string, to: number) => {
    const entry = floor.queue.find((e) => e.id === id);
    if (entry) void act('moveSpeaker', { id, name: entry.name }, (c) => c.moveSpeaker(id, to));
  };
  return (
    <section aria-labelledby="floor-heading" className="panel" data-testid="floor-panel">
      <h2 id="floor-heading">{t('console.floor.heading')}</h2>
      <div className="floor-now" data-testid="floor-speaker" data-participant-id={speaker?.id ?? ''}>
        {speaker ? (
          <>
            <strong>{t('console.floor.hasFloor', { person: personLabel(t, speaker) })}</strong> <SpeakingTimer speaker={speaker} />
          </>
        ) : (
          <span>{t('console.floor.nobody')}</span>
        )}
      </div>
      <div className="row">
        <button type="button" disabled={!next} onClick={() => next && void act('giveFloor', { id: next.id, name: next.name }, (c) => c.giveFloor())} data-testid="give-next">
          {t('console.floor.giveNext')}
        </button>
        <button type="button" className="secondary" disabled={!speaker} onClick={() => speaker && void act('takeFloor', { id: speaker.id, name: speaker.name }, (c) => c.takeFloor())} data-testid="take-floor">
          {t('console.floor.take')}
        </button>
      </div>
      <BoothSignals />
      <h3 id="speakers-heading">{t('console.speakers.heading')}</h3>
      <p className="hint" id="speakers-hint">
        {t('console.speakers.hint')}
      </p>
      {floor.queue.length === 0 ? (
        <p data-testid="speakers-empty">{t('console.speakers.empty')}</p>
      ) : (
        <ol className="speakers" aria-labelledby="speakers-heading" aria-describedby="speakers-hint" data-testid="speakers">
          {floor.queue.map((entry, index) => (
            <SpeakerItem key={entry.id} entry={entry} index={index} count={floor.queue.length} onDrop={dropOn} />
          ))}
        </ol>
      )}
    </section>
  );
}

// The booth microphone: the large ON AIR state, go live / go off, hold to cough, the level meter, and the
// warning when the partner's microphone is open (the server refused a second live microphone).
import { useTranslation } from 'react-i18next';
import { MediaLevelMeter } from '../../shared/media-level-meter';
import { useBoothStore } from './booth-store';
import { useHold } from './use-hold';

/** The cough shortcut: hold C (by physical key, whatever the keyboard layout). */
const COUGH_KEY = 'KeyC';

export function MicrophonePanel() {
  const { t } = useTranslation();
  const { boothState, selfId, coughing, conflict, micTrack, goLive, goOff, cough } = useBoothStore();
  const live = boothState?.live ?? null;
  const mine = live !== null && live === selfId;
  const partnerName = boothState?.interpreters.find((i) => i.id === live)?.name;
  const hold = useHold((on) => void cough(on), COUGH_KEY, mine);
  const state = mine ? (coughing ? 'coughing' : 'on-air') : 'off-air';
  return (
    <section className="booth-panel booth-mic" aria-labelledby="booth-mic-heading">
      <h2 id="booth-mic-heading">{t('booth.mic.heading')}</h2>
      <div className="on-air" data-testid="on-air" data-state={state}>
        <span className="on-air-lamp" aria-hidden="true" />
        <strong>{t(`booth.mic.state.${state}`)}</strong>
        {!mine && partnerName && <span data-testid="live-partner">{t('booth.mic.partnerLive', { name: partnerName })}</span>}
      </div>
      <div className="alert" role="alert" data-testid="live-conflict">
        {conflict ? t('booth.mic.conflict', { name: partnerName ?? '' }) : ''}
      </div>
      <div className="booth-row">
        <button type="button" className="booth-big" onClick={() => void goLive()} disabled={mine} data-testid="go-live">
          {t('booth.mic.goLive')}
        </button>
        <button type="button" className="booth-big secondary" onClick={() => void goOff()} disabled={!mine} data-testid="go-off">
          {t('booth.mic.goOff')}
        </button>
        <button
          type="button"
          className="booth-big cough"
          disabled={!mine}
          aria-pressed={coughing}
          aria-keyshortcuts="C"
          aria-describedby="booth-cough-hint"
          data-testid="cough"
          {...hold}
        >
          {t('booth.mic.cough')}
        </button>
      </div>
      <p id="booth-cough-hint" className="booth-hint">
        {t('booth.mic.coughHint')}
      </p>
      <MediaLevelMeter track={micTrack} label={t('booth.mic.level')} data-testid="mic-level" />
    </section>
  );
}

// What the delegate hears: the floor or a language channel, the floor's volume under an interpretation, and
// the captions of the chosen language.
import { useTranslation } from 'react-i18next';
import { languageName } from '../../shared/i18n';
import { canChooseSpeaker } from '../../shared/media-devices';
import { useDelegateStore } from './delegate-store';
import { DevicePicker } from './pre-join';

export function ListeningPanel() {
  const { t, i18n } = useTranslation();
  const channels = useDelegateStore((s) => s.channels);
  const channel = useDelegateStore((s) => s.channel);
  const available = useDelegateStore((s) => s.interpretationAvailable);
  const floorVolume = useDelegateStore((s) => s.floorVolume);
  const caption = useDelegateStore((s) => s.caption);
  const speakers = useDelegateStore((s) => s.devices.speakers);
  const speakerId = useDelegateStore((s) => s.speakerId);
  const { selectChannel, setFloorVolume, chooseDevice } = useDelegateStore.getState();
  return (
    <section className="listening" aria-labelledby="listening-heading">
      <h2 id="listening-heading">{t('delegate.listening.heading')}</h2>
      <label className="field">
        <span>{t('delegate.listening.channel')}</span>
        <select value={channel} onChange={(e) => void selectChannel(e.target.value)} data-testid="channel-select">
          <option value="floor">{t('delegate.listening.floor')}</option>
          {channels.map((c) => (
            <option key={c.language} value={c.language}>
              {languageName(c.language, i18n.language)}
              {c.live ? '' : ` — ${t('delegate.listening.noInterpreter')}`}
            </option>
          ))}
        </select>
      </label>
      {!available && (
        <p className="notice" data-testid="interpretation-unavailable">
          {t('delegate.listening.unavailable', { language: languageName(channel, i18n.language) })}
        </p>
      )}
      <label className="field">
        <span>{t('delegate.listening.floorVolume')}</span>
        <input
          type="range"
          min={0}
          max={100}
          step={5}
          value={Math.round(floorVolume * 100)}
          aria-valuetext={`${Math.round(floorVolume * 100)} %`}
          onChange={(e) => setFloorVolume(Number(e.target.value) / 100)}
          data-testid="floor-volume"
        />
      </label>
      {canChooseSpeaker() && <DevicePicker kind="speaker" devices={speakers} value={speakerId} onChange={(id) => void chooseDevice('speaker', id)} />}
      <h3 id="captions-heading">{t('delegate.listening.captions')}</h3>
      <p className="captions" data-testid="captions" lang={channel === 'floor' ? undefined : channel}>
        {caption ?? t('delegate.listening.noCaptions')}
      </p>
    </section>
  );
}

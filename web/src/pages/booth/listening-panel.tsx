// What the interpreter hears: the floor, or another booth (relay), with a volume.
import { useTranslation } from 'react-i18next';
import { languageName } from '../../shared/i18n';
import { useBoothStore } from './booth-store';

export function ListeningPanel() {
  const { t, i18n } = useTranslation();
  const { source, sourceLive, volume, channels, booth, setSource, setVolume } = useBoothStore();
  const relays = channels.filter((c) => c.language !== booth);
  return (
    <section className="booth-panel" aria-labelledby="booth-listen-heading">
      <h2 id="booth-listen-heading">{t('booth.listen.heading')}</h2>
      <div className="booth-row">
        <label>
          {t('booth.listen.source')}{' '}
          <select value={source} onChange={(e) => void setSource(e.target.value)} data-testid="source">
            <option value="floor">{t('booth.listen.floor')}</option>
            {relays.map((c) => (
              <option key={c.language} value={c.language}>
                {t('booth.listen.relay', { language: languageName(c.language, i18n.language) })}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('booth.listen.volume')}{' '}
          <input type="range" min={0} max={100} value={Math.round(volume * 100)} onChange={(e) => setVolume(Number(e.target.value) / 100)} data-testid="volume" />
        </label>
      </div>
      {!sourceLive && (
        <p className="booth-notice" data-testid="relay-fallback">
          {t('booth.listen.fallback', { language: languageName(source, i18n.language) })}
        </p>
      )}
    </section>
  );
}

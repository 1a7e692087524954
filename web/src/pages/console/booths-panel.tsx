// Booths: each language channel, who is live in it, the interpreters present, and assigning one to a booth.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { languageName } from '../../shared/i18n';
import { useRoomStore } from './room-store';

export function BoothsPanel() {
  const { t, i18n } = useTranslation();
  const channels = useRoomStore((s) => s.channels);
  const interpreters = useRoomStore((s) => s.interpreters);
  const act = useRoomStore((s) => s.act);
  const [who, setWho] = useState('');
  const [language, setLanguage] = useState('');
  const chosen = interpreters.find((p) => p.id === who) ?? interpreters[0];
  const booth = language || channels[0]?.language || '';
  const assign = (e: FormEvent) => {
    e.preventDefault();
    if (chosen && booth) void act('assign', chosen, (c) => c.assignInterpreter(chosen.id, booth));
  };
  return (
    <section aria-labelledby="booths-heading" className="panel" data-testid="booths-panel">
      <h2 id="booths-heading">{t('console.booths.heading')}</h2>
      {channels.length === 0 ? (
        <p data-testid="booths-empty">{t('console.booths.none')}</p>
      ) : (
        <table className="data" data-testid="booths">
          <caption className="visually-hidden">{t('console.booths.heading')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('console.booths.language')}</th>
              <th scope="col">{t('console.booths.status')}</th>
            </tr>
          </thead>
          <tbody>
            {channels.map((c) => (
              <tr key={c.language} data-testid="booth" data-language={c.language} data-live={c.live}>
                <th scope="row">{languageName(c.language, i18n.language)}</th>
                <td>{c.live ? t('console.booths.live', { name: c.interpreter ?? '' }) : t('console.booths.notLive')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>{t('console.booths.present')}</h3>
      {interpreters.length === 0 ? (
        <p>{t('console.booths.nobodyPresent')}</p>
      ) : (
        <ul data-testid="interpreters">
          {interpreters.map((p) => (
            <li key={p.id}>{p.name}</li>
          ))}
        </ul>
      )}
      {channels.length > 0 && interpreters.length > 0 && (
        <form className="row assign" onSubmit={assign} data-testid="assign-form">
          <label>
            {t('console.booths.interpreter')}
            <select value={chosen?.id ?? ''} onChange={(e) => setWho(e.target.value)} data-testid="assign-who">
              {interpreters.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('console.booths.booth')}
            <select value={booth} onChange={(e) => setLanguage(e.target.value)} data-testid="assign-language">
              {channels.map((c) => (
                <option key={c.language} value={c.language}>
                  {languageName(c.language, i18n.language)}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" data-testid="assign">
            {t('console.booths.assign')}
          </button>
        </form>
      )}
    </section>
  );
}

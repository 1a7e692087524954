// The pinned sign-language interpreter, beside the stage whatever the gallery page: a choice of the
// session's sign channels, and the live signer's video named "International Sign interpreter: <name>".
// The floor (or the chosen language) is still heard, and captions stay where they are.
import { useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { MediaVideo } from '../../shared/media-video';
import { useSignLanguageStore } from './sign-language-store';
import './sign-language.css';

/** The size the pinned video is shown at (16:9 of the panel's width): the server sends the layer that fits. */
function pinSize(el: Element | null): { width: number; height: number } {
  const width = Math.round(el?.getBoundingClientRect().width ?? 480) || 480;
  return { width, height: Math.round((width * 9) / 16) };
}

export function SignLanguagePin() {
  const { t } = useTranslation();
  const channels = useSignLanguageStore((s) => s.channels);
  const video = useSignLanguageStore((s) => s.video);
  const error = useSignLanguageStore((s) => s.error);
  const pin = useSignLanguageStore((s) => s.pin);
  const panel = useRef<HTMLElement>(null);
  if (channels.length === 0) return null;
  const nameOf = (code: string): string => t(`sign.languages.${code}`, { defaultValue: code });
  const language = video.language;
  const label = language && video.interpreter ? t('sign.pinned', { language: nameOf(language), name: video.interpreter.name }) : undefined;
  return (
    <section ref={panel} className="panel sign-pin" aria-labelledby="sign-heading" data-testid="sign-pin">
      <h2 id="sign-heading">{t('sign.heading')}</h2>
      <label>
        {t('sign.choose')}
        <select value={language ?? ''} onChange={(e) => void pin(e.target.value || null, pinSize(panel.current))} data-testid="sign-select">
          <option value="">{t('sign.none')}</option>
          {channels.map((c) => (
            <option key={c.language} value={c.language}>
              {nameOf(c.language)}
            </option>
          ))}
        </select>
      </label>
      {language && (
        <figure className={`sign-video${video.track ? '' : ' no-video'}`} data-testid="sign-video" data-producer-id={video.track?.producerId ?? ''}>
          {video.track && <MediaVideo track={video.track.track} aria-hidden="true" />}
          <figcaption data-testid="sign-label">{label ?? t('sign.notLive', { language: nameOf(language) })}</figcaption>
        </figure>
      )}
      {language && <p className="hint">{t('sign.withCaptions')}</p>}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </section>
  );
}

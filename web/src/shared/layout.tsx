// The frame of every page: skip link, header (product name, language switcher), the main landmark, the live region.
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { LANGUAGES, nativeName, setLanguage, type Language } from './i18n';
import { LiveRegion } from './live-region';

function LanguageSwitcher() {
  const { t, i18n } = useTranslation();
  return (
    <label className="language-switcher">
      <span>{t('app.language')}</span>
      <select data-testid="language-select" value={i18n.language} onChange={(e) => setLanguage(e.target.value as Language)}>
        {LANGUAGES.map((code) => (
          <option key={code} value={code} lang={code}>
            {nativeName(code)}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Layout({ title, children }: { title: string; children: ReactNode }) {
  const { t } = useTranslation();
  return (
    <>
      <a className="skip-link" href="#main">
        {t('app.skipToContent')}
      </a>
      <header className="app-header">
        <span className="product-name">{t('app.name')}</span>
        <LanguageSwitcher />
      </header>
      <main id="main" tabIndex={-1}>
        <h1>{title}</h1>
        {children}
      </main>
      <LiveRegion />
    </>
  );
}

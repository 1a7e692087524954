// The six official UN languages: one catalogue each, the browser's preference first, a choice kept in localStorage.
import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import ar from '../i18n/locales/ar.json';
import en from '../i18n/locales/en.json';
import es from '../i18n/locales/es.json';
import fr from '../i18n/locales/fr.json';
import ru from '../i18n/locales/ru.json';
import zh from '../i18n/locales/zh.json';

export const LANGUAGES = ['ar', 'zh', 'en', 'fr', 'ru', 'es'] as const;
export type Language = (typeof LANGUAGES)[number];

const STORAGE_KEY = 'plenum.language';
const RTL: ReadonlySet<string> = new Set(['ar']);

const isLanguage = (code: string): code is Language => (LANGUAGES as readonly string[]).includes(code);

/** The stored choice, else the first of the browser's languages we have (by primary subtag), else English. */
export function pickLanguage(stored: string | null, preferred: readonly string[]): Language {
  if (stored && isLanguage(stored)) return stored;
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split('-')[0] ?? '';
    if (isLanguage(primary)) return primary;
  }
  return 'en';
}

function storedLanguage(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage blocked: follow the browser
  }
}

function applyToDocument(language: string): void {
  document.documentElement.lang = language;
  document.documentElement.dir = RTL.has(language) ? 'rtl' : 'ltr';
}

export function setLanguage(language: Language): void {
  try {
    localStorage.setItem(STORAGE_KEY, language);
  } catch {
    // storage blocked: the choice lasts for this page only
  }
  void i18next.changeLanguage(language);
}

/** Each language's own name for itself, for the switcher. */
export function nativeName(language: string): string {
  return new Intl.DisplayNames([language], { type: 'language' }).of(language) ?? language;
}

/** A language's name in the interface language (for a session's interpretation channels). */
export function languageName(code: string, uiLanguage: string): string {
  try {
    return new Intl.DisplayNames([uiLanguage], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}

export function initI18n(): typeof i18next {
  i18next.on('languageChanged', applyToDocument);
  void i18next.use(initReactI18next).init({
    resources: { ar: { translation: ar }, en: { translation: en }, es: { translation: es }, fr: { translation: fr }, ru: { translation: ru }, zh: { translation: zh } },
    lng: pickLanguage(storedLanguage(), navigator.languages),
    fallbackLng: 'en',
    interpolation: { escapeValue: false }, // React escapes
    initAsync: false,
  });
  return i18next;
}

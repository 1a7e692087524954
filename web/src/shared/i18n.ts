// The six official UN languages, the browser's preference first, a choice kept in localStorage. Each language's
// catalogue is split by page (locales/<lang>/<part>.json, each part owning its top-level keys) and merged here.
import i18next, { type Resource } from 'i18next';
import { initReactI18next } from 'react-i18next';

const PARTS = import.meta.glob<Record<string, unknown>>('../i18n/locales/*/*.json', { eager: true, import: 'default' });

function resources(): Resource {
  const out: Record<string, { translation: Record<string, unknown> }> = {};
  for (const [path, part] of Object.entries(PARTS)) {
    const lang = path.split('/').at(-2)!;
    Object.assign((out[lang] ??= { translation: {} }).translation, part);
  }
  return out as Resource;
}

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
    resources: resources(),
    lng: pickLanguage(storedLanguage(), navigator.languages),
    fallbackLng: 'en',
    interpolation: { escapeValue: false }, // React escapes
    initAsync: false,
  });
  return i18next;
}

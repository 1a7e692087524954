import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The web app's message catalogues: one key set in the six UN languages, and meeting terms as UNTERM has them.

const LOCALES_DIR = join(import.meta.dirname, '..', '..', 'web', 'src', 'i18n', 'locales');
const LANGUAGES = ['ar', 'en', 'es', 'fr', 'ru', 'zh'] as const;

type Catalogue = { [key: string]: string | Catalogue };
const parts = (lang: string): string[] => readdirSync(join(LOCALES_DIR, lang)).filter((f) => f.endsWith('.json')).sort();
const loadPart = (lang: string, part: string): Catalogue => JSON.parse(readFileSync(join(LOCALES_DIR, lang, part), 'utf8')) as Catalogue;

/** A language's catalogue as the page merges it: its parts side by side, each owning its top-level keys. */
function load(lang: string): Catalogue {
  const merged: Catalogue = {};
  for (const part of parts(lang)) {
    for (const [key, value] of Object.entries(loadPart(lang, part))) {
      if (key in merged) throw new Error(`${lang}/${part}: the top-level key "${key}" is already in another part`);
      merged[key] = value;
    }
  }
  return merged;
}

/** Every leaf as a dotted key → value. */
function flatten(catalogue: Catalogue, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(catalogue)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object') for (const [k, v] of flatten(value, path)) out.set(k, v);
    else out.set(path, value);
  }
  return out;
}

const placeholders = (text: string): string[] => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]!).sort();

const english = flatten(load('en'));

describe('web app catalogues', () => {
  it('has a real English catalogue', () => {
    expect(english.size).toBeGreaterThan(40);
  });

  for (const lang of LANGUAGES) {
    describe(lang, () => {
      const catalogue = flatten(load(lang));

      it('has the same parts as English', () => {
        expect(parts(lang)).toEqual(parts('en'));
      });

      it('has exactly the English keys', () => {
        expect([...catalogue.keys()].sort()).toEqual([...english.keys()].sort());
      });

      it('has no empty value, and the same placeholders as English', () => {
        for (const [key, value] of catalogue) {
          expect(typeof value, key).toBe('string');
          expect((value as string).trim(), key).not.toBe('');
          expect(placeholders(value as string), key).toEqual(placeholders(english.get(key) as string));
        }
      });
    });
  }

  it('translates the interface (not English copied over)', () => {
    for (const lang of LANGUAGES.filter((l) => l !== 'en')) {
      const catalogue = flatten(load(lang));
      expect(catalogue.get('signIn.accessCode'), lang).not.toBe(english.get('signIn.accessCode'));
      expect(catalogue.get('events.title'), lang).not.toBe(english.get('events.title'));
    }
  });

  it('uses the UNTERM term for "point of order"', () => {
    const expected: Record<(typeof LANGUAGES)[number], string> = {
      en: 'point of order',
      fr: "motion d'ordre",
      es: 'cuestión de orden',
      ar: 'نقطة نظام',
      zh: '程序问题',
      ru: 'по порядку ведения заседания',
    };
    for (const lang of LANGUAGES) expect(flatten(load(lang)).get('terms.pointOfOrder'), lang).toBe(expected[lang]);
  });
});

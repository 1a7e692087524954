// What the documents panels say: a language version as its UN symbol letter and name, the order of the
// versions (one language first, then A C E F R S), and an API failure by its stable code.
import type { TFunction } from 'i18next';
import type { DocumentLanguage, SessionDocument } from '../../../client-sdk/src/documents-api';
import { errorMessage } from './api-errors';
import { languageName } from './i18n';

/** The six official languages in the order of their symbol letters: A C E F R S. */
export const DOCUMENT_LANGUAGES: DocumentLanguage[] = ['ar', 'zh', 'en', 'fr', 'ru', 'es'];
export const DOCUMENT_AUDIENCES = ['everyone', 'interpreters', 'member_states'] as const;

/** Codes the documents catalogue explains; others go through the shared messages. */
const DOCUMENT_ERRORS = new Set(['DOCUMENT_TYPE_REFUSED', 'DOCUMENT_TOO_LARGE', 'PAYLOAD_TOO_LARGE', 'BAD_REQUEST', 'NOT_FOUND', 'FORBIDDEN', 'INVALID_STATE', 'NOT_ACCREDITED', 'UNAVAILABLE']);

export const documentErrorCode = (error: unknown): string => (typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : '');

export function documentError(t: TFunction, error: unknown): string {
  const code = documentErrorCode(error);
  return DOCUMENT_ERRORS.has(code) ? t(`documents.errors.${code}`) : errorMessage(t, error);
}

/** "F — French", in the page's language. */
export function versionLabel(t: TFunction, doc: Pick<SessionDocument, 'language' | 'symbolLetter'>, uiLanguage: string): string {
  return t('documents.languageVersion', { letter: doc.symbolLetter, language: languageName(doc.language, uiLanguage) });
}

/** The documents by language version, `first` first, then in A C E F R S order; each group keeps the server's order. */
export function byLanguage(documents: SessionDocument[], first: string | undefined): Array<{ language: DocumentLanguage; documents: SessionDocument[] }> {
  const order = [...DOCUMENT_LANGUAGES].sort((a, b) => Number(b === first) - Number(a === first));
  return order.map((language) => ({ language, documents: documents.filter((d) => d.language === language) })).filter((g) => g.documents.length > 0);
}

/** A title kept whole inside a sentence of another direction (an Arabic sentence around "L.3"): Unicode isolates. */
export const isolate = (text: string): string => `\u2068${text}\u2069`;

/** "The Chair has put “…” (E) in focus". */
export function focusText(t: TFunction, doc: Pick<SessionDocument, 'title' | 'symbolLetter'>): string {
  return t('documents.focus.put', { title: isolate(doc.title), letter: doc.symbolLetter });
}

// Session documents: who sees them, in which language, and the shapes the API accepts and answers.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/** The six official languages with their UN document symbol letters (A/RES/…/E is the English version). */
export const UN_SYMBOL_LETTERS = { ar: 'A', zh: 'C', en: 'E', fr: 'F', ru: 'R', es: 'S' } as const;
export type DocumentLanguage = keyof typeof UN_SYMBOL_LETTERS;
export const documentLanguage = z.enum(Object.keys(UN_SYMBOL_LETTERS) as [DocumentLanguage, ...DocumentLanguage[]]);

export const symbolLetterOf = (language: DocumentLanguage): string => UN_SYMBOL_LETTERS[language];

/** Who may see a document besides the secretariat and the chair, who always may. */
export const documentAudiences = ['everyone', 'interpreters', 'member_states'] as const;
export const documentAudience = z.enum(documentAudiences);
export type DocumentAudience = z.infer<typeof documentAudience>;

/** Document ids are made here (never chosen by a client): `doc_` and 22 url-safe characters (128 bits). */
export const DOCUMENT_ID_PATTERN = /^doc_[A-Za-z0-9_-]{22}$/;
export const documentId = z.string().regex(DOCUMENT_ID_PATTERN, 'a document id (doc_…)');
export const newDocumentId = (): string => `doc_${randomBytes(16).toString('base64url')}`;
/** Versions count from 1; the bound keeps the number a plain integer in every layer. */
export const documentVersion = z.coerce.number().int().min(1).max(1_000_000);

/** A title: no control characters, no half surrogate pairs (it ends up in a download's file name). */
const title = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((v) => !/\p{Cc}|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u.test(v), 'a title without control characters');

/** An upload's metadata: its bytes are the body, so these travel in the query string. */
export const uploadQuery = z.object({ title, language: documentLanguage, audience: documentAudience.default('everyone') }).strict();

/**
 * A link to the organisation's document system: https only, no credentials in it, never fetched by the
 * server (the browser opens it).
 */
export const documentUrl = z
  .string()
  .trim()
  .max(2048)
  .refine((value) => {
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === '';
  }, 'an https URL without credentials')
  .transform((value) => new URL(value).href);

export const linkBody = z.object({ title, language: documentLanguage, audience: documentAudience.default('everyone'), url: documentUrl }).strict();
export const linkVersionBody = z.object({ url: documentUrl }).strict();
export const focusBody = z.object({ documentId: documentId.nullable() }).strict();

/** One version as the API shows it. */
export interface DocumentVersionView {
  version: number;
  kind: 'file' | 'link';
  /** Files: the type detected from the content, the size and the SHA-256 (hex) of the stored bytes. */
  contentType?: string;
  sizeBytes?: number;
  sha256?: string;
  /** Links: where the organisation's document system has it. */
  url?: string;
  createdAt: string;
}

/** A document as the API shows it: its latest version first, the older ones still listed (and downloadable). */
export interface DocumentView {
  documentId: string;
  sessionId: string;
  title: string;
  language: DocumentLanguage;
  /** The UN symbol letter of the language version: A C E F R S. */
  symbolLetter: string;
  audience: DocumentAudience;
  latest: DocumentVersionView;
  versions: DocumentVersionView[];
  createdAt: string;
  updatedAt: string;
}

export interface DocumentListing {
  sessionId: string;
  /** The document the chair or the secretariat put in focus for everyone, if any (and if this person may see it). */
  focus: string | null;
  documents: DocumentView[];
}

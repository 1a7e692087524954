// HTTP calls for a session's documents: participants list and download them with their identity token;
// the secretariat (and the chair) upload, link, version and put one in focus. No mediasoup-client here, so
// a page that only shows documents stays small. The shapes mirror server/documents/document-model.ts.
import type { ErrorBody } from '../../protocol/errors.js';
import { MeetingClientError } from './client-error.js';

/** The six official languages; the UN symbol letter of each (A C E F R S) comes back as `symbolLetter`. */
export type DocumentLanguage = 'ar' | 'zh' | 'en' | 'fr' | 'ru' | 'es';
/** Who sees a document besides the secretariat and the chair. */
export type DocumentAudience = 'everyone' | 'interpreters' | 'member_states';

export interface DocumentVersion {
  version: number;
  kind: 'file' | 'link';
  /** Files: the type the server found in the content, the size and the SHA-256 (hex). */
  contentType?: string;
  sizeBytes?: number;
  sha256?: string;
  /** Links: the organisation's document system (open it in a new tab; the server never fetches it). */
  url?: string;
  createdAt: string;
}

export interface SessionDocument {
  documentId: string;
  sessionId: string;
  title: string;
  language: DocumentLanguage;
  /** "E", "F", "S"... as UN document symbols have them. */
  symbolLetter: string;
  audience: DocumentAudience;
  /** The version shown; `versions` lists every version, newest first (older files stay downloadable). */
  latest: DocumentVersion;
  versions: DocumentVersion[];
  createdAt: string;
  updatedAt: string;
}

export interface DocumentListing {
  sessionId: string;
  /** The document in focus for everyone (the chair's or the secretariat's choice), if this person may see it. */
  focus: string | null;
  documents: SessionDocument[];
}

export interface DocumentMeta {
  title: string;
  language: DocumentLanguage;
  /** Default: everyone. */
  audience?: DocumentAudience;
}

/** A downloaded file: its bytes, the name the server gave it and its type. */
export interface DocumentFile {
  blob: Blob;
  fileName: string;
  contentType: string;
}

const auth = (identityToken: string): Record<string, string> => ({ authorization: `Bearer ${identityToken}` });
const enc = encodeURIComponent;

async function failure(res: Response): Promise<MeetingClientError> {
  const body = (await res.json().catch(() => ({}))) as { error?: ErrorBody };
  return new MeetingClientError(body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? res.statusText);
}

async function call<T>(url: string, init: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

const participantBase = (baseUrl: string, sessionId: string): string => `${baseUrl}/api/sessions/${enc(sessionId)}/documents`;
const adminBase = (baseUrl: string, eventId: string, sessionId: string): string => `${baseUrl}/api/admin/events/${enc(eventId)}/sessions/${enc(sessionId)}/documents`;

/** The session's documents this person may see (their accreditation and each document's audience decide). */
export function listDocuments(baseUrl: string, identityToken: string, sessionId: string): Promise<DocumentListing> {
  return call(participantBase(baseUrl, sessionId), { headers: auth(identityToken) });
}

/**
 * Where a version's file is (the latest without `version`). The request needs the identity token as a
 * Bearer header, so a plain link cannot open it: use `downloadDocument`, or fetch it with the header.
 */
export function documentContentUrl(baseUrl: string, sessionId: string, documentId: string, version?: number): string {
  const base = participantBase(baseUrl, sessionId);
  return version === undefined ? `${base}/${enc(documentId)}/content` : `${base}/${enc(documentId)}/versions/${version}/content`;
}

/** Downloads a version's file (the latest without `version`); the server records the download. */
export function downloadDocument(baseUrl: string, identityToken: string, sessionId: string, documentId: string, version?: number): Promise<DocumentFile> {
  return fetchFile(documentContentUrl(baseUrl, sessionId, documentId, version), identityToken);
}

// ---- the secretariat and the chair ----------------------------------------------------------------------

/** Every document of the session, whatever its audience, and the one in focus. */
export function listSessionDocumentsAsSecretariat(baseUrl: string, identityToken: string, eventId: string, sessionId: string): Promise<DocumentListing> {
  return call(adminBase(baseUrl, eventId, sessionId), { headers: auth(identityToken) });
}

/**
 * Uploads a PDF, DOCX or plain-text file as a new document. The server judges the type from the content
 * (DOCUMENT_TYPE_REFUSED otherwise) and refuses a file over its limit (DOCUMENT_TOO_LARGE).
 */
export async function uploadDocument(
  baseUrl: string,
  identityToken: string,
  eventId: string,
  sessionId: string,
  meta: DocumentMeta,
  file: Blob | ArrayBuffer | Uint8Array,
): Promise<SessionDocument> {
  const query = new URLSearchParams({ title: meta.title, language: meta.language, ...(meta.audience && { audience: meta.audience }) });
  const answer = await call<{ document: SessionDocument }>(`${adminBase(baseUrl, eventId, sessionId)}?${query}`, {
    method: 'POST',
    headers: { ...auth(identityToken), 'content-type': 'application/octet-stream' },
    body: file as BodyInit,
  });
  return answer.document;
}

/** A new document that is a link (https) to the organisation's document system. */
export async function linkDocument(baseUrl: string, identityToken: string, eventId: string, sessionId: string, meta: DocumentMeta & { url: string }): Promise<SessionDocument> {
  const answer = await call<{ document: SessionDocument }>(`${adminBase(baseUrl, eventId, sessionId)}/links`, {
    method: 'POST',
    headers: { ...auth(identityToken), 'content-type': 'application/json' },
    body: JSON.stringify(meta),
  });
  return answer.document;
}

/** A new version of a document, from a file or a link; the older versions stay. */
export async function addDocumentVersion(
  baseUrl: string,
  identityToken: string,
  eventId: string,
  sessionId: string,
  documentId: string,
  content: { file: Blob | ArrayBuffer | Uint8Array } | { url: string },
): Promise<SessionDocument> {
  const base = `${adminBase(baseUrl, eventId, sessionId)}/${enc(documentId)}/versions`;
  const init: RequestInit =
    'url' in content
      ? { method: 'POST', headers: { ...auth(identityToken), 'content-type': 'application/json' }, body: JSON.stringify({ url: content.url }) }
      : { method: 'POST', headers: { ...auth(identityToken), 'content-type': 'application/octet-stream' }, body: content.file as BodyInit };
  const answer = await call<{ document: SessionDocument }>('url' in content ? `${base}/link` : base, init);
  return answer.document;
}

/** Puts a document in focus for everyone in the session (null: none). */
export function setDocumentFocus(baseUrl: string, identityToken: string, eventId: string, sessionId: string, documentId: string | null): Promise<{ sessionId: string; focus: string | null }> {
  return call(`${adminBase(baseUrl, eventId, sessionId)}/focus`, {
    method: 'POST',
    headers: { ...auth(identityToken), 'content-type': 'application/json' },
    body: JSON.stringify({ documentId }),
  });
}

/** The secretariat's download of any version (recorded in the audit trail as theirs). */
export function downloadDocumentAsSecretariat(baseUrl: string, identityToken: string, eventId: string, sessionId: string, documentId: string, version?: number): Promise<DocumentFile> {
  const base = `${adminBase(baseUrl, eventId, sessionId)}/${enc(documentId)}`;
  return fetchFile(version === undefined ? `${base}/content` : `${base}/versions/${version}/content`, identityToken);
}

async function fetchFile(url: string, identityToken: string): Promise<DocumentFile> {
  const res = await fetch(url, { headers: auth(identityToken) });
  if (!res.ok) throw await failure(res);
  return { blob: await res.blob(), fileName: fileNameOf(res.headers.get('content-disposition')), contentType: res.headers.get('content-type') ?? 'application/octet-stream' };
}

/** The file name from Content-Disposition: the UTF-8 `filename*` when present, else the plain one. */
function fileNameOf(disposition: string | null): string {
  const extended = /filename\*=UTF-8''([^;]+)/i.exec(disposition ?? '');
  if (extended) {
    try {
      return decodeURIComponent(extended[1]!);
    } catch {
      // fall through to the plain name
    }
  }
  return /filename="([^"]+)"/i.exec(disposition ?? '')?.[1] ?? 'document';
}

// What an uploaded document is, judged from its bytes alone: the client's file name and Content-Type are
// never consulted, so a page disguised as a PDF is refused rather than stored and served.
import { isUtf8 } from 'node:buffer';
import { listZipEntries } from './zip-directory.js';

export const DOCUMENT_TYPES = {
  pdf: { contentType: 'application/pdf', extension: 'pdf' },
  docx: { contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', extension: 'docx' },
  text: { contentType: 'text/plain; charset=utf-8', extension: 'txt' },
} as const;

export type DocumentKind = keyof typeof DOCUMENT_TYPES;
export type DocumentContentType = (typeof DOCUMENT_TYPES)[DocumentKind]['contentType'];

export type Detection = { ok: true; kind: DocumentKind } | { ok: false; reason: string };

/** The extension a stored content type is served with. */
export function extensionOf(contentType: string): string {
  const known = Object.values(DOCUMENT_TYPES).find((t) => t.contentType === contentType);
  return known?.extension ?? 'bin';
}

const PDF_MAGIC = Buffer.from('%PDF-', 'latin1');
const DOCX_PARTS = ['[Content_Types].xml', 'word/document.xml'];
/** How much of a text file is looked at for markup: browsers sniff about this much too. */
const MARKUP_WINDOW = 1024;
const MARKUP = ['<script', '<html', '<!doctype', '<svg', '<iframe'];

/** PDF, DOCX or plain text; anything else is refused with a reason for the secretariat. Never throws. */
export function detectDocumentType(bytes: Uint8Array): Detection {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length === 0) return { ok: false, reason: 'the file is empty' };
  if (buf.subarray(0, PDF_MAGIC.length).equals(PDF_MAGIC)) return { ok: true, kind: 'pdf' };
  if (buf[0] === 0x50 && buf[1] === 0x4b) return docx(buf);
  return plainText(buf);
}

function docx(buf: Buffer): Detection {
  const zip = listZipEntries(buf);
  if (!zip.ok) return { ok: false, reason: `a ZIP file that is not a DOCX document (${zip.reason})` };
  const names = new Set(zip.names);
  const missing = DOCX_PARTS.filter((part) => !names.has(part));
  if (missing.length > 0) return { ok: false, reason: `a ZIP file that is not a DOCX document (no ${missing.join(', ')})` };
  return { ok: true, kind: 'docx' };
}

function plainText(buf: Buffer): Detection {
  if (buf.includes(0)) return { ok: false, reason: 'binary content (a NUL byte): not a PDF, a DOCX or plain text' };
  if (!isUtf8(buf)) return { ok: false, reason: 'not a PDF, a DOCX or plain UTF-8 text' };
  if (looksLikeMarkup(buf)) return { ok: false, reason: 'HTML, SVG or XML content is not accepted as plain text' };
  return { ok: true, kind: 'text' };
}

/**
 * Whether the start of a text reads as markup a browser might render or run (HTML, SVG, XML with script).
 * Served as an attachment with nosniff it would be inert anyway; refusing it keeps it out of the record.
 */
function looksLikeMarkup(buf: Buffer): boolean {
  // A cut in the middle of a UTF-8 sequence decodes to U+FFFD, which matters not for these ASCII markers.
  const head = buf.subarray(0, MARKUP_WINDOW).toString('utf8').replace(/^\uFEFF/, '').trim().toLowerCase();
  return head.startsWith('<') || MARKUP.some((marker) => head.includes(marker));
}

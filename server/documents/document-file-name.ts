import { extensionOf } from './document-type.js';

// encodeURIComponent throws on half a surrogate pair; titles are checked on the way in, and again here.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The `Content-Disposition` of a document download: always `attachment` (never rendered inline), with a
 * name built from the title, the UN symbol letter and the version. The plain `filename` keeps letters,
 * digits, dot, dash and underscore only (as server/http/attachment.ts does), so nothing the secretariat
 * typed can break the header; `filename*` carries the title in UTF-8, percent-encoded (RFC 6266), for the
 * browsers that read it (an Arabic or Chinese title keeps its name).
 */
export function documentDisposition(title: string, symbolLetter: string, version: number, contentType: string): string {
  const extension = extensionOf(contentType);
  const suffix = `-${symbolLetter.replace(/[^A-Z]/g, '')}-v${version}.${extension}`;
  const ascii = title.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 120) || 'document';
  // encodeURIComponent leaves ' ( ) * ! unescaped; RFC 5987's attr-char excludes them.
  const utf8 = encodeURIComponent(Array.from(title.replace(LONE_SURROGATE, '\uFFFD')).slice(0, 120).join('')).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}${suffix}"; filename*=UTF-8''${utf8}${encodeURIComponent(suffix)}`;
}

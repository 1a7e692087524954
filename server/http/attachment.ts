import type { Response } from 'express';

/**
 * Sets a download's headers. The file name is built from parts the caller has already validated, and is
 * still reduced to letters, digits, dot, dash and underscore here, so nothing a client sent can reach the
 * header (quotes, CR/LF, path separators, non-ASCII).
 */
export function setAttachment(res: Response, contentType: string, nameParts: string[], extension: 'csv' | 'txt'): void {
  const base = nameParts.map((p) => p.replace(/[^A-Za-z0-9._-]/g, '_')).join('-').replace(/^\.+/, '').slice(0, 150) || 'download';
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Disposition', `attachment; filename="${base}.${extension}"`);
}

// Document type detection from the content alone (issue 14, documents): PDF, DOCX (a ZIP with Word's
// parts, read from its central directory by hand), plain UTF-8 text; and refusals that never throw or hang
// on damaged or crafted archives.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { documentDisposition } from '../../server/documents/document-file-name.js';
import { linkBody, symbolLetterOf, uploadQuery } from '../../server/documents/document-model.js';
import { detectDocumentType } from '../../server/documents/document-type.js';
import { listZipEntries, ZIP_MAX_ENTRIES } from '../../server/documents/zip-directory.js';
import { minimalDocx, minimalPdf, zipStored } from '../helpers/documents-fixtures.js';

const kind = (bytes: Uint8Array | string) => {
  const d = detectDocumentType(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes);
  return d.ok ? d.kind : 'refused';
};

describe('documents: type detection', () => {
  it('accepts a PDF by its %PDF- header, a DOCX by its parts and UTF-8 text in any script', () => {
    expect(kind(minimalPdf('Draft resolution'))).toBe('pdf');
    expect(kind(minimalDocx('Draft resolution'))).toBe('docx');
    expect(kind('Draft resolution\nOperative paragraph 1.\n')).toBe('text');
    expect(kind('\uFEFFمشروع قرار — 决议草案 — Проект резолюции')).toBe('text');
    // A "<" later in a text is prose, not markup.
    expect(kind('Paragraph 3: if a < b then the Committee decides.')).toBe('text');
  });

  it('refuses HTML, SVG and script whatever the file claims to be', () => {
    for (const page of [
      '<html><body>hi</body></html>',
      '  \n<!DOCTYPE html><p>x',
      '\uFEFF<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
      '<?xml version="1.0"?><x/>',
      'Dear delegates, <script>alert(1)</script>',
      'Notes <IFRAME src="https://evil.example">',
      'Plain first line\n<HTML>',
    ]) {
      expect(detectDocumentType(Buffer.from(page, 'utf8')), page).toMatchObject({ ok: false, reason: expect.stringMatching(/HTML, SVG or XML/) });
    }
  });

  it('refuses binary, invalid UTF-8, NUL bytes and empty files', () => {
    expect(kind(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe('refused'); // PNG
    expect(kind(Buffer.from('MZ\x90\x00', 'latin1'))).toBe('refused');
    expect(kind(Buffer.from([0x61, 0xc3, 0x28]))).toBe('refused');
    expect(kind(Buffer.from('text\u0000more', 'utf8'))).toBe('refused');
    expect(kind(Buffer.alloc(0))).toBe('refused');
    // "%PDF" must open the file: a PDF header later is not a PDF, and this is not valid text either.
    expect(kind(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('%PDF-1.4')]))).toBe('refused');
  });

  it('refuses a ZIP that is not a DOCX (no Word parts, or only one of them)', () => {
    expect(detectDocumentType(zipStored([{ name: 'readme.txt', data: 'hello' }]))).toMatchObject({ ok: false, reason: expect.stringMatching(/not a DOCX/) });
    expect(kind(zipStored([{ name: '[Content_Types].xml', data: '<Types/>' }]))).toBe('refused');
    expect(kind(zipStored([{ name: 'word/document.xml', data: '<w:document/>' }]))).toBe('refused');
    // An ODF text document is a ZIP too.
    expect(kind(zipStored([{ name: 'mimetype', data: 'application/vnd.oasis.opendocument.text' }, { name: 'content.xml', data: '<x/>' }]))).toBe('refused');
  });

  it('reads the central directory of a stored ZIP', () => {
    const listing = listZipEntries(minimalDocx('x'));
    expect(listing).toEqual({ ok: true, names: ['[Content_Types].xml', '_rels/.rels', 'word/document.xml'] });
  });

  it('refuses truncated, garbled, polyglot and oversized archives without throwing', () => {
    const docx = minimalDocx('x');
    for (let cut = 0; cut < docx.length; cut += 7) {
      expect(() => detectDocumentType(docx.subarray(0, cut))).not.toThrow();
      expect(kind(docx.subarray(0, cut))).toBe('refused');
    }
    // Bytes after the end record, or before the first local header: a file that is also something else.
    expect(kind(Buffer.concat([docx, Buffer.from('<html>')]))).toBe('refused');
    expect(kind(Buffer.concat([Buffer.from('<html>'), docx]))).toBe('refused');
    // Every single byte of the directory and end record flipped in turn: never a throw.
    const directoryStart = docx.length - 22 - (docx.readUInt32LE(docx.length - 22 + 12));
    for (let at = directoryStart; at < docx.length; at += 1) {
      const bad = Buffer.from(docx);
      bad[at] = bad[at]! ^ 0xff;
      expect(() => detectDocumentType(bad)).not.toThrow();
    }
    // An end record claiming a directory beyond the file, a ZIP64 marker, too many entries.
    const lying = Buffer.from(docx);
    lying.writeUInt32LE(0x7fffffff, lying.length - 22 + 16);
    expect(listZipEntries(lying)).toMatchObject({ ok: false });
    const zip64 = Buffer.from(docx);
    zip64.writeUInt16LE(0xffff, zip64.length - 22 + 8);
    zip64.writeUInt16LE(0xffff, zip64.length - 22 + 10);
    expect(listZipEntries(zip64)).toMatchObject({ ok: false, reason: 'a ZIP64 archive' });
    const many = zipStored(Array.from({ length: ZIP_MAX_ENTRIES + 1 }, (_, i) => ({ name: `f${i}`, data: '' })));
    expect(listZipEntries(many)).toMatchObject({ ok: false, reason: 'too many ZIP entries' });
    // A name longer than any document part.
    expect(listZipEntries(zipStored([{ name: 'a'.repeat(2000), data: '' }]))).toMatchObject({ ok: false });
  });

  it('refuses random bytes that start like a ZIP, quickly, however large', () => {
    for (let i = 0; i < 200; i += 1) {
      const bytes = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), randomBytes(64 + i * 37)]);
      expect(kind(bytes)).toBe('refused');
    }
    // 8 MiB of noise with an end-record signature near the end: bounded by the comment window, not the size.
    const big = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), randomBytes(8 * 1024 * 1024)]);
    big.writeUInt32LE(0x06054b50, big.length - 30);
    expect(kind(big)).toBe('refused');
  });
});

describe('documents: metadata', () => {
  it('derives the UN symbol letter from the language and validates uploads and links', () => {
    expect(['ar', 'zh', 'en', 'fr', 'ru', 'es'].map((l) => symbolLetterOf(l as 'en'))).toEqual(['A', 'C', 'E', 'F', 'R', 'S']);
    expect(uploadQuery.safeParse({ title: 'Draft', language: 'en' }).data).toEqual({ title: 'Draft', language: 'en', audience: 'everyone' });
    expect(uploadQuery.safeParse({ title: 'Draft', language: 'de' }).success).toBe(false);
    expect(uploadQuery.safeParse({ title: 'Draft', language: 'en', audience: 'everybody' }).success).toBe(false);
    expect(uploadQuery.safeParse({ title: 'a\u0000b', language: 'en' }).success).toBe(false);
    expect(uploadQuery.safeParse({ title: 'Draft', language: 'en', extra: '1' }).success).toBe(false);
    const link = (url: string) => linkBody.safeParse({ title: 'L.1', language: 'fr', url }).success;
    expect(link('https://docs.example.org/doc/A/79/L.1')).toBe(true);
    for (const url of ['http://docs.example.org/x', 'javascript:alert(1)', 'file:///etc/passwd', 'https://user:pw@docs.example.org/', 'data:text/html,<p>', 'not a url']) {
      expect(link(url), url).toBe(false);
    }
  });

  it('builds a safe attachment name from any title', () => {
    expect(documentDisposition('Draft resolution L.1', 'E', 2, 'application/pdf')).toBe(
      `attachment; filename="Draft_resolution_L.1-E-v2.pdf"; filename*=UTF-8''Draft%20resolution%20L.1-E-v2.pdf`,
    );
    const header = documentDisposition('"quoted"\r\nX-Evil: 1 ../../etc', 'F', 1, 'text/plain; charset=utf-8');
    expect(header).not.toMatch(/[\r\n]/);
    expect(header).toMatch(/^attachment; filename="[A-Za-z0-9._-]+-F-v1\.txt"; filename\*=UTF-8''[A-Za-z0-9%._~-]+$/);
    expect(documentDisposition('مشروع قرار', 'A', 1, 'application/pdf')).toMatch(/^attachment; filename="document-A-v1\.pdf"; filename\*=UTF-8''%D9%85/);
  });
});

import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Download, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCESS_CODE } from '../../accreditation/demo-seed.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { artifactPath, launchChromium } from '../helpers/browser.js';
import { minimalPdf } from '../helpers/documents-fixtures.js';
import { startTestServer } from '../helpers/test-server.js';
import { catalogue, openWebPage, seriousViolations, type Translate } from '../helpers/webapp.js';

// Session documents in the web app (issue 14), real Chromium against a real server with the demo event, in
// English and in Arabic (right to left). The secretariat uploads a PDF and an interpreters-only text file in
// the console (a disguised HTML file is refused with the translated DOCUMENT_TYPE_REFUSED), then puts the PDF
// in focus. The interpreter's booth page hears the focus live: the PDF shows with its symbol letter, marked,
// its booth's own language version listed first, and downloads with the same bytes. The delegate's page shows
// the focus live (no reload), announced in the live region, and never lists the interpreters-only file.
// Clearing the focus reaches the delegate too. axe-core checks each state; no page error nor CSP violation.

const CASES = {
  en: { session: 'demo-council', interpreter: 'elodie.martin@interpreters.example', booth: 'fr', delegate: 'beatriz.souza@demo.br' },
  ar: { session: 'demo-plenary', interpreter: 'yasmin.khalil@interpreters.example', booth: 'ar', delegate: 'camille.durand@demo.fr' },
} as const;
const SECRETARIAT = 'sofia.rossi@secretariat.example';
const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'docs', 'screenshots');

let browser: Browser;
let server: MeetingServer;

beforeAll(async () => {
  [browser, server] = await Promise.all([launchChromium(), startTestServer()]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function signIn(page: Page, t: Translate, email: string): Promise<void> {
  await page.getByTestId('sign-in-form').waitFor();
  await page.getByLabel(t('signIn.email')).fill(email);
  await page.getByLabel(t('signIn.accessCode')).fill(DEMO_ACCESS_CODE);
  await page.getByRole('button', { name: t('signIn.submit'), exact: true }).click();
}

async function expectAccessible(page: Page, state: string): Promise<void> {
  expect(await seriousViolations(page), `axe-core, ${state}`).toEqual([]);
}

/** A title as the pages set it inside a sentence: between Unicode isolates (FSI … PDI), so the bidi order holds. */
const iso = (title: string): string => `\u2068${title}\u2069`;
const said = (page: Page, text: string) => page.getByTestId('live-region').filter({ hasText: text }).waitFor();

async function bytesOf(download: Download): Promise<Buffer> {
  const stream = await download.createReadStream();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Uploads through the console's form, by its labels; the new document's row once listed (or the refusal). */
async function upload(panel: Locator, t: Translate, meta: { title: string; language: string; audience: string }, file: { name: string; mimeType: string; buffer: Buffer }): Promise<void> {
  const form = panel.getByTestId('document-upload-form');
  await form.getByLabel(t('documents.console.title')).fill(meta.title);
  await form.getByLabel(t('documents.console.language')).selectOption(meta.language);
  await form.getByLabel(t('documents.console.audience')).selectOption(meta.audience);
  await form.getByLabel(t('documents.console.file')).setInputFiles(file);
  await form.getByRole('button', { name: t('documents.console.upload'), exact: true }).click();
}

describe.each(['en', 'ar'] as const)('documents in the web app, %s', (locale) => {
  const t = catalogue(locale);
  const c = CASES[locale];
  const pdfTitle = locale === 'en' ? 'Draft resolution L.3' : 'مشروع القرار L.3';
  const textTitle = locale === 'en' ? 'Booth glossary' : 'مسرد المقصورة';
  const pdf = minimalPdf(`L.3 ${locale}`);

  it('upload and refusal in the console, the focus live in the booth and on the delegate page, download', async () => {
    // The interpreter's booth and the delegate's room, before any document.
    const booth = await openWebPage(browser, `${server.url}/booth?session=${c.session}`, locale);
    await signIn(booth.page, t, c.interpreter);
    await booth.page.getByTestId('booth-console').waitFor({ timeout: 30_000 });
    const boothDocs = booth.page.getByTestId('documents');
    await boothDocs.getByTestId('documents-empty').waitFor();

    const delegate = await openWebPage(browser, `${server.url}/delegate?session=${c.session}`, locale, { viewport: { width: 1280, height: 900 } });
    expect(await delegate.page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual([locale, locale === 'ar' ? 'rtl' : 'ltr']);
    await signIn(delegate.page, t, c.delegate);
    await delegate.page.getByTestId('prejoin').waitFor({ timeout: 15_000 });
    await delegate.page.getByRole('button', { name: t('delegate.prejoin.join') }).click();
    await delegate.page.getByTestId('room').waitFor({ timeout: 20_000 });
    const delegateDocs = delegate.page.getByTestId('documents');
    await delegateDocs.getByTestId('documents-empty').waitFor();
    // Marks this page: a reload would lose it (the focus must arrive live).
    await delegate.page.evaluate(() => ((window as unknown as { documentsMark: number }).documentsMark = 1));
    await expectAccessible(delegate.page, 'delegate, no documents');

    // The secretariat's console on the same session.
    const secretariat = await openWebPage(browser, `${server.url}/console?session=${c.session}`, locale, { viewport: { width: 1280, height: 1000 } });
    await signIn(secretariat.page, t, SECRETARIAT);
    const panel = secretariat.page.getByTestId('documents-console');
    await panel.getByTestId('documents-empty').waitFor({ timeout: 20_000 });
    await expectAccessible(secretariat.page, 'console, no documents');

    // A disguised HTML page, named and typed as text: refused by its content, the refusal translated.
    await upload(panel, t, { title: 'Notes', language: 'en', audience: 'everyone' }, { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('<!DOCTYPE html><html><script>alert(1)</script></html>') });
    const refusal = panel.locator('[data-testid="documents-error"][data-code="DOCUMENT_TYPE_REFUSED"]');
    await refusal.waitFor();
    expect(await refusal.textContent()).toBe(t('documents.errors.DOCUMENT_TYPE_REFUSED'));
    await expectAccessible(secretariat.page, 'console, upload refused');

    // The PDF for everyone (E), and a text file for the interpreters in the booth's language.
    await upload(panel, t, { title: pdfTitle, language: 'en', audience: 'everyone' }, { name: 'draft.pdf', mimeType: 'application/pdf', buffer: pdf });
    const pdfRow = panel.getByTestId('document').filter({ has: secretariat.page.getByTestId('document-title').getByText(pdfTitle, { exact: true }) });
    await pdfRow.waitFor();
    expect(await panel.getByTestId('documents-error').getAttribute('data-code')).toBe('');
    await upload(panel, t, { title: textTitle, language: c.booth, audience: 'interpreters' }, { name: 'glossary.txt', mimeType: 'text/plain', buffer: Buffer.from('point of order — نقطة نظام — motion d’ordre\n') });
    const textRow = panel.getByTestId('document').filter({ has: secretariat.page.getByTestId('document-title').getByText(textTitle, { exact: true }) });
    await textRow.waitFor();
    const pdfId = (await pdfRow.getAttribute('data-document-id'))!;
    const textId = (await textRow.getAttribute('data-document-id'))!;
    expect(await pdfRow.getAttribute('data-letter')).toBe('E');
    expect(await pdfRow.getByTestId('document-version').count()).toBe(1);
    await said(secretariat.page, t('documents.console.done.uploaded', { title: iso(textTitle) }));

    // The PDF in focus.
    await pdfRow.getByRole('button', { name: t('documents.console.focusNamed', { title: pdfTitle }) }).click();
    await panel.locator(`[data-testid="documents-focus"][data-document-id="${pdfId}"]`).waitFor();
    expect(await pdfRow.getByRole('button', { name: t('documents.console.focusNamed', { title: pdfTitle }) }).getAttribute('aria-pressed')).toBe('true');
    await expectAccessible(secretariat.page, 'console, documents and focus');
    await secretariat.page.screenshot({ path: artifactPath(`webapp-documents-console-${locale}.png`), fullPage: true });

    // The booth: read again on the focus event; the booth's own language first, the PDF marked with its letter.
    const boothPdf = boothDocs.locator(`[data-testid="documents-language"] [data-testid="document"][data-document-id="${pdfId}"]`);
    await boothDocs.locator(`[data-testid="document"][data-document-id="${pdfId}"][data-focus="true"]`).waitFor({ timeout: 15_000 });
    expect(await boothPdf.getByTestId('document-letter').textContent()).toBe('E');
    expect(await boothPdf.getByTestId('document-focus-badge').textContent()).toBe(t('documents.inFocus'));
    expect(await boothDocs.getByTestId('documents-language').evaluateAll((groups) => groups.map((g) => g.getAttribute('data-language')))).toEqual([c.booth, 'en']);
    expect(await boothDocs.locator(`[data-testid="document"][data-document-id="${textId}"]`).getAttribute('data-focus')).toBe('false');
    expect(await boothDocs.getByTestId('documents-focus-text').textContent()).toBe(t('documents.focus.put', { title: iso(pdfTitle), letter: 'E' }));
    await said(booth.page, t('documents.focus.put', { title: iso(pdfTitle), letter: 'E' }));
    await expectAccessible(booth.page, 'booth, a document in focus');
    await booth.page.getByTestId('documents').screenshot({ path: artifactPath(`webapp-documents-booth-${locale}.png`) });

    // The download: fetched with the interpreter's token, saved under the server's name, the very bytes uploaded.
    const [download] = await Promise.all([booth.page.waitForEvent('download'), boothPdf.getByRole('button', { name: t('documents.downloadNamed', { title: pdfTitle }) }).click()]);
    expect(download.suggestedFilename()).toMatch(/-E-v1\.pdf$/);
    expect((await bytesOf(download)).equals(pdf)).toBe(true);
    expect(await boothDocs.getByTestId('documents-error').count()).toBe(0);

    // The delegate: the focus live, prominent and announced; the interpreters-only file never listed.
    const banner = delegateDocs.locator(`[data-testid="documents-focus"][data-document-id="${pdfId}"]`);
    await banner.waitFor({ timeout: 15_000 });
    expect(await banner.getByTestId('documents-focus-text').textContent()).toBe(t('documents.focus.put', { title: iso(pdfTitle), letter: 'E' }));
    await said(delegate.page, t('documents.focus.put', { title: iso(pdfTitle), letter: 'E' }));
    expect(await delegate.page.evaluate(() => (window as unknown as { documentsMark?: number }).documentsMark)).toBe(1);
    expect(await delegateDocs.getByTestId('documents-details').locator('summary').textContent()).toBe(t('documents.showAll', { number: 1 }));
    await delegateDocs.getByTestId('documents-details').locator('summary').click();
    expect(await delegateDocs.getByTestId('document').evaluateAll((items) => items.map((i) => i.getAttribute('data-document-id')))).toEqual([pdfId]);
    expect(await delegateDocs.textContent()).not.toContain(textTitle);
    await expectAccessible(delegate.page, 'delegate, a document in focus');
    await delegate.page.screenshot({ path: artifactPath(`webapp-documents-delegate-${locale}.png`), fullPage: true });

    // The focus cleared in the console: the delegate's banner goes, and that is said too.
    await panel.getByRole('button', { name: t('documents.console.clearFocus'), exact: true }).click();
    await panel.locator('[data-testid="documents-focus"][data-document-id=""]').waitFor();
    await delegateDocs.getByTestId('documents-focus').waitFor({ state: 'detached', timeout: 15_000 });
    await said(delegate.page, t('documents.focus.cleared'));
    await boothDocs.locator(`[data-testid="document"][data-document-id="${pdfId}"][data-focus="false"]`).waitFor({ timeout: 15_000 });
    expect(await delegate.page.evaluate(() => (window as unknown as { documentsMark?: number }).documentsMark)).toBe(1);

    mkdirSync(SCREENSHOTS, { recursive: true });
    copyFileSync(artifactPath(`webapp-documents-booth-${locale}.png`), join(SCREENSHOTS, `webapp-documents-booth-${locale}.png`));

    expect(booth.problems).toEqual([]);
    expect(delegate.problems).toEqual([]);
    expect(secretariat.problems).toEqual([]);
    for (const p of [booth.page, delegate.page, secretariat.page]) await p.context().close();
  }, 240_000);
});

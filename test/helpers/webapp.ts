// Helpers for the web app's browser tests (test/e2e/webapp-*.test.ts): the pages' catalogues as the page
// merges them, axe-core run inside the page, and a page opened with its errors and CSP violations collected.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';

const LOCALES_DIR = join(import.meta.dirname, '..', '..', 'web', 'src', 'i18n', 'locales');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** A language's messages by dotted key, placeholders filled as i18next does; a missing key throws. */
export type Translate = (key: string, values?: Record<string, string | number>) => string;

/** All parts of a language's catalogue (web/src/i18n/locales/<lang>/*.json), merged as the page merges them. */
export function catalogue(lang: string): Translate {
  const merged: Record<string, unknown> = {};
  for (const file of readdirSync(join(LOCALES_DIR, lang)).filter((f) => f.endsWith('.json'))) {
    Object.assign(merged, JSON.parse(readFileSync(join(LOCALES_DIR, lang, file), 'utf8')) as Record<string, unknown>);
  }
  return (key, values = {}) => {
    let node: unknown = merged;
    for (const part of key.split('.')) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined;
    if (typeof node !== 'string') throw new Error(`the ${lang} catalogue has no message ${key}`);
    return node.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => String(values[name] ?? ''));
  };
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: { target: string[] }[];
}

/** Runs axe-core in the page (evaluated through the debugging protocol, so the CSP stays as served). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  const violations = await page.evaluate(async (source) => {
    const w = window as unknown as { axe?: { run(): Promise<{ violations: AxeViolation[] }> } };
    if (!w.axe) (0, eval)(source);
    return (await w.axe!.run()).violations;
  }, AXE_SOURCE);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * A fresh browser context in `locale` opened at `url`, collecting page errors, console errors (failed
 * requests aside: a refused sign-in is one, on purpose) and CSP violations into `problems`.
 */
export async function openWebPage(
  browser: Browser,
  url: string,
  locale: string,
  options: BrowserContextOptions = {},
): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ locale, ...options });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (msg) => msg.type() === 'error' && !msg.text().startsWith('Failed to load resource') && problems.push(`console: ${msg.text()}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  const response = await page.goto(url);
  if (response?.status() !== 200) throw new Error(`${url}: HTTP ${response?.status()}`);
  if (!response.headers()['content-security-policy']?.includes("script-src 'self'")) throw new Error(`${url}: served without the CSP`);
  return { page, problems };
}

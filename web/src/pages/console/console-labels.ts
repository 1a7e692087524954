// Translated labels for codes the console shows: roles, entity types, errors with their stable codes.
import type { TFunction } from 'i18next';
import { reasonMessage } from '../../shared/api-errors';
import { languageName } from '../../shared/i18n';

export { ROLES, entityTypeLabel, roleLabel } from '../../shared/person-labels';

export const AUDIT_DECISIONS = ['allow', 'lobby', 'deny', 'lobby-admit', 'lobby-deny', 'revoke', 'remove', 'document-upload', 'document-download', 'recording-download', 'dial-in-pin-issue', 'dial-in-pin-revoke'] as const;
/** Dial-in's own decisions and reasons, labelled from its catalogue part (dialin.json). */
const DIAL_IN_DECISIONS = new Set(['dial-in-pin-issue', 'dial-in-pin-revoke']);
const DIAL_IN_REASONS = new Set(['PIN_INVALID', 'PIN_ATTEMPTS_EXCEEDED']);
/** The six official UN languages, as a session's interpretation channels. */
export const UN_LANGUAGES = ['ar', 'zh', 'en', 'fr', 'ru', 'es'] as const;

const ERROR_CODES = new Set([
  'BAD_REQUEST', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'INVALID_STATE', 'INVALID_TRANSITION', 'ID_IN_USE', 'UNAVAILABLE',
  'RATE_LIMITED', 'LIMIT_REACHED', 'BOOTH_OCCUPIED', 'NOT_JOINED', 'NOT_CONNECTED', 'TIMEOUT', 'NOT_ACCREDITED', 'IN_LOBBY',
]);

/** Decisions the trail may hold (the filter offers those the audit query takes). */
const DECISION_LABELS: readonly string[] = AUDIT_DECISIONS;
const AUDIT_SOURCES = new Set(['live', 'cache', 'grace', 'unavailable', 'none', 'secretariat', 'registry-change', 'webhook', 'revalidation']);
const SECRETARIAT_REASONS = new Set(['ADMITTED_BY_SECRETARIAT', 'DENIED_BY_SECRETARIAT', 'REMOVED_BY_SECRETARIAT', 'RESUME']);

export function decisionLabel(t: TFunction, decision: string): string {
  if (DIAL_IN_DECISIONS.has(decision)) return t(`dialIn.decisions.${decision}`);
  return DECISION_LABELS.includes(decision) ? t(`console.audit.decisions.${decision}`) : decision;
}

export function sourceLabel(t: TFunction, source: string): string {
  return AUDIT_SOURCES.has(source) ? t(`console.audit.sources.${source}`) : source;
}

/** A reason of the trail: a join decision's (shared with /events) or one of the secretariat's. */
export function auditReasonLabel(t: TFunction, reason: string): string {
  if (DIAL_IN_REASONS.has(reason)) return t(`dialIn.reasons.${reason}`);
  return SECRETARIAT_REASONS.has(reason) ? t(`console.audit.reasonCodes.${reason}`) : reasonMessage(t, reason);
}

/** An API or signaling failure by its stable code; anything without one is a network failure. */
export function consoleError(t: TFunction, error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
  if (code === undefined) return t('errors.network');
  return ERROR_CODES.has(code) ? t(`console.errors.${code}`) : t('errors.generic', { code });
}

export function errorCodeOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : error === undefined ? '' : 'NETWORK';
}

/** "name — entity", as every person is shown. */
export function personLabel(t: TFunction, p: { name: string; entity: string | { name: string } }): string {
  return t('console.person', { name: p.name, entity: typeof p.entity === 'string' ? p.entity : p.entity.name });
}

/** An interpreter's request to the speaker, e.g. "Grace Taylor (French booth) asks the speaker to slow down." */
export function boothSignalText(t: TFunction, s: { kind: string; language: string; from: { name: string } }, uiLanguage: string): string {
  return t(s.kind === 'repeat' ? 'console.signals.repeat' : 'console.signals.slow_down', { name: s.from.name, language: languageName(s.language, uiLanguage) });
}

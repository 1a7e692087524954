// An API failure as a catalogue key: the stable error code when the catalogue has it, else a generic message.
import type { TFunction } from 'i18next';

const KNOWN = new Set(['UNAUTHENTICATED', 'RATE_LIMITED', 'UNAVAILABLE', 'NOT_ACCREDITED', 'NOT_FOUND', 'BAD_REQUEST', 'ROUTE_NOT_FOUND']);

export function errorMessage(t: TFunction, error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
  if (code === undefined) return t('errors.network'); // fetch itself failed: no answer from the server
  return KNOWN.has(code) ? t(`errors.${code}`) : t('errors.generic', { code });
}

const REASONS = new Set([
  'ADMITTED', 'LOBBY_REQUIRED', 'NOT_REGISTERED', 'REGISTRATION_PENDING', 'REGISTRATION_REJECTED', 'REGISTRATION_WITHDRAWN',
  'REGISTRATION_REVOKED', 'SESSION_NOT_FOUND', 'SESSION_CLOSED', 'SESSION_NOT_OPEN', 'SESSION_SUSPENDED', 'SESSION_LOCKED',
  'NOT_REGISTERED_FOR_SESSION', 'ROLE_NOT_ADMITTED', 'ENTITY_NOT_ADMITTED', 'REGISTRY_UNAVAILABLE',
]);

export function reasonMessage(t: TFunction, reason: string): string {
  return REASONS.has(reason) ? t(`reasons.${reason}`) : t('reasons.other', { code: reason });
}

// Where a person goes back to after signing in at the organisation's provider. The path travels in the OIDC
// state (kept in this tab's sessionStorage); it is still checked on the way back, since a page that sends
// people to wherever a stored value says would be an open redirect.

export const DEFAULT_RETURN_TO = '/events';
const CALLBACK_PATH = '/signed-in';

/** `value` as a path of this origin (path, query, fragment), or /events for anything else. */
export function safeReturnTo(value: unknown, origin: string): string {
  // Only a path: not a URL, not a scheme-relative `//host`, not `/\host` (which browsers read as `//host`).
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return DEFAULT_RETURN_TO;
  let url: URL;
  try {
    url = new URL(value, origin);
  } catch {
    return DEFAULT_RETURN_TO;
  }
  // The parser drops tabs and newlines, so `/\t/host` only shows its host here.
  if (url.origin !== origin || url.pathname === CALLBACK_PATH) return DEFAULT_RETURN_TO;
  return `${url.pathname}${url.search}${url.hash}`;
}

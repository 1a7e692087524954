// How people sign in on this deployment, as GET /api/config says: the organisation's OpenID provider, the
// embedded sign-in (e-mail and access code), or both. Asked once per page.

export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** Absolute, or a path resolved against the page's own origin. */
  redirectUri: string;
  scope: string;
  providerName: string;
}

export interface SignInOptions {
  embeddedSignIn: boolean;
  oidc?: OidcSettings;
}

let pending: Promise<SignInOptions> | undefined;

export function signInOptions(): Promise<SignInOptions> {
  pending ??= fetch('/api/config').then(async (res) => {
    if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status}`), { code: `HTTP_${res.status}` });
    const body = (await res.json()) as { embeddedSignIn?: boolean; oidc?: OidcSettings };
    return { embeddedSignIn: body.embeddedSignIn === true, oidc: body.oidc };
  });
  // A failure is not kept: the next page (or retry) asks again.
  pending.catch(() => (pending = undefined));
  return pending;
}

// Sign-in through the organisation's OpenID provider: the authorization code flow with PKCE (oidc-client-ts),
// the provider's endpoints from its discovery document (<issuer>/.well-known/openid-configuration). The ID token
// it returns is the identity token /api/join takes. Loaded on demand: pages without a provider skip its bundle.
import type { UserManager } from 'oidc-client-ts';
import type { Identity } from './identity-store';
import { safeReturnTo } from './oidc-return-to';
import type { OidcSettings } from './oidc-settings';

async function userManager(settings: OidcSettings): Promise<UserManager> {
  const { UserManager, WebStorageStateStore } = await import('oidc-client-ts');
  // The state (PKCE verifier, return path) lives in this tab only, like the identity itself.
  const store = new WebStorageStateStore({ store: sessionStorage });
  return new UserManager({
    authority: settings.issuer,
    client_id: settings.clientId,
    redirect_uri: new URL(settings.redirectUri, location.origin).href,
    response_type: 'code',
    scope: settings.scope,
    // Plenum needs the ID token only: its claims (e-mail, name) are what the server verifies.
    loadUserInfo: false,
    stateStore: store,
    userStore: store,
    automaticSilentRenew: false,
    monitorSession: false,
  });
}

/** Off to the provider's sign-in; back at /signed-in, then on to `returnTo` (this page by default). */
export async function startProviderSignIn(settings: OidcSettings, returnTo = `${location.pathname}${location.search}`): Promise<void> {
  const manager = await userManager(settings);
  await manager.signinRedirect({ state: { returnTo: safeReturnTo(returnTo, location.origin) } });
}

/** The callback: checks the state, redeems the code with the PKCE verifier, and returns the identity. */
export async function completeProviderSignIn(settings: OidcSettings, url = location.href): Promise<{ identity: Identity; returnTo: string }> {
  const manager = await userManager(settings);
  const user = await manager.signinRedirectCallback(url);
  // oidc-client-ts keeps its own copy (with the access token): the identity store is the one copy Plenum uses.
  await manager.removeUser();
  if (!user.id_token) throw Object.assign(new Error('the provider returned no ID token'), { code: 'NO_ID_TOKEN' });
  const { name, email, sub } = user.profile;
  return {
    identity: { token: user.id_token, name: typeof name === 'string' && name ? name : (email ?? sub) },
    returnTo: safeReturnTo((user.state as { returnTo?: unknown } | undefined)?.returnTo, location.origin),
  };
}

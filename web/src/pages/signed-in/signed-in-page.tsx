// /signed-in: where the organisation's OpenID provider sends the browser back. The code is redeemed (PKCE),
// the ID token becomes the identity, and the person goes back to the page they started from.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useIdentityStore } from '../../shared/identity-store';
import { Layout } from '../../shared/layout';
import { DEFAULT_RETURN_TO } from '../../shared/oidc-return-to';
import { signInOptions } from '../../shared/oidc-settings';

/** The provider's error code (`access_denied`, ...), or `failed` (unknown state, a code refused, no answer). */
function failureCode(error: unknown): string {
  const code = (error as { error?: unknown } | undefined)?.error;
  return typeof code === 'string' && /^[a-z_]{1,64}$/.test(code) ? code : 'failed';
}

let completing: Promise<string> | undefined;

/** Runs once per page load: a callback URL's code and state can be used only once. */
function complete(): Promise<string> {
  completing ??= (async () => {
    const options = await signInOptions();
    if (!options.oidc) throw new Error('no identity provider is configured');
    const { completeProviderSignIn } = await import('../../shared/oidc-client');
    const { identity, returnTo } = await completeProviderSignIn(options.oidc);
    useIdentityStore.getState().setIdentity(identity);
    return returnTo;
  })();
  return completing;
}

export function SignedInPage() {
  const { t, i18n } = useTranslation();
  const [failure, setFailure] = useState<string>();
  useEffect(() => {
    complete().then(
      (returnTo) => location.replace(returnTo),
      (error: unknown) => setFailure(failureCode(error)),
    );
  }, []);
  useEffect(() => {
    document.title = `${t('signIn.heading')} — ${t('app.name')}`;
  }, [t, i18n.language]);
  return (
    <Layout title={t('signIn.heading')}>
      <div className="alert" role="alert" data-testid="sign-in-callback-error" data-code={failure ?? ''}>
        {failure ? t('signIn.callbackFailed') : ''}
      </div>
      {failure ? (
        <p>
          <a href={DEFAULT_RETURN_TO} data-testid="sign-in-again">
            {t('signIn.again')}
          </a>
        </p>
      ) : (
        <p role="status" data-testid="sign-in-completing">
          {t('signIn.completing')}
        </p>
      )}
    </Layout>
  );
}

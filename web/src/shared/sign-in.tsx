// The sign-in every page shows to someone not signed in: "Sign in with <organisation>" when the deployment has
// an OpenID provider (GET /api/config says), and the embedded sign-in (e-mail and access code) when it is on.
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessage } from './api-errors';
import { useIdentityStore } from './identity-store';
import { signInOptions, type OidcSettings, type SignInOptions } from './oidc-settings';

function ProviderSignIn({ settings, onFailed }: { settings: OidcSettings; onFailed(failed: boolean): void }) {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  const start = () => {
    setBusy(true);
    onFailed(false);
    // The page is left on success; on failure (provider unreachable, no discovery document) it says so.
    import('./oidc-client')
      .then(({ startProviderSignIn }) => startProviderSignIn(settings))
      .catch(() => {
        setBusy(false);
        onFailed(true);
      });
  };
  return (
    <p>
      <button type="button" onClick={start} disabled={busy} data-testid="sign-in-provider">
        {busy ? t('signIn.redirecting', { provider: settings.providerName }) : t('signIn.withProvider', { provider: settings.providerName })}
      </button>
    </p>
  );
}

function EmbeddedSignIn({ withHeading, onSubmit }: { withHeading: boolean; onSubmit(): void }) {
  const { t } = useTranslation();
  const busy = useIdentityStore((s) => s.busy);
  const signIn = useIdentityStore((s) => s.signInWithCode);
  const [email, setEmail] = useState('');
  const [code, setCode] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit();
    void signIn(email.trim(), code);
  };
  return (
    <>
      {withHeading && <h3 id="sign-in-code-heading">{t('signIn.withAccessCode')}</h3>}
      <form className="sign-in" onSubmit={submit} data-testid="sign-in-form" aria-labelledby={withHeading ? 'sign-in-code-heading' : undefined}>
        <label>
          {t('signIn.email')}
          <input type="email" required maxLength={254} autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} data-testid="email" />
        </label>
        <label>
          {t('signIn.accessCode')}
          <input type="password" required maxLength={128} autoComplete="current-password" value={code} onChange={(e) => setCode(e.target.value)} data-testid="access-code" />
        </label>
        <button type="submit" disabled={busy} data-testid="sign-in-submit">
          {busy ? t('signIn.busy') : t('signIn.submit')}
        </button>
      </form>
    </>
  );
}

export function SignInForm() {
  const { t } = useTranslation();
  const embeddedError = useIdentityStore((s) => s.error);
  const [options, setOptions] = useState<SignInOptions>();
  const [error, setError] = useState<unknown>();
  const [providerFailed, setProviderFailed] = useState(false);
  useEffect(() => {
    let live = true;
    signInOptions().then(
      (o) => live && setOptions(o),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, []);
  const shown = error ?? embeddedError;
  const message = providerFailed && options?.oidc ? t('signIn.providerFailed', { provider: options.oidc.providerName }) : shown !== undefined ? errorMessage(t, shown) : '';
  const code = providerFailed ? 'PROVIDER_UNREACHABLE' : ((shown as { code?: string } | undefined)?.code ?? '');
  return (
    <section aria-labelledby="sign-in-heading" aria-busy={!options && error === undefined}>
      <h2 id="sign-in-heading">{t('signIn.heading')}</h2>
      <div className="alert" role="alert" data-testid="sign-in-error" data-code={code}>
        {message}
      </div>
      {options?.oidc && <ProviderSignIn settings={options.oidc} onFailed={setProviderFailed} />}
      {options?.embeddedSignIn && <EmbeddedSignIn withHeading={options.oidc !== undefined} onSubmit={() => setProviderFailed(false)} />}
    </section>
  );
}

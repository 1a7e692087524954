// The sign-in every page shows to someone not signed in: the embedded sign-in (e-mail and access code).
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessage } from './api-errors';
import { useIdentityStore } from './identity-store';

export function SignInForm() {
  const { t } = useTranslation();
  const busy = useIdentityStore((s) => s.busy);
  const error = useIdentityStore((s) => s.error);
  const signIn = useIdentityStore((s) => s.signInWithCode);
  const [email, setEmail] = useState('');
  const [code, setCode] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void signIn(email.trim(), code);
  };
  return (
    <section aria-labelledby="sign-in-heading">
      <h2 id="sign-in-heading">{t('signIn.heading')}</h2>
      <div className="alert" role="alert" data-testid="sign-in-error" data-code={(error as { code?: string } | undefined)?.code ?? ''}>
        {error !== undefined ? errorMessage(t, error) : ''}
      </div>
      <form className="sign-in" onSubmit={submit} data-testid="sign-in-form">
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
    </section>
  );
}

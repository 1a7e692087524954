// Dev mode only (PLENUM_DEV_MODE, never in production): join any room under any name without accreditation,
// as the old demo page allowed; the server refuses /dev/token otherwise, and the form is not shown.
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessage } from '../../shared/api-errors';
import { useDelegateStore } from './delegate-store';

async function devModeOn(): Promise<boolean> {
  const res = await fetch('/api/config');
  return res.ok && ((await res.json()) as { devMode?: boolean }).devMode === true;
}

async function devToken(name: string, room: string): Promise<string> {
  const res = await fetch('/dev/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, room }) });
  const body = (await res.json().catch(() => ({}))) as { token?: string; error?: { code: string } };
  if (!res.ok || !body.token) throw Object.assign(new Error(body.error?.code ?? `HTTP_${res.status}`), { code: body.error?.code ?? `HTTP_${res.status}` });
  return body.token;
}

export function DevJoin({ room: initialRoom }: { room: string | null }) {
  const { t } = useTranslation();
  const devJoin = useDelegateStore((s) => s.devJoin);
  const [enabled, setEnabled] = useState(false);
  const [name, setName] = useState('');
  const [room, setRoom] = useState(initialRoom ?? 'demo');
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    let live = true;
    devModeOn()
      .then((on) => live && setEnabled(on))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);
  if (!enabled) return null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    devToken(name.trim(), room.trim())
      .then((token) => devJoin(token, room.trim(), name.trim()))
      .catch(setError);
  };
  return (
    <details className="dev-join" data-testid="dev-join">
      <summary>{t('delegate.dev.summary')}</summary>
      {error !== undefined && (
        <p className="alert" role="alert">
          {errorMessage(t, error)}
        </p>
      )}
      <form className="sign-in" onSubmit={submit}>
        <label>
          {t('delegate.dev.name')}
          <input required maxLength={64} autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} data-testid="dev-name" />
        </label>
        <label>
          {t('delegate.dev.room')}
          <input required maxLength={64} pattern="[A-Za-z0-9._\-]+" value={room} onChange={(e) => setRoom(e.target.value)} data-testid="dev-room" />
        </label>
        <button type="submit" data-testid="dev-join-submit">
          {t('delegate.dev.join')}
        </button>
      </form>
    </details>
  );
}

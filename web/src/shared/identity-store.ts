// Who is signed in, shared by every page: the identity token that /api/join and the admin API take. Kept in
// sessionStorage so that /events → /delegate (or /booth, /console) needs no second sign-in, and so that it
// ends with the browser tab. An identity whose token has expired is dropped: the person signs in again.
import { create } from 'zustand';
import { signIn as embeddedSignIn } from '../../../client-sdk/src/accreditation-api';

export interface Identity {
  token: string;
  name: string;
  /** The event the token is good for, when the sign-in says (the embedded sign-in does). */
  eventId?: string;
}

interface IdentityState {
  identity?: Identity;
  busy: boolean;
  error?: unknown;
  signInWithCode(email: string, accessCode: string): Promise<void>;
  /** For a sign-in done elsewhere (the organisation's identity provider). */
  setIdentity(identity: Identity): void;
  signOut(): void;
}

const STORAGE_KEY = 'plenum.identity';

/** When the token's `exp` claim says it ends (ms), if it says; the server checks the token itself. */
export function tokenExpiresAt(token: string): number | undefined {
  try {
    const payload = token.split('.')[1] ?? '';
    const { exp } = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Expired (or not a JWT at all): a join with it would only be refused. */
export function isExpired(identity: Identity, now = Date.now()): boolean {
  const expiresAt = tokenExpiresAt(identity.token);
  return expiresAt === undefined || expiresAt <= now;
}

function stored(): Identity | undefined {
  try {
    const value = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as Identity | null;
    if (!value || typeof value.token !== 'string' || typeof value.name !== 'string') return undefined;
    if (isExpired(value)) {
      sessionStorage.removeItem(STORAGE_KEY);
      return undefined;
    }
    return value;
  } catch {
    return undefined; // storage blocked or damaged: sign in again
  }
}

function store(identity: Identity | undefined): void {
  try {
    if (identity) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(identity));
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage blocked: the sign-in lasts for this page only
  }
}

export const useIdentityStore = create<IdentityState>((set) => ({
  identity: stored(),
  busy: false,
  async signInWithCode(email, accessCode) {
    set({ busy: true, error: undefined });
    try {
      const { identityToken, name, eventId } = await embeddedSignIn('', email, accessCode);
      const identity = { token: identityToken, name, eventId };
      store(identity);
      set({ identity, busy: false });
    } catch (error) {
      set({ error, busy: false });
    }
  },
  setIdentity(identity) {
    store(identity);
    set({ identity, error: undefined });
  },
  signOut() {
    store(undefined);
    set({ identity: undefined });
  },
}));

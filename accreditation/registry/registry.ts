import type { Registration } from '../model.js';

export interface RegistryQuery {
  eventId: string;
  /** The identity's e-mail (lower-cased): the usual key between an identity provider and a CRM. */
  email?: string;
  /** Or the CRM's own person id, when the identity provider carries it. */
  personId?: string;
}

/** The organisation's registration registry for events. Embedded or REST; callers never know which. */
export interface Registry {
  readonly kind: string;
  /** The person's registration for the event, or null when they have none. Throws RegistryUnavailableError on outage. */
  lookup(query: RegistryQuery): Promise<Registration | null>;
}

/** The registry could not answer (down, slow, malformed answer): the outage policy decides what follows. */
export class RegistryUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryUnavailableError';
  }
}

export function queryKey(q: RegistryQuery): string {
  return `${q.eventId}\u0000${q.personId ? `id:${q.personId}` : `email:${(q.email ?? '').toLowerCase()}`}`;
}

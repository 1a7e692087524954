/** A person as their identity provider vouches for them. */
export interface Identity {
  issuer: string;
  subject: string;
  email?: string;
  name?: string;
  /** The CRM person id, when the identity provider carries it in a claim. */
  personId?: string;
  /** The one event this identity may act for (embedded sign-in tokens name it); absent: any event. */
  eventId?: string;
}

export interface IdentityVerifier {
  /** Resolves the identity in a token, or rejects with IdentityError. */
  verify(token: string): Promise<Identity>;
}

export class IdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityError';
  }
}

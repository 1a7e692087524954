import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { JwtIdentityVerifier } from './jwt-identity-verifier.js';

export const EMBEDDED_ISSUER = 'plenum-embedded';
export const EMBEDDED_AUDIENCE = 'plenum';

/**
 * The built-in sign-in of embedded mode: it issues the same kind of identity token an external provider
 * would (HS256 with its own secret), and the verifier for it.
 */
export class EmbeddedIdentityProvider {
  readonly verifier: JwtIdentityVerifier;
  private readonly key: KeyObject;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = createSecretKey(Buffer.from(secret));
    this.verifier = new JwtIdentityVerifier({
      issuer: EMBEDDED_ISSUER,
      audience: EMBEDDED_AUDIENCE,
      key: { kind: 'shared-secret', secret },
      clockSkewSeconds: 5,
      emailClaim: 'email',
      nameClaim: 'name',
      personIdClaim: 'pid',
      eventClaim: 'event',
      requireEvent: true,
    });
  }

  /**
   * The token names the registration it was issued for (event and person): an access code proves who one is
   * in one event, so the token is good for that event only (joins, the admin API).
   */
  issue(person: { eventId: string; personId: string; email: string; name: string }): string {
    return jwt.sign({ email: person.email, name: person.name, event: person.eventId, pid: person.personId }, this.key, {
      algorithm: 'HS256',
      issuer: EMBEDDED_ISSUER,
      audience: EMBEDDED_AUDIENCE,
      subject: `embedded:${person.eventId}:${person.personId}`,
      expiresIn: this.ttlSeconds,
    });
  }
}

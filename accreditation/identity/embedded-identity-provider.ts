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

  constructor(
    private readonly secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.verifier = new JwtIdentityVerifier({
      issuer: EMBEDDED_ISSUER,
      audience: EMBEDDED_AUDIENCE,
      key: { kind: 'shared-secret', secret },
      clockSkewSeconds: 5,
      emailClaim: 'email',
      nameClaim: 'name',
    });
  }

  /** The token names the person by e-mail only: person ids are per event, and the registry maps e-mail to each. */
  issue(person: { email: string; name: string }): string {
    return jwt.sign({ email: person.email, name: person.name }, this.secret, {
      algorithm: 'HS256',
      issuer: EMBEDDED_ISSUER,
      audience: EMBEDDED_AUDIENCE,
      subject: `embedded:${person.email}`,
      expiresIn: this.ttlSeconds,
    });
  }
}

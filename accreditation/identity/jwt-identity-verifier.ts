import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { IdentityError, type Identity, type IdentityVerifier } from './identity.js';
import type { JwksKeySource } from './jwks-key-source.js';

export type AsymmetricAlgorithm = 'RS256' | 'ES256';

export type KeyConfig =
  | { kind: 'jwks'; source: JwksKeySource; algorithms: AsymmetricAlgorithm[] }
  | { kind: 'shared-secret'; secret: string };

export interface JwtVerifierOptions {
  issuer: string;
  audience: string;
  key: KeyConfig;
  clockSkewSeconds: number;
  emailClaim: string;
  nameClaim: string;
  personIdClaim?: string;
  /** A claim naming the one event the token is good for; with `requireEvent`, a token without it is refused. */
  eventClaim?: string;
  requireEvent?: boolean;
  /** Refuse a token whose `email_verified` claim is present and not true (the e-mail is the registry key). */
  requireEmailVerified?: boolean;
}

const KEY_TYPE: Record<AsymmetricAlgorithm, { type: string; curve?: string }> = {
  RS256: { type: 'rsa' },
  ES256: { type: 'ec', curve: 'prime256v1' },
};

/**
 * Verifies identity tokens from one issuer. The algorithm allow-list is fixed by the key configuration:
 * HS256 for a shared secret, RS256/ES256 for JWKS keys, and a key must be of the type its algorithm
 * needs, so an HS token "signed" with an RSA public key can never pass, and `none` never does.
 */
export class JwtIdentityVerifier implements IdentityVerifier {
  /** Made once: with a string, jsonwebtoken tries it as a PEM key on every call (about 1 ms a token). */
  private readonly sharedKey: KeyObject | undefined;

  constructor(private readonly options: JwtVerifierOptions) {
    if (options.key.kind === 'shared-secret') this.sharedKey = createSecretKey(Buffer.from(options.key.secret));
  }

  get issuer(): string {
    return this.options.issuer;
  }

  async verify(token: string): Promise<Identity> {
    const o = this.options;
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload === 'string') throw new IdentityError('the identity token is not a JWT');
    const alg = decoded.header.alg;
    let key: KeyObject | string;
    let algorithms: jwt.Algorithm[];
    if (o.key.kind === 'shared-secret') {
      if (alg !== 'HS256') throw new IdentityError(`algorithm ${alg} is not accepted`);
      key = this.sharedKey!;
      algorithms = ['HS256'];
    } else {
      if (!o.key.algorithms.includes(alg as AsymmetricAlgorithm)) throw new IdentityError(`algorithm ${alg} is not accepted`);
      let found;
      try {
        found = await o.key.source.key(decoded.header.kid);
      } catch (error) {
        throw new IdentityError(`the identity provider's keys are unavailable: ${(error as Error).message}`);
      }
      if (!found) throw new IdentityError('the identity token is signed with an unknown key');
      const expected = KEY_TYPE[alg as AsymmetricAlgorithm];
      const details = found.key.asymmetricKeyDetails;
      if (found.key.asymmetricKeyType !== expected.type || (expected.curve && details?.namedCurve !== expected.curve) || (found.alg && found.alg !== alg)) {
        throw new IdentityError('the identity token algorithm does not match its key');
      }
      key = found.key;
      algorithms = [alg as jwt.Algorithm];
    }
    let payload: jwt.JwtPayload;
    try {
      payload = jwt.verify(token, key, {
        algorithms,
        issuer: o.issuer,
        audience: o.audience,
        clockTolerance: o.clockSkewSeconds,
      }) as jwt.JwtPayload;
    } catch (error) {
      const e = error as Error;
      const reason =
        e instanceof jwt.TokenExpiredError ? 'the identity token has expired' : e instanceof jwt.NotBeforeError ? 'the identity token is not valid yet' : `the identity token is not valid (${e.message})`;
      throw new IdentityError(reason);
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new IdentityError('the identity token has no subject');
    if (payload.exp === undefined) throw new IdentityError('the identity token has no expiry');
    const str = (claim: string | undefined): string | undefined => {
      const v = claim ? payload[claim] : undefined;
      return typeof v === 'string' && v.length > 0 && v.length <= 320 ? v : undefined;
    };
    // Absent means the provider does not say; present and not true means an unproven address.
    if (o.requireEmailVerified && 'email_verified' in payload && payload.email_verified !== true && payload.email_verified !== 'true') {
      throw new IdentityError('the identity provider has not verified this e-mail address');
    }
    const eventId = str(o.eventClaim);
    if (o.requireEvent && !eventId) throw new IdentityError('the identity token names no event');
    return {
      issuer: o.issuer,
      subject: payload.sub,
      email: str(o.emailClaim)?.toLowerCase(),
      name: str(o.nameClaim),
      personId: str(o.personIdClaim),
      eventId,
    };
  }
}

/** Dispatches to the verifier of the token's issuer; a token from any other issuer is refused. */
export class MultiIssuerVerifier implements IdentityVerifier {
  private readonly byIssuer = new Map<string, IdentityVerifier>();

  constructor(verifiers: JwtIdentityVerifier[]) {
    for (const v of verifiers) this.byIssuer.set(v.issuer, v);
  }

  verify(token: string): Promise<Identity> {
    const payload = typeof token === 'string' && token.length <= 16_384 ? jwt.decode(token) : null;
    const iss = payload && typeof payload === 'object' ? payload.iss : undefined;
    const verifier = typeof iss === 'string' ? this.byIssuer.get(iss) : undefined;
    if (!verifier) return Promise.reject(new IdentityError('the identity token comes from an unknown issuer'));
    return verifier.verify(token);
  }
}

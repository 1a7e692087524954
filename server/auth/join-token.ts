import { createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';

const ISSUER = 'plenum';
const AUDIENCE = { join: 'plenum-join', resume: 'plenum-resume' } as const;
/** A join token opens one connection; a resume token lets the same person reconnect to the same session. */
export type TokenKind = keyof typeof AUDIENCE;

/**
 * What the holder of a join token may do in one session (room). Enforced on every signaling message;
 * the server may change them live (lobby admission today, the floor later).
 */
export const joinGrantsSchema = z.object({
  room: z.string().min(1).max(128),
  event: z.string().min(1).max(128),
  /** The registry's person id. */
  person: z.string().min(1).max(128),
  name: z.string().min(1).max(200),
  role: z.string().min(1).max(64),
  entity: z.object({ name: z.string().min(1).max(200), type: z.string().min(1).max(64), countryCode: z.string().max(2).optional() }),
  publish: z.object({ floor: z.boolean(), booths: z.array(z.string().max(16)).max(32), captions: z.boolean().default(false) }),
  subscribe: z.boolean(),
  moderate: z.boolean(),
  lobby: z.boolean(),
  accreditation: z.object({ status: z.string().max(32), source: z.string().max(32) }),
  /** How the person takes part when not through the web client: `phone`, a dial-in caller (server/dial-in). */
  via: z.enum(['phone']).optional(),
});
export type JoinGrants = z.infer<typeof joinGrantsSchema>;

/** Marks dev-mode grants: no registry stands behind them, so revalidation leaves them alone. */
export const DEV_MODE_STATUS = 'dev-mode';

export interface JoinClaims {
  /** The participant's stable identity. */
  subject: string;
  /** The token's unique id. */
  jti: string;
  expiresAt: number;
  grants: JoinGrants;
  kind: TokenKind;
  /** When the token was issued (seconds). */
  issuedAt: number;
  /**
   * When the registry last gave a definite answer for this person (ms): the start of the grace window a
   * resume may use while the registry is down. Absent when no definite answer stands behind the token.
   */
  confirmedAt?: number;
}

/**
 * Signs and verifies the tokens the server issues (HS256 with the server's own secret): short-lived join
 * tokens, and resume tokens handed to a joined participant so their client can reconnect by itself.
 */
export class JoinTokenService {
  /** Made once: with a string, jsonwebtoken tries it as a PEM key on every call (about 1 ms a token). */
  private readonly secret: KeyObject;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
    private readonly resumeTtlSeconds = 600,
  ) {
    this.secret = createSecretKey(Buffer.from(secret));
  }

  issue(subject: string, grants: JoinGrants, kind: TokenKind = 'join', extra: { confirmedAt?: number } = {}): string {
    return jwt.sign({ grants, ...(extra.confirmedAt !== undefined ? { confirmedAt: extra.confirmedAt } : {}) }, this.secret, {
      algorithm: 'HS256',
      expiresIn: kind === 'join' ? this.ttlSeconds : this.resumeTtlSeconds,
      issuer: ISSUER,
      audience: AUDIENCE[kind],
      subject,
      jwtid: randomUUID(),
    });
  }

  verify(token: unknown): JoinClaims {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) {
      throw new ProtocolError(ErrorCode.UNAUTHENTICATED, 'a join token is required');
    }
    let payload: jwt.JwtPayload;
    try {
      // Only HS256: a token declaring any other algorithm (or none) is refused before its signature is read.
      payload = jwt.verify(token, this.secret, { algorithms: ['HS256'], issuer: ISSUER, audience: [AUDIENCE.join, AUDIENCE.resume] }) as jwt.JwtPayload;
    } catch (error) {
      const reason = error instanceof jwt.TokenExpiredError ? 'the join token has expired' : 'the join token is not valid';
      throw new ProtocolError(ErrorCode.UNAUTHENTICATED, reason);
    }
    const grants = joinGrantsSchema.safeParse(payload.grants);
    if (!grants.success || !payload.sub || !payload.jti || !payload.exp) {
      throw new ProtocolError(ErrorCode.UNAUTHENTICATED, 'the join token carries no valid grants');
    }
    const kind: TokenKind = payload.aud === AUDIENCE.resume ? 'resume' : 'join';
    const issuedAt = typeof payload.iat === 'number' ? payload.iat : Math.floor(Date.now() / 1000);
    const confirmedAt = typeof payload.confirmedAt === 'number' && Number.isFinite(payload.confirmedAt) ? payload.confirmedAt : undefined;
    return { subject: payload.sub, jti: payload.jti, expiresAt: payload.exp, grants: grants.data, kind, issuedAt, confirmedAt };
  }
}

import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';

export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function rsaKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, alg: 'RS256', privateKey, publicKey };
}

export function ecKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, alg: 'ES256', privateKey, publicKey };
}

/** An identity provider's JWKS endpoint: a real HTTP server publishing real public keys. */
export class JwksServer {
  keys: SigningKey[] = [];
  fetches = 0;

  private constructor(private readonly server: Server) {}

  static async start(keys: SigningKey[]): Promise<JwksServer> {
    const self = new JwksServer(createServer());
    self.keys = keys;
    self.server.on('request', (_req, res) => {
      self.fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: self.keys.map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, alg: k.alg, use: 'sig' })) }));
    });
    await new Promise<void>((resolve) => self.server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export const IDP_ISSUER = 'https://idp.example.org';
export const IDP_AUDIENCE = 'plenum';

/** An identity token as the organisation's identity provider would issue it. */
export function idToken(key: SigningKey, claims: Record<string, unknown> = {}, options: jwt.SignOptions = {}): string {
  return jwt.sign({ email: 'amina.odhiambo@demo.ke', name: 'Amina Odhiambo', ...claims }, key.privateKey, {
    algorithm: key.alg,
    keyid: key.kid,
    issuer: IDP_ISSUER,
    audience: IDP_AUDIENCE,
    subject: 'idp-user-1',
    expiresIn: 300,
    ...options,
  });
}

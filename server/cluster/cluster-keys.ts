import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** The cluster secret from the environment, and the previous one while a rotation is under way. */
export interface ClusterSecret {
  current: string;
  previous?: string;
}

interface KeyPair {
  mac: Buffer;
  seal: Buffer;
}

const SALT = 'plenum-cluster';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** One secret gives independent keys per use (HKDF with a label each), so no key serves two purposes. */
function derive(secret: string): KeyPair {
  const key = (info: string): Buffer => Buffer.from(hkdfSync('sha256', secret, SALT, info, 32));
  return { mac: key('plenum cluster bus mac v1'), seal: key('plenum cascade srtp seal v1') };
}

/**
 * Keys the nodes of a cluster share, all derived from PLENUM_CLUSTER_SECRET: an HMAC-SHA256 key that signs
 * bus messages and an AES-256-GCM key that seals SRTP parameters. New material is always made with the
 * current secret; the previous one (PLENUM_CLUSTER_SECRET_PREVIOUS) is only accepted, so that nodes can be
 * restarted one by one onto a new secret without a cluster-wide cut.
 */
export class ClusterKeys {
  private readonly current: KeyPair;
  private readonly accepted: KeyPair[];

  constructor(secret: ClusterSecret) {
    this.current = derive(secret.current);
    this.accepted = secret.previous ? [this.current, derive(secret.previous)] : [this.current];
  }

  /** HMAC-SHA256 of `data` under the current key. */
  mac(data: string): Buffer {
    return createHmac('sha256', this.current.mac).update(data).digest();
  }

  /** Whether `mac` is the HMAC of `data` under the current or the previous key (constant-time compare). */
  verify(data: string, mac: Buffer): boolean {
    if (mac.length !== 32) return false;
    let ok = false;
    for (const keys of this.accepted) ok = timingSafeEqual(createHmac('sha256', keys.mac).update(data).digest(), mac) || ok;
    return ok;
  }

  /** AES-256-GCM under the current key; `context` is authenticated, so a sealed value cannot be moved elsewhere. */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.seal, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The plaintext, or undefined when no accepted key opens it in this context. */
  open(sealed: string, context: string): string | undefined {
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
    for (const keys of this.accepted) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', keys.seal, iv);
        decipher.setAAD(Buffer.from(context));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        // not this key
      }
    }
    return undefined;
  }
}

// A secret ballot's choice is sealed before it reaches the database: AES-256-GCM under a key derived (HKDF) from
// a secret of the environment and the vote's id. Whoever reads the database (an operator, a backup, a dump)
// sees when an entity voted, never for whom; the counting node opens the ballots and deletes them.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { ballot, type Ballot } from './vote-model.js';

export class BallotSeal {
  constructor(private readonly secret: string) {
    if (secret.length < 32) throw new Error('the ballot secret must be at least 32 characters');
  }

  private key(voteId: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.secret, 'plenum-ballot', `vote:${voteId}`, 32));
  }

  /** `padTo`: the longest ballot this vote admits (`longestBallot`), so every sealed ballot has one size. */
  seal(voteId: string, b: Ballot, padTo: number): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key(voteId), iv);
    // The vote id is authenticated too: a ballot copied into another vote does not open.
    cipher.setAAD(Buffer.from(voteId));
    // Padded so the ciphertext's size does not tell how many candidates, or which, were named.
    const json = Buffer.from(JSON.stringify(b));
    const plain = Buffer.concat([json, Buffer.alloc(Math.max(0, padTo - json.length), 0x20)]);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** The ballot, or undefined when it was not sealed for this vote with this secret. */
  open(voteId: string, sealed: string): Ballot | undefined {
    try {
      const raw = Buffer.from(sealed, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', this.key(voteId), raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(voteId));
      decipher.setAuthTag(raw.subarray(12, 28));
      const plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      const parsed = ballot.safeParse(JSON.parse(plain));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }
}

/** The length of the longest ballot a secret vote admits: its `seats` longest candidates named. */
export function longestBallot(candidates: readonly string[], seats: number): number {
  const longest = [...candidates].sort((a, b) => Buffer.byteLength(JSON.stringify(b)) - Buffer.byteLength(JSON.stringify(a))).slice(0, seats);
  return Buffer.byteLength(JSON.stringify({ candidates: longest }));
}

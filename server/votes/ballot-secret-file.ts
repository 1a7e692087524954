// A node without PLENUM_BALLOT_SECRET (nor a cluster secret to derive it from) keeps a generated one in its
// data directory, so sealed ballots still open after a restart.
import { localSecretFile } from '../../store/local-secret-file.js';

export function localBallotSecret(dataDir: string): Promise<string> {
  return localSecretFile(dataDir, 'ballot.secret');
}

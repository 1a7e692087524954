/** Remembers join token ids already used by a connection, until the token would have expired anyway. */
export interface JtiStore {
  /** True the first time a jti is claimed; false for every later claim before `expiresAt` (seconds). */
  claim(jti: string, expiresAt: number): Promise<boolean>;
}

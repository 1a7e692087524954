// Document files in the storage directory. A file's name is a random key made here, never anything a
// client sent; a write goes to a temporary file first and is renamed into place once complete, so a
// reader never sees half a file and a failed write leaves nothing under a key.
import { randomBytes, webcrypto } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

const KEY_PATTERN = /^[A-Za-z0-9_-]{32}$/;

export interface StoredFile {
  storageKey: string;
  sizeBytes: number;
  /** SHA-256 of the stored bytes, hex. */
  sha256: string;
}

export class DocumentStorage {
  /** Where the files are: `<storage dir>/documents`. */
  readonly dir: string;

  constructor(storageDir: string) {
    this.dir = join(storageDir, 'documents');
  }

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Stores the bytes under a new key, durably (fsync before the rename). */
  async write(bytes: Uint8Array): Promise<StoredFile> {
    const storageKey = randomBytes(24).toString('base64url');
    const final = this.pathOf(storageKey);
    const temp = `${final}.${randomBytes(6).toString('hex')}.part`;
    // Hashed in the thread pool (WebCrypto), not on the event loop: a 25 MiB upload takes tens of ms.
    const digest = webcrypto.subtle.digest('SHA-256', bytes);
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, final);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return { storageKey, sizeBytes: bytes.byteLength, sha256: Buffer.from(await digest).toString('hex') };
  }

  /** Removes a stored file (a version whose database row could not be written). */
  async remove(storageKey: string): Promise<void> {
    await rm(this.pathOf(storageKey), { force: true });
  }

  /** A stream of the stored file; fails (ENOENT) when it is gone. */
  async read(storageKey: string): Promise<ReadStream> {
    const stream = createReadStream(this.pathOf(storageKey));
    // Opened before anything is sent, so a missing file is still a proper error answer.
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    return stream;
  }

  private pathOf(storageKey: string): string {
    // Keys come from the database, written by this class; checked anyway before they touch a path.
    if (!KEY_PATTERN.test(storageKey)) throw new Error('not a storage key');
    return join(this.dir, storageKey);
  }
}

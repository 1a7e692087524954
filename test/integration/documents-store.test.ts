// Session documents in the system of record, on both engines (PGlite and a real PostgreSQL started for this
// file): version numbers under concurrent uploads, every query held to its event and session, files named
// by the server and described by their SHA-256, and the audit records.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseAuditLog } from '../../accreditation/audit-log.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { DocumentReader } from '../../server/documents/document-access.js';
import { openDocuments, type DocumentService } from '../../server/documents/document-service.js';
import { openStore, type Store } from '../../store/open-store.js';
import { minimalDocx, minimalPdf } from '../helpers/documents-fixtures.js';
import { PostgresProcess } from '../helpers/postgres-process.js';

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
let postgres: PostgresProcess | undefined;

afterAll(async () => {
  await postgres?.stop();
});

const engines = [
  { engine: 'embedded (PGlite)', open: () => openStore({ dataDir: tmp('plenum-documents-db-') }) },
  {
    engine: 'PostgreSQL',
    open: async () => {
      postgres ??= await PostgresProcess.start();
      return openStore({ dataDir: tmp('plenum-documents-db-'), databaseUrl: postgres.url });
    },
  },
];

const A = { eventId: 'ev-a', sessionId: 's-1' };
const A_OTHER_SESSION = { eventId: 'ev-a', sessionId: 's-2' };
// The same session id under another event: ids are compared together, never alone.
const B_SAME_SESSION_ID = { eventId: 'ev-b', sessionId: 's-1' };
const delegate: DocumentReader = { conducting: false, role: 'delegate', entityType: 'member_state', personId: 'p-1', source: 'live' };
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe.each(engines)('documents on $engine', ({ open }) => {
  let store: Store;
  let documents: DocumentService;
  let storageDir: string;
  const files = () => readdirSync(join(storageDir, 'documents'));

  beforeAll(async () => {
    store = await open();
    storageDir = tmp('plenum-documents-files-');
    documents = await openDocuments(storageDir, store.db, new DatabaseAuditLog(store.db));
  }, 120_000);
  afterAll(async () => {
    await store?.close();
  });

  it('gives concurrent new versions distinct numbers, keeps every one, and records each upload', async () => {
    const first = minimalPdf('v1');
    const doc = await documents.upload(A, { title: 'Draft', language: 'en', audience: 'everyone' }, first, 'p-sec');
    const versions = Array.from({ length: 12 }, (_, i) => minimalPdf(`v${i + 2}`));
    // At once: the document row's update orders them (two equal numbers would break the primary key).
    await Promise.all(versions.map((bytes) => documents.addVersion(A, doc.documentId, { bytes }, 'p-sec')));
    const listed = (await documents.list(A, delegate)).documents.find((d) => d.documentId === doc.documentId)!;
    expect(listed.latest.version).toBe(13);
    expect(listed.versions.map((v) => v.version)).toEqual(Array.from({ length: 13 }, (_, i) => 13 - i));
    // Each version's recorded hash is its file's, under a name the server chose.
    for (const v of listed.versions) {
      const file = await documents.download(A, doc.documentId, v.version, delegate);
      const chunks: Buffer[] = [];
      for await (const chunk of file.stream) chunks.push(chunk as Buffer);
      expect(sha256(Buffer.concat(chunks))).toBe(v.sha256);
    }
    expect(files()).toHaveLength(13);
    for (const name of files()) expect(readFileSync(join(storageDir, 'documents', name)).subarray(0, 5).toString()).toBe('%PDF-');
    const audit = await new DatabaseAuditLog(store.db).query({ sessionId: A.sessionId, decision: 'document-upload', limit: 100 });
    expect(audit.records.filter((r) => r.documentId === doc.documentId).map((r) => r.documentVersion).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
  });

  it('finds a document only under its own event and session', async () => {
    const doc = await documents.upload(A, { title: 'Agenda', language: 'fr', audience: 'everyone' }, minimalDocx('Ordre du jour'), 'p-sec');
    const before = files().length;
    for (const ref of [A_OTHER_SESSION, B_SAME_SESSION_ID]) {
      expect((await documents.list(ref, delegate)).documents).toEqual([]);
      await expect(documents.download(ref, doc.documentId, undefined, delegate)).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
      await expect(documents.download(ref, doc.documentId, 1, delegate)).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
      // Refused before anything is stored.
      await expect(documents.addVersion(ref, doc.documentId, { bytes: minimalPdf('x') }, 'p-sec')).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
      await expect(documents.addVersion(ref, doc.documentId, { url: 'https://docs.example.org/x' }, 'p-sec')).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
      await expect(documents.setFocus(ref, doc.documentId, 'p-sec')).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    }
    expect(files()).toHaveLength(before);
    // Focus is per session: setting it in A leaves the same session id of event B untouched.
    await documents.setFocus(A, doc.documentId, 'p-chair');
    expect((await documents.list(A, delegate)).focus).toBe(doc.documentId);
    expect((await documents.list(B_SAME_SESSION_ID, delegate)).focus).toBeNull();
    expect((await documents.list(A, delegate)).documents.find((d) => d.documentId === doc.documentId)?.latest.version).toBe(1);
  });

  it('refuses a file by its content before storing it', async () => {
    const before = files().length;
    await expect(documents.upload(A, { title: 'x', language: 'en', audience: 'everyone' }, Buffer.from('<html>'), 'p-sec')).rejects.toMatchObject({ code: ErrorCode.DOCUMENT_TYPE_REFUSED });
    await expect(documents.upload(A, { title: 'x', language: 'en', audience: 'everyone' }, Buffer.alloc(0), 'p-sec')).rejects.toMatchObject({ code: ErrorCode.BAD_REQUEST });
    expect(files()).toHaveLength(before);
    expect(files().some((name) => name.endsWith('.part'))).toBe(false);
  });
});

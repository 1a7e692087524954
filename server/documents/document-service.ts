// Session documents: uploads checked by content, versions, links, the document in focus, and reads by
// audience, each upload and download written to the audit trail.
import type { ReadStream } from 'node:fs';
import type { AuditLog } from '../../accreditation/audit-log.js';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { Db } from '../../store/open-store.js';
import { mayRead, type DocumentReader } from './document-access.js';
import {
  newDocumentId,
  symbolLetterOf,
  type DocumentAudience,
  type DocumentLanguage,
  type DocumentListing,
  type DocumentVersionView,
  type DocumentView,
} from './document-model.js';
import { DocumentRepository, type DocumentRow, type SessionRef, type VersionContent, type VersionRow } from './document-repository.js';
import { DocumentStorage } from './document-storage.js';
import { detectDocumentType, DOCUMENT_TYPES } from './document-type.js';

export interface DocumentMeta {
  title: string;
  language: DocumentLanguage;
  audience: DocumentAudience;
}

/** A file ready to be sent: what it is, and its bytes as a stream. */
export interface DocumentDownload {
  document: { documentId: string; title: string; symbolLetter: string };
  version: DocumentVersionView & { kind: 'file'; contentType: string; sizeBytes: number };
  stream: ReadStream;
}

export class DocumentService {
  constructor(
    private readonly repository: DocumentRepository,
    private readonly storage: DocumentStorage,
    private readonly audit: AuditLog,
  ) {}

  /** A new document from an uploaded file (its type judged from the bytes). */
  async upload(ref: SessionRef, meta: DocumentMeta, bytes: Uint8Array, actor: string): Promise<DocumentView> {
    const content = await this.store(bytes);
    const documentId = newDocumentId();
    const saved = await this.repository.create(ref, { documentId, ...meta, createdBy: actor }, content).catch(async (error: unknown) => {
      await this.storage.remove(content.storageKey);
      throw error;
    });
    await this.recordUpload(ref, saved.document, saved.version, actor);
    return toView(saved.document, [saved.version]);
  }

  /** A new document that is a link to the organisation's document system (never fetched here). */
  async link(ref: SessionRef, meta: DocumentMeta, url: string, actor: string): Promise<DocumentView> {
    const saved = await this.repository.create(ref, { documentId: newDocumentId(), ...meta, createdBy: actor }, { kind: 'link', url });
    await this.recordUpload(ref, saved.document, saved.version, actor);
    return toView(saved.document, [saved.version]);
  }

  /** A new version of a document of this session: a file, or a link. The older versions stay. */
  async addVersion(ref: SessionRef, documentId: string, input: { bytes: Uint8Array } | { url: string }, actor: string): Promise<DocumentView> {
    // Checked before anything is stored: a version of another session's document is refused first.
    if (!(await this.repository.get(ref, documentId))) throw notFound(documentId);
    const content: VersionContent = 'url' in input ? { kind: 'link', url: input.url } : await this.store(input.bytes);
    const saved = await this.repository.addVersion(ref, documentId, content, actor).catch(async (error: unknown) => {
      if (content.kind === 'file') await this.storage.remove(content.storageKey);
      throw error;
    });
    if (!saved) {
      if (content.kind === 'file') await this.storage.remove(content.storageKey);
      throw notFound(documentId);
    }
    await this.recordUpload(ref, saved.document, saved.version, actor);
    return this.view(ref, documentId);
  }

  /** The documents this reader may see, each with its latest version first, and the one in focus. */
  async list(ref: SessionRef, reader: DocumentReader): Promise<DocumentListing> {
    const [all, focus] = await Promise.all([this.repository.list(ref), this.repository.focus(ref)]);
    const visible = all.filter(({ document }) => mayRead(reader, document.audience as DocumentAudience));
    const documents = visible.filter((d) => d.versions.length > 0).map(({ document, versions }) => toView(document, versions));
    return { sessionId: ref.sessionId, focus: focus && documents.some((d) => d.documentId === focus) ? focus : null, documents };
  }

  /**
   * A version's file for this reader (the latest when `version` is absent), written to the audit trail
   * before it is served. A document outside the reader's audience is NOT_FOUND, as one that does not exist.
   */
  async download(ref: SessionRef, documentId: string, version: number | undefined, reader: DocumentReader): Promise<DocumentDownload> {
    const document = await this.repository.get(ref, documentId);
    if (!document || !mayRead(reader, document.audience as DocumentAudience)) throw notFound(documentId);
    const row = await this.repository.version(ref, documentId, version ?? document.latest_version);
    if (!row) throw new ProtocolError(ErrorCode.NOT_FOUND, `no version ${version} of document ${documentId}`);
    if (row.kind !== 'file' || !row.storage_key || !row.content_type) {
      throw new ProtocolError(ErrorCode.INVALID_STATE, 'this version is a link to the organisation\'s document system: open its url');
    }
    const stream = await this.storage.read(row.storage_key);
    try {
      await this.audit.append({
        eventId: ref.eventId,
        sessionId: ref.sessionId,
        personId: reader.personId,
        email: reader.email,
        name: reader.name,
        entity: reader.entity,
        role: reader.role,
        decision: 'document-download',
        reasons: [],
        source: reader.source,
        actor: reader.actor,
        documentId,
        documentVersion: row.version,
      });
    } catch (error) {
      stream.destroy();
      throw error;
    }
    const view = { documentId, title: document.title, symbolLetter: symbolLetterOf(document.language as DocumentLanguage) };
    return { document: view, version: { ...versionView(row), kind: 'file', contentType: row.content_type, sizeBytes: row.size_bytes ?? 0 }, stream };
  }

  /** Puts a document of this session in focus for everyone in it (null: none). */
  async setFocus(ref: SessionRef, documentId: string | null, actor: string): Promise<string | null> {
    if (documentId !== null && !(await this.repository.get(ref, documentId))) throw notFound(documentId);
    await this.repository.setFocus(ref, documentId, actor);
    return documentId;
  }

  private async view(ref: SessionRef, documentId: string): Promise<DocumentView> {
    const found = (await this.repository.list(ref)).find((d) => d.document.document_id === documentId);
    if (!found) throw notFound(documentId);
    return toView(found.document, found.versions);
  }

  /** Checks the bytes' type, then stores them; a refused type stores nothing. */
  private async store(bytes: Uint8Array): Promise<Extract<VersionContent, { kind: 'file' }>> {
    if (bytes.byteLength === 0) throw new ProtocolError(ErrorCode.BAD_REQUEST, 'the body is empty: send the document\'s bytes');
    const detected = detectDocumentType(bytes);
    if (!detected.ok) throw new ProtocolError(ErrorCode.DOCUMENT_TYPE_REFUSED, `refused: ${detected.reason}; accepted are PDF, DOCX and plain UTF-8 text`);
    const stored = await this.storage.write(bytes);
    return { kind: 'file', contentType: DOCUMENT_TYPES[detected.kind].contentType, ...stored };
  }

  private async recordUpload(ref: SessionRef, document: DocumentRow, version: VersionRow, actor: string): Promise<void> {
    await this.audit.append({
      eventId: ref.eventId,
      sessionId: ref.sessionId,
      personId: actor === 'admin-api-key' ? undefined : actor,
      decision: 'document-upload',
      reasons: [version.kind === 'link' ? 'LINK' : 'FILE'],
      source: 'secretariat',
      actor,
      documentId: document.document_id,
      documentVersion: version.version,
    });
  }
}

const notFound = (documentId: string) => new ProtocolError(ErrorCode.NOT_FOUND, `no document ${documentId} in this session`);

function versionView(row: VersionRow): DocumentVersionView {
  const base = { version: row.version, createdAt: row.created_at.toISOString() };
  if (row.kind === 'link') return { ...base, kind: 'link', url: row.url ?? undefined };
  return { ...base, kind: 'file', contentType: row.content_type ?? undefined, sizeBytes: row.size_bytes ?? undefined, sha256: row.sha256 ?? undefined };
}

/** `versions`: newest first. */
function toView(document: DocumentRow, versions: VersionRow[]): DocumentView {
  const views = versions.map(versionView);
  const language = document.language as DocumentLanguage;
  return {
    documentId: document.document_id,
    sessionId: document.session_id,
    title: document.title,
    language,
    symbolLetter: symbolLetterOf(language),
    audience: document.audience as DocumentAudience,
    latest: views[0]!,
    versions: views,
    createdAt: document.created_at.toISOString(),
    updatedAt: document.updated_at.toISOString(),
  };
}

/** The documents of every session: their storage directory made ready, their tables in `db`. */
export async function openDocuments(storageDir: string, db: Db, audit: AuditLog): Promise<DocumentService> {
  const storage = new DocumentStorage(storageDir);
  await storage.start();
  return new DocumentService(new DocumentRepository(db), storage, audit);
}

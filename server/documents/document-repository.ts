// Session documents in the system of record. Every query names the event and the session as well as the
// document: an id taken from one session (or event) finds nothing under another.
import type { Db } from '../../store/open-store.js';
import type { Row } from '../../store/schema.js';
import type { DocumentAudience, DocumentLanguage } from './document-model.js';

export interface SessionRef {
  eventId: string;
  sessionId: string;
}

export type VersionContent =
  | { kind: 'file'; contentType: string; storageKey: string; sizeBytes: number; sha256: string }
  | { kind: 'link'; url: string };

export interface NewDocument {
  documentId: string;
  title: string;
  language: DocumentLanguage;
  audience: DocumentAudience;
  createdBy: string;
}

export type DocumentRow = Row<'documents'>;
export type VersionRow = Row<'document_versions'>;

export class DocumentRepository {
  constructor(private readonly db: Db) {}

  /** A document and its first version, in one transaction. */
  async create(ref: SessionRef, doc: NewDocument, content: VersionContent): Promise<{ document: DocumentRow; version: VersionRow }> {
    return this.db.transaction().execute(async (tx) => {
      const document = await tx
        .insertInto('documents')
        .values({
          document_id: doc.documentId,
          event_id: ref.eventId,
          session_id: ref.sessionId,
          title: doc.title,
          language: doc.language,
          audience: doc.audience,
          latest_version: 1,
          created_by: doc.createdBy,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const version = await tx.insertInto('document_versions').values(versionRow(ref, doc.documentId, 1, content, doc.createdBy)).returningAll().executeTakeFirstOrThrow();
      return { document, version };
    });
  }

  /**
   * The next version of a document of this session; undefined when there is no such document here. The
   * document's row is updated first, so two versions added at once get different numbers (the row lock).
   */
  async addVersion(ref: SessionRef, documentId: string, content: VersionContent, createdBy: string): Promise<{ document: DocumentRow; version: VersionRow } | undefined> {
    return this.db.transaction().execute(async (tx) => {
      const document = await tx
        .updateTable('documents')
        .set((eb) => ({ latest_version: eb('latest_version', '+', 1), updated_at: new Date() }))
        .where('document_id', '=', documentId)
        .where('event_id', '=', ref.eventId)
        .where('session_id', '=', ref.sessionId)
        .returningAll()
        .executeTakeFirst();
      if (!document) return undefined;
      const version = await tx
        .insertInto('document_versions')
        .values(versionRow(ref, documentId, document.latest_version, content, createdBy))
        .returningAll()
        .executeTakeFirstOrThrow();
      return { document, version };
    });
  }

  /** The session's documents, oldest first, with all their versions (newest first). */
  async list(ref: SessionRef): Promise<Array<{ document: DocumentRow; versions: VersionRow[] }>> {
    const documents = await this.db
      .selectFrom('documents')
      .selectAll()
      .where('event_id', '=', ref.eventId)
      .where('session_id', '=', ref.sessionId)
      .orderBy('created_at')
      .orderBy('document_id')
      .execute();
    if (documents.length === 0) return [];
    const versions = await this.db
      .selectFrom('document_versions')
      .selectAll()
      .where('event_id', '=', ref.eventId)
      .where('session_id', '=', ref.sessionId)
      .orderBy('document_id')
      .orderBy('version', 'desc')
      .execute();
    const byDocument = new Map<string, VersionRow[]>();
    for (const v of versions) (byDocument.get(v.document_id) ?? byDocument.set(v.document_id, []).get(v.document_id)!).push(v);
    return documents.map((document) => ({ document, versions: byDocument.get(document.document_id) ?? [] }));
  }

  async get(ref: SessionRef, documentId: string): Promise<DocumentRow | undefined> {
    return this.db
      .selectFrom('documents')
      .selectAll()
      .where('document_id', '=', documentId)
      .where('event_id', '=', ref.eventId)
      .where('session_id', '=', ref.sessionId)
      .executeTakeFirst();
  }

  async version(ref: SessionRef, documentId: string, version: number): Promise<VersionRow | undefined> {
    return this.db
      .selectFrom('document_versions')
      .selectAll()
      .where('document_id', '=', documentId)
      .where('version', '=', version)
      .where('event_id', '=', ref.eventId)
      .where('session_id', '=', ref.sessionId)
      .executeTakeFirst();
  }

  async focus(ref: SessionRef): Promise<string | null> {
    const row = await this.db
      .selectFrom('document_focus')
      .select('document_id')
      .where('event_id', '=', ref.eventId)
      .where('session_id', '=', ref.sessionId)
      .executeTakeFirst();
    return row?.document_id ?? null;
  }

  /** Puts a document of this session in focus (null: none). The caller has checked the document is here. */
  async setFocus(ref: SessionRef, documentId: string | null, setBy: string): Promise<void> {
    const at = new Date();
    await this.db
      .insertInto('document_focus')
      .values({ event_id: ref.eventId, session_id: ref.sessionId, document_id: documentId, set_by: setBy, set_at: at })
      .onConflict((oc) => oc.columns(['event_id', 'session_id']).doUpdateSet({ document_id: documentId, set_by: setBy, set_at: at }))
      .execute();
  }
}

function versionRow(ref: SessionRef, documentId: string, version: number, content: VersionContent, createdBy: string) {
  return {
    document_id: documentId,
    version,
    event_id: ref.eventId,
    session_id: ref.sessionId,
    kind: content.kind,
    content_type: content.kind === 'file' ? content.contentType : null,
    storage_key: content.kind === 'file' ? content.storageKey : null,
    size_bytes: content.kind === 'file' ? content.sizeBytes : null,
    sha256: content.kind === 'file' ? content.sha256 : null,
    url: content.kind === 'link' ? content.url : null,
    created_by: createdBy,
  };
}

// The session's documents in the booth: by language version, the booth's own language first, the one in
// focus highlighted and announced, downloaded with the interpreter's identity token; read again when the
// room says the focus changed.
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import type { SessionDocument } from '../../../../client-sdk/src/documents-api';
import { DocumentsStatus, useFocusAnnouncement } from '../../shared/documents-focus';
import { DocumentList } from '../../shared/documents-list';
import { followDocuments, useDocumentsStore } from '../../shared/documents-store';
import { useIdentityStore } from '../../shared/identity-store';
import { boothClient, useBoothStore } from './booth-store';
import '../../shared/documents-panels.css';

const sessionParam = (): string | null => new URLSearchParams(window.location.search).get('session');

export function DocumentsPanel() {
  const { t } = useTranslation();
  const token = useIdentityStore((s) => s.identity?.token);
  const booth = useBoothStore((s) => s.booth);
  const selfId = useBoothStore((s) => s.selfId);
  const { listing, download } = useDocumentsStore();
  const sessionId = sessionParam();
  useFocusAnnouncement();
  useEffect(() => {
    if (!token || !sessionId) return;
    return followDocuments(boothClient(), token, sessionId);
  }, [token, sessionId, selfId]);
  const onDownload = (doc: SessionDocument) => token && sessionId && void download(token, sessionId, doc.documentId);
  return (
    <section className="booth-panel documents-panel" aria-labelledby="booth-documents-heading" data-testid="documents">
      <h2 id="booth-documents-heading">{t('booth.documents.heading')}</h2>
      <DocumentsStatus token={token} sessionId={sessionId} onDownload={onDownload} />
      {listing && listing.documents.length === 0 && <p data-testid="documents-empty">{t('booth.documents.empty')}</p>}
      {listing && listing.documents.length > 0 && <DocumentList listing={listing} first={booth} onDownload={onDownload} />}
    </section>
  );
}

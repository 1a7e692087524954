// The delegate's documents: the one in focus shown prominently above a collapsible list (the page's language
// version first), each downloaded with the delegate's identity token; read again when the room says the
// focus changed, and the change said in the live region.
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import type { SessionDocument } from '../../../../client-sdk/src/documents-api';
import { DocumentsStatus, useFocusAnnouncement } from '../../shared/documents-focus';
import { DocumentList } from '../../shared/documents-list';
import { followDocuments, useDocumentsStore } from '../../shared/documents-store';
import { useIdentityStore } from '../../shared/identity-store';
import { meetingClient, useDelegateStore } from './delegate-store';
import '../../shared/documents-panels.css';

export function DocumentsPanel() {
  const { t, i18n } = useTranslation();
  const token = useIdentityStore((s) => s.identity?.token);
  const sessionId = useDelegateStore((s) => s.sessionId);
  const selfId = useDelegateStore((s) => s.self?.id);
  const dev = useDelegateStore((s) => s.dev);
  const { listing, download } = useDocumentsStore();
  useFocusAnnouncement();
  useEffect(() => {
    // Dev mode joins have no accreditation, so no documents.
    if (!token || !sessionId || dev) return;
    return followDocuments(meetingClient(), token, sessionId);
  }, [token, sessionId, selfId, dev]);
  if (dev) return null;
  const onDownload = (doc: SessionDocument) => token && sessionId && void download(token, sessionId, doc.documentId);
  const count = listing?.documents.length ?? 0;
  return (
    <section className="panel documents-panel" aria-labelledby="delegate-documents-heading" data-testid="documents">
      <h2 id="delegate-documents-heading">{t('documents.heading')}</h2>
      <DocumentsStatus token={token} sessionId={sessionId} onDownload={onDownload} />
      {listing && count === 0 && <p data-testid="documents-empty">{t('documents.empty')}</p>}
      {listing && count > 0 && (
        <details data-testid="documents-details">
          <summary>{t('documents.showAll', { number: count })}</summary>
          <DocumentList listing={listing} first={i18n.language} onDownload={onDownload} />
        </details>
      )}
    </section>
  );
}

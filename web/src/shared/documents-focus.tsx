// The document in focus, shown prominently ("The Chair has put … in focus") and said in the live region
// when it changes live (not on the first load: that is no news).
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import type { SessionDocument } from '../../../client-sdk/src/documents-api';
import { documentError, documentErrorCode, focusText } from './documents-labels';
import { DocumentOpen, focusedDocument } from './documents-list';
import { useDocumentsStore } from './documents-store';
import { announce } from './live-region';

export function useFocusAnnouncement(): void {
  const { t } = useTranslation();
  const changes = useDocumentsStore((s) => s.focusChanges);
  useEffect(() => {
    if (changes === 0) return;
    const doc = focusedDocument(useDocumentsStore.getState().listing);
    announce(doc ? focusText(t, doc) : t('documents.focus.cleared'));
  }, [changes]); // a change of focus only, not a language switch
}

export function DocumentFocusBanner({ onDownload }: { onDownload: (doc: SessionDocument) => void }) {
  const { t } = useTranslation();
  const doc = useDocumentsStore((s) => focusedDocument(s.listing));
  if (!doc) return null;
  return (
    <p className="documents-focus" data-testid="documents-focus" data-document-id={doc.documentId}>
      <span data-testid="documents-focus-text">{focusText(t, doc)}</span> <DocumentOpen doc={doc} onDownload={onDownload} />
    </p>
  );
}

/**
 * What the booth's and the delegate's panels both show above their lists: an error by its stable code, the
 * document in focus, and a button to read the listing again.
 */
export function DocumentsStatus({ token, sessionId, onDownload }: { token?: string; sessionId?: string | null; onDownload: (doc: SessionDocument) => void }) {
  const { t } = useTranslation();
  const error = useDocumentsStore((s) => s.error);
  const load = useDocumentsStore((s) => s.load);
  return (
    <>
      {error !== undefined && (
        <p className="alert" role="alert" data-testid="documents-error" data-code={documentErrorCode(error)}>
          {documentError(t, error)}
        </p>
      )}
      <DocumentFocusBanner onDownload={onDownload} />
      {token && sessionId && (
        <p>
          <button type="button" className="secondary" onClick={() => void load(token, sessionId)} data-testid="documents-refresh">
            {t('documents.refresh')}
          </button>
        </p>
      )}
    </>
  );
}

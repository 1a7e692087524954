// The document in focus, shown prominently ("The Chair has put … in focus") and said in the live region
// when it changes live (not on the first load: that is no news).
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import type { SessionDocument } from '../../../client-sdk/src/documents-api';
import { focusText } from './documents-labels';
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

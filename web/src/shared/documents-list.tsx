// A session's documents for a participant: grouped by language version (one language first), the one in
// focus marked, each file downloaded with the identity token, each link opened in a new tab.
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import type { DocumentListing, SessionDocument } from '../../../client-sdk/src/documents-api';
import { byLanguage, versionLabel } from './documents-labels';

export function DocumentOpen({ doc, onDownload }: { doc: SessionDocument; onDownload: (doc: SessionDocument) => void }) {
  const { t } = useTranslation();
  if (doc.latest.kind === 'link' && doc.latest.url) {
    return (
      <a href={doc.latest.url} target="_blank" rel="noopener noreferrer" data-testid="document-open" aria-label={t('documents.openNamed', { title: doc.title })}>
        {t('documents.open')}
      </a>
    );
  }
  return (
    <button type="button" className="secondary" onClick={() => onDownload(doc)} data-testid="document-download" aria-label={t('documents.downloadNamed', { title: doc.title })}>
      {t('documents.download')}
    </button>
  );
}

function DocumentItem({ doc, focused, onDownload }: { doc: SessionDocument; focused: boolean; onDownload: (doc: SessionDocument) => void }) {
  const { t } = useTranslation();
  return (
    <li className={`document${focused ? ' in-focus' : ''}`} data-testid="document" data-document-id={doc.documentId} data-letter={doc.symbolLetter} data-focus={focused ? 'true' : 'false'} aria-current={focused ? 'true' : undefined}>
      <span className="document-letter" data-testid="document-letter" aria-hidden="true">
        {doc.symbolLetter}
      </span>
      <span className="document-title" data-testid="document-title">
        {doc.title}
      </span>
      <span className="document-meta">{t('documents.version', { version: doc.latest.version })}</span>
      {focused && (
        <span className="badge" data-testid="document-focus-badge">
          {t('documents.inFocus')}
        </span>
      )}
      <DocumentOpen doc={doc} onDownload={onDownload} />
    </li>
  );
}

export function DocumentList({ listing, first, onDownload }: { listing: DocumentListing; first?: string; onDownload: (doc: SessionDocument) => void }) {
  const { t, i18n } = useTranslation();
  const id = useId();
  return (
    <div className="documents-groups">
      {byLanguage(listing.documents, first).map((group) => (
        <section key={group.language} aria-labelledby={`${id}-${group.language}`} data-testid="documents-language" data-language={group.language}>
          <h3 id={`${id}-${group.language}`} className="documents-language">
            {versionLabel(t, group.documents[0]!, i18n.language)}
          </h3>
          <ul className="documents">
            {group.documents.map((doc) => (
              <DocumentItem key={doc.documentId} doc={doc} focused={listing.focus === doc.documentId} onDownload={onDownload} />
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

/** The document in focus, if this person may see it. */
export const focusedDocument = (listing: DocumentListing | undefined): SessionDocument | undefined =>
  listing?.focus ? listing.documents.find((d) => d.documentId === listing.focus) : undefined;

// The session's documents, for the secretariat and the chair: upload a file (title, language version,
// audience), add a link to the organisation's document system, add a version (a file or a link), put one
// in focus for everyone (or none), and the list with every version. Refusals are shown by their stable code.
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import {
  addDocumentVersion,
  downloadDocumentAsSecretariat,
  linkDocument,
  listSessionDocumentsAsSecretariat,
  setDocumentFocus,
  uploadDocument,
  type DocumentAudience,
  type DocumentLanguage,
  type DocumentListing,
  type SessionDocument,
} from '../../../../client-sdk/src/documents-api';
import { saveDocumentFile } from '../../shared/documents-download';
import { DOCUMENT_AUDIENCES, DOCUMENT_LANGUAGES, documentError, documentErrorCode, isolate, versionLabel } from '../../shared/documents-labels';
import { useIdentityStore } from '../../shared/identity-store';
import { languageName } from '../../shared/i18n';
import { announce } from '../../shared/live-region';
import { useConsoleStore } from './console-store';
import '../../shared/documents-panels.css';

type Done = 'uploaded' | 'linked' | 'versioned' | 'focused' | 'cleared';

/** The session's documents and the secretariat's calls on them, each refusal kept with its code. */
function useSessionDocuments(sessionId: string) {
  const { t } = useTranslation();
  const token = useIdentityStore((s) => s.identity?.token);
  const eventId = useConsoleStore((s) => s.api?.eventId);
  const [listing, setListing] = useState<DocumentListing>();
  const [error, setError] = useState<unknown>();
  const reload = useCallback(async () => {
    if (!token || !eventId) return;
    try {
      setListing(await listSessionDocumentsAsSecretariat('', token, eventId, sessionId));
    } catch (e) {
      setError(e);
    }
  }, [token, eventId, sessionId]);
  useEffect(() => void reload(), [reload]);
  /** Runs one call; on success reloads the list and says what was done (with the document's title). */
  const run = async (fn: (token: string, eventId: string) => Promise<{ title?: string } | void>, done?: Done): Promise<boolean> => {
    if (!token || !eventId) return false;
    setError(undefined);
    try {
      const out = await fn(token, eventId);
      await reload();
      if (done) announce(t(`documents.console.done.${done}`, { title: isolate(out?.title ?? '') }));
      return true;
    } catch (e) {
      setError(e);
      return false;
    }
  };
  return { listing, error, run };
}

function MetaFields({ title, setTitle, language, setLanguage, audience, setAudience, prefix }: {
  title: string;
  setTitle: (v: string) => void;
  language: DocumentLanguage;
  setLanguage: (v: DocumentLanguage) => void;
  audience: DocumentAudience;
  setAudience: (v: DocumentAudience) => void;
  prefix: string;
}) {
  const { t, i18n } = useTranslation();
  return (
    <>
      <label>
        {t('documents.console.title')}
        <input required maxLength={200} value={title} onChange={(e) => setTitle(e.target.value)} data-testid={`${prefix}-title`} />
      </label>
      <label>
        {t('documents.console.language')}
        <select value={language} onChange={(e) => setLanguage(e.target.value as DocumentLanguage)} data-testid={`${prefix}-language`}>
          {DOCUMENT_LANGUAGES.map((l) => (
            <option key={l} value={l}>
              {t('documents.languageVersion', { letter: letterOf(l), language: languageName(l, i18n.language) })}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('documents.console.audience')}
        <select value={audience} onChange={(e) => setAudience(e.target.value as DocumentAudience)} data-testid={`${prefix}-audience`}>
          {DOCUMENT_AUDIENCES.map((a) => (
            <option key={a} value={a}>
              {t(`documents.audience.${a}`)}
            </option>
          ))}
        </select>
      </label>
    </>
  );
}

const LETTERS: Record<DocumentLanguage, string> = { ar: 'A', zh: 'C', en: 'E', fr: 'F', ru: 'R', es: 'S' };
const letterOf = (l: DocumentLanguage): string => LETTERS[l];

function UploadForm({ run }: { run: ReturnType<typeof useSessionDocuments>['run'] }) {
  const { t, i18n } = useTranslation();
  const sessionId = useConsoleStore((s) => s.selected)!;
  const headingId = useId();
  const first = (DOCUMENT_LANGUAGES as string[]).includes(i18n.language) ? (i18n.language as DocumentLanguage) : 'en';
  const [title, setTitle] = useState('');
  const [language, setLanguage] = useState<DocumentLanguage>(first);
  const [audience, setAudience] = useState<DocumentAudience>('everyone');
  const [file, setFile] = useState<File>();
  const [inputKey, setInputKey] = useState(0);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    const ok = await run((token, eventId) => uploadDocument('', token, eventId, sessionId, { title, language, audience }, file), 'uploaded');
    if (ok) {
      setTitle('');
      setFile(undefined);
      setInputKey((k) => k + 1);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} aria-labelledby={headingId} data-testid="document-upload-form">
      <h3 id={headingId}>{t('documents.console.uploadHeading')}</h3>
      <MetaFields prefix="upload" title={title} setTitle={setTitle} language={language} setLanguage={setLanguage} audience={audience} setAudience={setAudience} />
      <label>
        {t('documents.console.file')}
        <input key={inputKey} type="file" required accept=".pdf,.docx,.txt,application/pdf,text/plain" onChange={(e) => setFile(e.target.files?.[0])} data-testid="upload-file" />
      </label>
      <p className="hint">{t('documents.console.fileHint')}</p>
      <button type="submit" data-testid="upload-submit">
        {t('documents.console.upload')}
      </button>
    </form>
  );
}

function LinkForm({ run }: { run: ReturnType<typeof useSessionDocuments>['run'] }) {
  const { t, i18n } = useTranslation();
  const sessionId = useConsoleStore((s) => s.selected)!;
  const headingId = useId();
  const first = (DOCUMENT_LANGUAGES as string[]).includes(i18n.language) ? (i18n.language as DocumentLanguage) : 'en';
  const [title, setTitle] = useState('');
  const [language, setLanguage] = useState<DocumentLanguage>(first);
  const [audience, setAudience] = useState<DocumentAudience>('everyone');
  const [url, setUrl] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await run((token, eventId) => linkDocument('', token, eventId, sessionId, { title, language, audience, url }), 'linked')) {
      setTitle('');
      setUrl('');
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} aria-labelledby={headingId} data-testid="document-link-form">
      <h3 id={headingId}>{t('documents.console.linkHeading')}</h3>
      <MetaFields prefix="link" title={title} setTitle={setTitle} language={language} setLanguage={setLanguage} audience={audience} setAudience={setAudience} />
      <label>
        {t('documents.console.url')}
        <input type="url" required maxLength={2048} pattern="https://.*" value={url} onChange={(e) => setUrl(e.target.value)} data-testid="link-url" />
      </label>
      <button type="submit" data-testid="link-submit">
        {t('documents.console.addLink')}
      </button>
    </form>
  );
}

/** A new version of one document: a file, or a link. */
function AddVersion({ doc, run }: { doc: SessionDocument; run: ReturnType<typeof useSessionDocuments>['run'] }) {
  const { t } = useTranslation();
  const sessionId = useConsoleStore((s) => s.selected)!;
  const [file, setFile] = useState<File>();
  const [url, setUrl] = useState('');
  const [inputKey, setInputKey] = useState(0);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const content = file ? { file } : url ? { url } : undefined;
    if (!content) return;
    if (await run(async (token, eventId) => addDocumentVersion('', token, eventId, sessionId, doc.documentId, content), 'versioned')) {
      setFile(undefined);
      setUrl('');
      setInputKey((k) => k + 1);
    }
  };
  return (
    <details data-testid="document-add-version">
      <summary>{t('documents.console.addVersionNamed', { title: doc.title })}</summary>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          {t('documents.console.file')}
          <input key={inputKey} type="file" accept=".pdf,.docx,.txt,application/pdf,text/plain" onChange={(e) => setFile(e.target.files?.[0])} data-testid="version-file" />
        </label>
        <label>
          {t('documents.console.orUrl')}
          <input type="url" maxLength={2048} pattern="https://.*" value={url} onChange={(e) => setUrl(e.target.value)} data-testid="version-url" />
        </label>
        <button type="submit" data-testid="version-submit">
          {t('documents.console.addVersion')}
        </button>
      </form>
    </details>
  );
}

function ConsoleDocument({ doc, focused, run, onDownload }: { doc: SessionDocument; focused: boolean; run: ReturnType<typeof useSessionDocuments>['run']; onDownload: (doc: SessionDocument, version: number) => void }) {
  const { t, i18n } = useTranslation();
  const sessionId = useConsoleStore((s) => s.selected)!;
  return (
    <li className={`document${focused ? ' in-focus' : ''}`} data-testid="document" data-document-id={doc.documentId} data-letter={doc.symbolLetter} data-focus={focused ? 'true' : 'false'} aria-current={focused ? 'true' : undefined}>
      <span className="document-letter" aria-hidden="true">
        {doc.symbolLetter}
      </span>
      <span className="document-title" data-testid="document-title">
        {doc.title}
      </span>
      <span className="document-meta">
        {versionLabel(t, doc, i18n.language)} · {t(`documents.audience.${doc.audience}`)}
      </span>
      {focused && <span className="badge">{t('documents.inFocus')}</span>}
      <button
        type="button"
        className="secondary"
        aria-pressed={focused}
        aria-label={t('documents.console.focusNamed', { title: doc.title })}
        onClick={() =>
          void run(async (token, eventId) => {
            await setDocumentFocus('', token, eventId, sessionId, focused ? null : doc.documentId);
            return doc;
          }, focused ? 'cleared' : 'focused')
        }
        data-testid="document-focus"
      >
        {t('documents.console.focus')}
      </button>
      <ul className="versions" aria-label={t('documents.console.versionsNamed', { title: doc.title })}>
        {doc.versions.map((v) => (
          <li key={v.version} data-testid="document-version" data-version={v.version} data-kind={v.kind}>
            {t('documents.version', { version: v.version })}{' '}
            {v.kind === 'link' && v.url ? (
              <a href={v.url} target="_blank" rel="noopener noreferrer" aria-label={t('documents.openNamed', { title: `${doc.title} (${t('documents.version', { version: v.version })})` })}>
                {t('documents.open')}
              </a>
            ) : (
              <button type="button" className="link" onClick={() => onDownload(doc, v.version)} aria-label={t('documents.downloadNamed', { title: `${doc.title} (${t('documents.version', { version: v.version })})` })} data-testid="version-download">
                {t('documents.download')}
              </button>
            )}
          </li>
        ))}
      </ul>
      <AddVersion doc={doc} run={run} />
    </li>
  );
}

export function DocumentsPanel({ sessionId }: { sessionId: string }) {
  const { t } = useTranslation();
  const { listing, error, run } = useSessionDocuments(sessionId);
  const token = useIdentityStore((s) => s.identity?.token);
  const eventId = useConsoleStore((s) => s.api?.eventId);
  const onDownload = (doc: SessionDocument, version: number) =>
    void run(async (tk, ev) => saveDocumentFile(await downloadDocumentAsSecretariat('', tk, ev, sessionId, doc.documentId, version)));
  const focused = listing?.focus ? listing.documents.find((d) => d.documentId === listing.focus) : undefined;
  return (
    <section className="panel documents-console" aria-labelledby="console-documents-heading" data-testid="documents-console">
      <h2 id="console-documents-heading">{t('documents.heading')}</h2>
      <div className="alert" role="alert" data-testid="documents-error" data-code={documentErrorCode(error)}>
        {error !== undefined ? documentError(t, error) : ''}
      </div>
      <p data-testid="documents-focus" data-document-id={focused?.documentId ?? ''}>
        {focused ? t('documents.console.current', { title: isolate(focused.title) }) : t('documents.console.noFocus')}{' '}
        {focused && token && eventId && (
          <button type="button" className="secondary" onClick={() => void run((tk, ev) => setDocumentFocus('', tk, ev, sessionId, null).then(() => ({})), 'cleared')} data-testid="focus-clear">
            {t('documents.console.clearFocus')}
          </button>
        )}
      </p>
      {listing && listing.documents.length === 0 && <p data-testid="documents-empty">{t('documents.empty')}</p>}
      {listing && listing.documents.length > 0 && (
        <ul className="documents" data-testid="documents-list">
          {listing.documents.map((doc) => (
            <ConsoleDocument key={doc.documentId} doc={doc} focused={listing.focus === doc.documentId} run={run} onDownload={onDownload} />
          ))}
        </ul>
      )}
      <UploadForm run={run} />
      <LinkForm run={run} />
    </section>
  );
}

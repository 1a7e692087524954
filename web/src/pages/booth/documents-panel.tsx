// The session's documents (filled by the meeting record; empty until then).
import { useTranslation } from 'react-i18next';

export function DocumentsPanel() {
  const { t } = useTranslation();
  return (
    <section className="booth-panel" aria-labelledby="booth-documents-heading" data-testid="documents">
      <h2 id="booth-documents-heading">{t('booth.documents.heading')}</h2>
      <p data-testid="documents-empty">{t('booth.documents.empty')}</p>
    </section>
  );
}

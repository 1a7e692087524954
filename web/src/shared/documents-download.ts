// A downloaded document saved as a file: the bytes were fetched with the Bearer identity token (a plain link
// cannot carry it), then handed to the browser through a temporary object URL.
import type { DocumentFile } from '../../../client-sdk/src/documents-api';

export function saveDocumentFile(file: DocumentFile): void {
  const url = URL.createObjectURL(file.blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = file.fileName;
  a.rel = 'noopener noreferrer';
  document.body.append(a);
  a.click();
  a.remove();
  // Let the download start before the URL goes.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// A session's documents as this person may see them (GET /api/sessions/{id}/documents with their identity
// token), read again whenever the room says the focus changed (the SDK's `documentFocus`: only an id, so a
// document outside one's audience is never named here). Shared by the booth and the delegate page.
import { create } from 'zustand';
import { downloadDocument, listDocuments, type DocumentListing } from '../../../client-sdk/src/documents-api';
import type { MeetingClient } from '../../../client-sdk/src/meeting-client';
import { saveDocumentFile } from './documents-download';

interface DocumentsState {
  listing?: DocumentListing;
  /** The last listing or download failed (its stable code, when the server gave one). */
  error?: unknown;
  /** How many live focus changes were read: 0 until the room first says one (the first load is no news). */
  focusChanges: number;
  load(token: string, sessionId: string): Promise<void>;
  download(token: string, sessionId: string, documentId: string, version?: number): Promise<void>;
}

let generation = 0;

export const useDocumentsStore = create<DocumentsState>((set) => ({
  focusChanges: 0,
  async load(token, sessionId) {
    const mine = ++generation;
    try {
      const listing = await listDocuments('', token, sessionId);
      if (mine === generation) set({ listing, error: undefined });
    } catch (error) {
      if (mine === generation) set({ error });
    }
  },
  async download(token, sessionId, documentId, version) {
    try {
      saveDocumentFile(await downloadDocument('', token, sessionId, documentId, version));
      set({ error: undefined });
    } catch (error) {
      set({ error });
    }
  },
}));

/** Loads the listing now, and again on each `documentFocus` the page's client hears; returns the unsubscribe. */
export function followDocuments(client: MeetingClient | undefined, token: string, sessionId: string): () => void {
  const { load } = useDocumentsStore.getState();
  void load(token, sessionId);
  return (
    client?.on('documentFocus', () => {
      void load(token, sessionId).then(() => useDocumentsStore.setState((s) => ({ focusChanges: s.focusChanges + 1 })));
    }) ?? (() => undefined)
  );
}

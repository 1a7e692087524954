// The live "in focus" event (issue 14): the secretariat's POST …/documents/focus is broadcast to the
// session's room as `documentFocus { documentId, at }`, to real signaling clients of the demo event. Only the
// id travels: a delegate outside an interpreters-only document's audience hears the event, but their own
// listing names no such document (and its focus is null), while the interpreter's listing shows it in focus.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import * as sdk from '../../client-sdk/src/documents-api.js';
import type { ServerEvents } from '../../protocol/signaling.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { joinedSocket, signInAs } from '../helpers/accreditation-client.js';
import { minimalPdf } from '../helpers/documents-fixtures.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

type Focus = ServerEvents['documentFocus'];

const SESSION = 'demo-plenary';
const OTHER_SESSION = 'demo-council';
const SECRET_TITLE = 'Booth glossary — interpreters only';

let server: MeetingServer;
const tokens: Record<string, string> = {};
const sockets: Record<string, Socket> = {};
const heard: Record<string, Focus[]> = {};

beforeAll(async () => {
  server = await startTestServer({ PLENUM_DEV_MODE: 'false', PLENUM_STORAGE_DIR: mkdtempSync(join(tmpdir(), 'plenum-focus-')), PLENUM_REVALIDATE_INTERVAL_SECONDS: '0' });
  const people = { sofia: 'sofia.rossi@secretariat.example', beatriz: 'beatriz.souza@demo.br', elodie: 'elodie.martin@interpreters.example' };
  for (const [who, email] of Object.entries(people)) tokens[who] = await signInAs(server.url, email);
  for (const who of ['beatriz', 'elodie'] as const) {
    const socket = await joinedSocket(server.url, people[who], SESSION);
    sockets[who] = socket;
    heard[who] = [];
    socket.on('documentFocus', (focus: Focus) => heard[who]!.push(focus));
  }
}, 120_000);

afterAll(async () => {
  for (const socket of Object.values(sockets)) socket.close();
  await server?.close();
});

describe('the document in focus, live', () => {
  it('goes to the room as an id only; each listing names it to its audience alone', async () => {
    const base = server.url;
    const glossary = await sdk.uploadDocument(base, tokens.sofia!, DEMO_EVENT_ID, SESSION, { title: SECRET_TITLE, language: 'fr', audience: 'interpreters' }, new TextEncoder().encode('motion d\'ordre — point of order\n'));
    const draft = await sdk.uploadDocument(base, tokens.sofia!, DEMO_EVENT_ID, SESSION, { title: 'Draft resolution L.3', language: 'en' }, minimalPdf('L.3'));
    const elsewhere = await sdk.uploadDocument(base, tokens.sofia!, DEMO_EVENT_ID, OTHER_SESSION, { title: 'Council draft', language: 'en' }, minimalPdf('C.1'));

    // Another session's focus is not this room's news.
    await sdk.setDocumentFocus(base, tokens.sofia!, DEMO_EVENT_ID, OTHER_SESSION, elsewhere.documentId);

    // The interpreters-only glossary in focus: both hear the id, nothing else.
    const answer = await sdk.setDocumentFocus(base, tokens.sofia!, DEMO_EVENT_ID, SESSION, glossary.documentId);
    expect(answer.focus).toBe(glossary.documentId);
    for (const who of ['beatriz', 'elodie']) {
      const focus = await waitFor(() => heard[who]![0], { what: `${who}'s documentFocus` });
      expect(focus.documentId).toBe(glossary.documentId);
      expect(Object.keys(focus).sort()).toEqual(['at', 'documentId']);
      expect(JSON.stringify(focus)).not.toContain('glossary');
    }
    const delegateView = await sdk.listDocuments(base, tokens.beatriz!, SESSION);
    expect(delegateView.focus).toBeNull();
    expect(delegateView.documents.map((d) => d.documentId)).not.toContain(glossary.documentId);
    expect(JSON.stringify(delegateView)).not.toContain(SECRET_TITLE);
    const interpreterView = await sdk.listDocuments(base, tokens.elodie!, SESSION);
    expect(interpreterView.focus).toBe(glossary.documentId);
    expect(interpreterView.documents.find((d) => d.documentId === glossary.documentId)?.title).toBe(SECRET_TITLE);

    // A document for everyone in focus, then none: each change is heard, in order, by both.
    await sdk.setDocumentFocus(base, tokens.sofia!, DEMO_EVENT_ID, SESSION, draft.documentId);
    await sdk.setDocumentFocus(base, tokens.sofia!, DEMO_EVENT_ID, SESSION, null);
    for (const who of ['beatriz', 'elodie']) {
      await waitFor(() => heard[who]!.length >= 3, { what: `${who}'s three focus changes` });
      expect(heard[who]!.map((f) => f.documentId)).toEqual([glossary.documentId, draft.documentId, null]);
    }
    expect((await sdk.listDocuments(base, tokens.beatriz!, SESSION)).focus).toBeNull();
  });

  it('a refused focus (no such document) is not announced', async () => {
    const before = heard.beatriz!.length;
    await expect(sdk.setDocumentFocus(server.url, tokens.sofia!, DEMO_EVENT_ID, SESSION, 'doc_AAAAAAAAAAAAAAAAAAAAAA')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // A later, accepted change arrives next: nothing was sent for the refused one in between.
    await sdk.setDocumentFocus(server.url, tokens.sofia!, DEMO_EVENT_ID, SESSION, null);
    await waitFor(() => heard.beatriz!.length > before, { what: 'the accepted change' });
    expect(heard.beatriz!.slice(before).map((f) => f.documentId)).toEqual([null]);
  });
});

// Session documents (issue 14): a real server with the embedded engine, real HTTP, real signed identity
// tokens from the demo event's embedded sign-in. Uploads are judged by content; downloads follow
// accreditation and each document's audience; every upload and download is in the audit trail.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_ID } from '../../accreditation/demo-seed.js';
import * as sdk from '../../client-sdk/src/documents-api.js';
import type { MeetingServer } from '../../server/meeting-server.js';
import { post, signInAs } from '../helpers/accreditation-client.js';
import { minimalDocx, minimalPdf, zipStored } from '../helpers/documents-fixtures.js';
import { httpRequest } from '../helpers/http-client.js';
import { startTestServer } from '../helpers/test-server.js';

const ADMIN_KEY = 'documents-admin-api-key-0123456789abcdef';
const MAX_BYTES = 64 * 1024;
const SESSION = 'demo-plenary';
const OTHER_SESSION = 'demo-council';
const EVENT_B = 'event-b-documents';
const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

let server: MeetingServer;
let base: string;
let storageDir: string;
const tokens: Record<string, string> = {};

interface VersionView {
  version: number;
  kind: string;
  contentType?: string;
  sizeBytes?: number;
  sha256?: string;
  url?: string;
}
interface DocumentView {
  documentId: string;
  title: string;
  language: string;
  symbolLetter: string;
  audience: string;
  latest: VersionView;
  versions: VersionView[];
}
interface Listing {
  sessionId: string;
  focus: string | null;
  documents: DocumentView[];
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const adminBase = (eventId = DEMO_EVENT_ID, sessionId = SESSION) => `${base}/api/admin/events/${eventId}/sessions/${sessionId}/documents`;
const participantBase = (sessionId = SESSION) => `${base}/api/sessions/${sessionId}/documents`;
const storedFiles = () => readdirSync(join(storageDir, 'documents'));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function upload(url: string, bytes: Uint8Array, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream', ...headers }, body: bytes });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { document: DocumentView; error?: { code: string } } };
}

async function uploadAs(token: string, meta: { title: string; language: string; audience?: string }, bytes: Uint8Array, headers: Record<string, string> = {}) {
  const query = new URLSearchParams({ title: meta.title, language: meta.language, ...(meta.audience && { audience: meta.audience }) });
  return upload(`${adminBase()}?${query}`, bytes, { ...bearer(token), ...headers });
}

async function listAs(token: string, url = participantBase()): Promise<{ status: number; body: Listing & { error?: { code: string } } }> {
  const res = await httpRequest('GET', url, undefined, bearer(token));
  return { status: res.status, body: res.json as unknown as Listing & { error?: { code: string } } };
}

async function download(url: string, token: string): Promise<{ status: number; bytes: Buffer; headers: Headers; code?: string }> {
  const res = await fetch(url, { headers: bearer(token) });
  const bytes = Buffer.from(await res.arrayBuffer());
  let code: string | undefined;
  if (res.headers.get('content-type')?.startsWith('application/json')) code = (JSON.parse(bytes.toString('utf8')) as { error?: { code: string } }).error?.code;
  return { status: res.status, bytes, headers: res.headers, code };
}

function expectSafeHeaders(headers: Headers, contentType: string, extension: string): void {
  expect(headers.get('content-type')).toBe(contentType);
  expect(headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="[A-Za-z0-9._-]+\\.${extension}"`));
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
}

beforeAll(async () => {
  storageDir = mkdtempSync(join(tmpdir(), 'plenum-documents-'));
  server = await startTestServer({
    PLENUM_DEV_MODE: 'false',
    PLENUM_ADMIN_API_KEY: ADMIN_KEY,
    PLENUM_STORAGE_DIR: storageDir,
    PLENUM_DOCUMENT_MAX_BYTES: String(MAX_BYTES),
    PLENUM_REVALIDATE_INTERVAL_SECONDS: '0',
  });
  base = server.url;
  const people = {
    sofia: 'sofia.rossi@secretariat.example',
    kwame: 'kwame.mensah@demo.gh',
    beatriz: 'beatriz.souza@demo.br',
    elodie: 'elodie.martin@interpreters.example',
    omar: 'omar.haddad@openaccess.example',
    lena: 'lena.vogel@acme-telecom.example',
  };
  for (const [who, email] of Object.entries(people)) tokens[who] = await signInAs(base, email);
  // Event B and its secretariat, made by automation.
  const apiKey = { 'x-api-key': ADMIN_KEY };
  expect((await httpRequest('PUT', `${base}/api/admin/events/${EVENT_B}/sessions/b-room`, { title: 'B room', lobby: false }, apiKey)).status).toBe(200);
  const registration = { name: 'B Secretariat', email: 'sec@event-b.example', entity: { name: 'Secretariat B', type: 'secretariat' }, role: 'secretariat', status: 'approved', accessCode: 'event-b-code-123' };
  expect((await httpRequest('PUT', `${base}/api/admin/events/${EVENT_B}/registrations/b-sec`, registration, apiKey)).status).toBe(200);
  const signedIn = await post(`${base}/api/auth/sign-in`, { email: 'sec@event-b.example', accessCode: 'event-b-code-123', eventId: EVENT_B });
  expect(signedIn.status).toBe(200);
  tokens.secB = signedIn.body.identityToken as string;
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe('documents: upload, list, download, versions', () => {
  const pdf = minimalPdf('Draft resolution A/79/L.1');
  const docx = minimalDocx('Projet de résolution');
  const text = Buffer.from('Proyecto de resolución\nPárrafo 1: la Comisión decide…\n', 'utf8');
  let pdfId: string;
  let docxId: string;
  let textId: string;

  it('stores a PDF, a DOCX and a text file by their content (not their declared type) and a delegate downloads them byte for byte', async () => {
    // The declared types are wrong on purpose: the content decides.
    const a = await uploadAs(tokens.sofia!, { title: 'Draft resolution A/79/L.1', language: 'en' }, pdf, { 'content-type': 'text/html' });
    expect(a.status).toBe(201);
    expect(a.body.document).toMatchObject({ title: 'Draft resolution A/79/L.1', language: 'en', symbolLetter: 'E', audience: 'everyone', latest: { version: 1, kind: 'file', contentType: 'application/pdf', sizeBytes: pdf.length, sha256: sha256(pdf) } });
    pdfId = a.body.document.documentId;
    const b = await uploadAs(tokens.kwame!, { title: 'Projet de résolution', language: 'fr' }, docx, { 'content-type': 'application/zip' });
    expect(b.status).toBe(201);
    expect(b.body.document).toMatchObject({ symbolLetter: 'F', latest: { contentType: DOCX_TYPE, sha256: sha256(docx) } });
    docxId = b.body.document.documentId;
    const c = await uploadAs(tokens.sofia!, { title: 'Proyecto de resolución', language: 'es' }, text);
    expect(c.status).toBe(201);
    expect(c.body.document).toMatchObject({ symbolLetter: 'S', latest: { contentType: 'text/plain; charset=utf-8' } });
    textId = c.body.document.documentId;
    // Stored under random names, never the client's.
    expect(storedFiles()).toHaveLength(3);
    for (const name of storedFiles()) expect(name).toMatch(/^[A-Za-z0-9_-]{32}$/);

    const listing = await listAs(tokens.beatriz!);
    expect(listing.status).toBe(200);
    expect(listing.body).toMatchObject({ sessionId: SESSION, focus: null });
    expect(listing.body.documents.map((d) => [d.documentId, d.symbolLetter])).toEqual([
      [pdfId, 'E'],
      [docxId, 'F'],
      [textId, 'S'],
    ]);

    const cases: Array<[string, Buffer, string, string]> = [
      [pdfId, pdf, 'application/pdf', 'pdf'],
      [docxId, docx, DOCX_TYPE, 'docx'],
      [textId, text, 'text/plain; charset=utf-8', 'txt'],
    ];
    for (const [id, bytes, type, extension] of cases) {
      const got = await download(`${participantBase()}/${id}/content`, tokens.beatriz!);
      expect(got.status).toBe(200);
      expect(got.bytes.equals(bytes)).toBe(true);
      expectSafeHeaders(got.headers, type, extension);
    }
    // The secretariat downloads through its own routes, with the same headers.
    const own = await download(`${adminBase()}/${pdfId}/content`, tokens.sofia!);
    expect(own.bytes.equals(pdf)).toBe(true);
    expectSafeHeaders(own.headers, 'application/pdf', 'pdf');
  });

  it('keeps the older versions: the listing shows the latest, each version stays downloadable', async () => {
    const v2 = minimalPdf('Draft resolution A/79/L.1/Rev.1');
    const added = await upload(`${adminBase()}/${pdfId}/versions`, v2, bearer(tokens.sofia!));
    expect(added.status).toBe(201);
    expect(added.body.document.latest).toMatchObject({ version: 2, sha256: sha256(v2) });
    expect(added.body.document.versions.map((v) => v.version)).toEqual([2, 1]);
    const listed = (await listAs(tokens.beatriz!)).body.documents.find((d) => d.documentId === pdfId)!;
    expect(listed.latest.version).toBe(2);
    expect(listed.versions.map((v) => [v.version, v.sha256])).toEqual([
      [2, sha256(v2)],
      [1, sha256(pdf)],
    ]);
    const latest = await download(`${participantBase()}/${pdfId}/content`, tokens.beatriz!);
    expect(latest.bytes.equals(v2)).toBe(true);
    expect(latest.headers.get('content-disposition')).toMatch(/-E-v2\.pdf"/);
    const first = await download(`${participantBase()}/${pdfId}/versions/1/content`, tokens.beatriz!);
    expect(first.bytes.equals(pdf)).toBe(true);
    expect((await download(`${participantBase()}/${pdfId}/versions/3/content`, tokens.beatriz!)).code).toBe('NOT_FOUND');
    // A new version is judged like a first upload.
    const html = await upload(`${adminBase()}/${pdfId}/versions`, Buffer.from('<html><script>alert(1)</script>'), bearer(tokens.sofia!));
    expect(html.status).toBe(415);
    expect(html.body.error?.code).toBe('DOCUMENT_TYPE_REFUSED');
  });

  it('links a document of the organisation\'s system (https only, never served as a file) and versions the link', async () => {
    const linked = await httpRequest('POST', `${adminBase()}/links`, { title: 'Report of the Secretary-General', language: 'ru', url: 'https://documents.example.org/doc/A/79/100' }, bearer(tokens.sofia!));
    expect(linked.status).toBe(201);
    const doc = (linked.json as { document: DocumentView }).document;
    expect(doc).toMatchObject({ symbolLetter: 'R', latest: { version: 1, kind: 'link', url: 'https://documents.example.org/doc/A/79/100' } });
    const seen = (await listAs(tokens.beatriz!)).body.documents.find((d) => d.documentId === doc.documentId)!;
    expect(seen.latest.url).toBe('https://documents.example.org/doc/A/79/100');
    expect((await download(`${participantBase()}/${doc.documentId}/content`, tokens.beatriz!)).code).toBe('INVALID_STATE');
    for (const url of ['http://documents.example.org/x', 'javascript:alert(1)', 'https://u:p@documents.example.org/']) {
      const refused = await httpRequest('POST', `${adminBase()}/links`, { title: 'x', language: 'en', url }, bearer(tokens.sofia!));
      expect(refused.status, url).toBe(400);
      expect((refused.json as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    }
    const linkV2 = await httpRequest('POST', `${adminBase()}/${doc.documentId}/versions/link`, { url: 'https://documents.example.org/doc/A/79/100/Corr.1' }, bearer(tokens.sofia!));
    expect(linkV2.status).toBe(201);
    expect((linkV2.json as { document: DocumentView }).document.latest).toMatchObject({ version: 2, kind: 'link' });
  });
});

describe('documents: access follows accreditation and the audience', () => {
  let interpretersId: string;
  let memberStatesId: string;
  const glossary = Buffer.from('Glossary for the booths: "chapeau" = preambular part.\n', 'utf8');
  const nonPaper = minimalPdf('Non-paper for Member States');

  beforeAll(async () => {
    const a = await uploadAs(tokens.sofia!, { title: 'Booth glossary', language: 'fr', audience: 'interpreters' }, glossary);
    expect(a.status).toBe(201);
    interpretersId = a.body.document.documentId;
    const b = await uploadAs(tokens.sofia!, { title: 'Non-paper', language: 'en', audience: 'member_states' }, nonPaper);
    expect(b.status).toBe(201);
    memberStatesId = b.body.document.documentId;
  });

  it('an interpreters-only document is invisible to a delegate and downloadable by an interpreter', async () => {
    const delegate = await listAs(tokens.beatriz!);
    expect(delegate.body.documents.map((d) => d.documentId)).not.toContain(interpretersId);
    expect((await download(`${participantBase()}/${interpretersId}/content`, tokens.beatriz!)).status).toBe(404);
    expect((await download(`${participantBase()}/${interpretersId}/versions/1/content`, tokens.beatriz!)).status).toBe(404);

    const interpreter = await listAs(tokens.elodie!);
    expect(interpreter.body.documents.find((d) => d.documentId === interpretersId)).toMatchObject({ audience: 'interpreters', symbolLetter: 'F' });
    // Not a Member State: the non-paper is not theirs.
    expect(interpreter.body.documents.map((d) => d.documentId)).not.toContain(memberStatesId);
    const got = await download(`${participantBase()}/${interpretersId}/content`, tokens.elodie!);
    expect(got.status).toBe(200);
    expect(got.bytes.equals(glossary)).toBe(true);
    // The chair and the secretariat see every document.
    expect((await listAs(tokens.kwame!)).body.documents.map((d) => d.documentId)).toEqual(expect.arrayContaining([interpretersId, memberStatesId]));
  });

  it('a Member-State document is refused to an NGO observer and a sector member, and served to a Member State', async () => {
    for (const who of ['omar', 'lena']) {
      expect((await listAs(tokens[who]!)).body.documents.map((d) => d.documentId)).not.toContain(memberStatesId);
      const refused = await download(`${participantBase()}/${memberStatesId}/content`, tokens[who]!);
      expect(refused.status).toBe(404);
      expect(refused.code).toBe('NOT_FOUND');
    }
    const got = await download(`${participantBase()}/${memberStatesId}/content`, tokens.beatriz!);
    expect(got.bytes.equals(nonPaper)).toBe(true);
  });

  it('refuses a person not accredited for the session, a pending one and an unsigned request', async () => {
    // The NGO observer is not admitted to the Member States' consultations at all.
    const observer = await listAs(tokens.omar!, participantBase('demo-member-states'));
    expect(observer.status).toBe(403);
    expect(observer.body.error?.code).toBe('NOT_ACCREDITED');
    const pending = await listAs(await signInAs(base, 'priya.nair@demo.in'));
    expect(pending.status).toBe(403);
    expect(pending.body.error?.code).toBe('NOT_ACCREDITED');
    expect((await httpRequest('GET', participantBase())).status).toBe(401);
    expect((await listAs('not-a-token')).status).toBe(401);
    // The secretariat's routes are the secretariat's: a delegate is refused.
    expect((await listAs(tokens.beatriz!, adminBase())).status).toBe(403);
    const byDelegate = await uploadAs(tokens.beatriz!, { title: 'x', language: 'en' }, Buffer.from('hello'));
    expect(byDelegate.status).toBe(403);
  });

  it('puts one document in focus for everyone who may see it', async () => {
    const focus = async (documentId: string | null, token = tokens.kwame!, url = `${adminBase()}/focus`) => httpRequest('POST', url, { documentId }, bearer(token));
    const all = (await listAs(tokens.sofia!, adminBase())).body.documents;
    const everyone = all.find((d) => d.audience === 'everyone' && d.latest.kind === 'file')!;
    expect((await focus(everyone.documentId)).json).toEqual({ sessionId: SESSION, focus: everyone.documentId });
    expect((await listAs(tokens.beatriz!)).body.focus).toBe(everyone.documentId);
    expect((await listAs(tokens.elodie!)).body.focus).toBe(everyone.documentId);
    // In focus but not theirs: a delegate learns nothing of the interpreters' document.
    await focus(interpretersId);
    expect((await listAs(tokens.beatriz!)).body.focus).toBeNull();
    expect((await listAs(tokens.elodie!)).body.focus).toBe(interpretersId);
    // A document of another session cannot be put in focus here; a delegate cannot focus anything.
    const otherSession = await upload(`${adminBase(DEMO_EVENT_ID, OTHER_SESSION)}?title=Council+agenda&language=en`, Buffer.from('Agenda item 1'), bearer(tokens.sofia!));
    expect(otherSession.status).toBe(201);
    expect((await focus(otherSession.body.document.documentId, tokens.sofia!)).status).toBe(404);
    expect((await listAs(tokens.beatriz!)).body.focus).toBeNull();
    expect((await focus(everyone.documentId, tokens.beatriz!)).status).toBe(403);
    await focus(null);
    expect((await listAs(tokens.elodie!)).body.focus).toBeNull();
  });
});

describe('documents: refusals', () => {
  it('refuses a disguised HTML file (named .pdf or .txt, declared as PDF) with a stable code and stores nothing', async () => {
    const before = storedFiles().length;
    const page = Buffer.from('<!DOCTYPE html><html><body><script>fetch("/api/events")</script></body></html>');
    for (const [title, type] of [
      ['minutes.pdf', 'application/pdf'],
      ['minutes.txt', 'text/plain'],
    ]) {
      const refused = await uploadAs(tokens.sofia!, { title: title!, language: 'en' }, page, { 'content-type': type!, 'content-disposition': `attachment; filename="${title}"` });
      expect(refused.status).toBe(415);
      expect(refused.body.error?.code).toBe('DOCUMENT_TYPE_REFUSED');
    }
    const svg = await uploadAs(tokens.sofia!, { title: 'logo', language: 'en' }, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'));
    expect(svg.body.error?.code).toBe('DOCUMENT_TYPE_REFUSED');
    const exe = await uploadAs(tokens.sofia!, { title: 'tool', language: 'en' }, Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00]));
    expect(exe.body.error?.code).toBe('DOCUMENT_TYPE_REFUSED');
    expect(storedFiles()).toHaveLength(before);
  });

  it('serves a PDF that also holds HTML as an inert PDF attachment (uploaded by automation with the admin API key)', async () => {
    const polyglot = Buffer.from('%PDF-1.4\n<html><body><script>fetch("/api/events")</script></body></html>\n%%EOF\n');
    const stored = await upload(`${adminBase()}?title=polyglot.html&language=en`, polyglot, { 'x-api-key': ADMIN_KEY, 'content-type': 'text/html' });
    expect(stored.status).toBe(201);
    expect(stored.body.document.latest.contentType).toBe('application/pdf');
    const got = await download(`${participantBase()}/${stored.body.document.documentId}/content`, tokens.beatriz!);
    expect(got.bytes.equals(polyglot)).toBe(true);
    expectSafeHeaders(got.headers, 'application/pdf', 'pdf');
    expect(got.headers.get('content-disposition')).toMatch(/^attachment; filename="polyglot\.html-E-v1\.pdf"/);
    const audit = await httpRequest('GET', `${base}/api/admin/events/${DEMO_EVENT_ID}/audit?sessionId=${SESSION}`, undefined, { 'x-api-key': ADMIN_KEY });
    const upload1 = (audit.json as { records: Array<Record<string, unknown>> }).records.find((r) => r.documentId === stored.body.document.documentId && r.decision === 'document-upload');
    expect(upload1).toMatchObject({ actor: 'admin-api-key', documentVersion: 1 });
    expect(upload1?.personId).toBeUndefined();
  });

  it('refuses a ZIP that is not a DOCX', async () => {
    const zip = zipStored([{ name: 'content.xml', data: '<office:document/>' }, { name: 'mimetype', data: 'application/vnd.oasis.opendocument.text' }]);
    const refused = await uploadAs(tokens.sofia!, { title: 'odt', language: 'en' }, zip);
    expect(refused.status).toBe(415);
    expect(refused.body.error?.code).toBe('DOCUMENT_TYPE_REFUSED');
  });

  it('answers 413 to a file over the limit, announced or streamed, and leaves no file behind', async () => {
    const before = storedFiles();
    const big = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(MAX_BYTES, 0x20)]);
    const announced = await uploadAs(tokens.sofia!, { title: 'Big', language: 'en' }, big);
    expect(announced.status).toBe(413);
    expect(announced.body.error?.code).toBe('DOCUMENT_TOO_LARGE');
    // Chunked (no Content-Length): cut off once past the limit.
    const chunks = [Buffer.from('%PDF-1.4\n'), ...Array.from({ length: 8 }, () => Buffer.alloc(MAX_BYTES / 4, 0x20))];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const query = new URLSearchParams({ title: 'Big', language: 'en' });
    const res = await fetch(`${adminBase()}?${query}`, { method: 'POST', headers: { ...bearer(tokens.sofia!), 'content-type': 'application/pdf' }, body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('DOCUMENT_TOO_LARGE');
    // Compressed bodies are refused rather than inflated.
    const gz = await uploadAs(tokens.sofia!, { title: 'gz', language: 'en' }, Buffer.from('hello'), { 'content-encoding': 'gzip' });
    expect(gz.status).toBe(400);
    expect(storedFiles()).toEqual(before);
  });

  it('answers BAD_REQUEST to ids and metadata without their format, before anything is looked up', async () => {
    const sofia = bearer(tokens.sofia!);
    const expectBadRequest = async (res: Promise<{ status: number; json?: Record<string, unknown>; body?: Record<string, unknown> }>) => {
      const answer = await res;
      expect(answer.status).toBe(400);
      expect(((answer.json ?? answer.body) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    };
    await expectBadRequest(httpRequest('GET', `${base}/api/admin/events/${DEMO_EVENT_ID}/sessions/bad%20id!/documents`, undefined, sofia));
    await expectBadRequest(httpRequest('GET', `${base}/api/admin/events/bad%20event!/sessions/${SESSION}/documents`, undefined, sofia));
    await expectBadRequest(httpRequest('GET', `${base}/api/sessions/bad%20id!/documents`, undefined, bearer(tokens.beatriz!)));
    await expectBadRequest(httpRequest('GET', `${participantBase()}/not-a-document/content`, undefined, bearer(tokens.beatriz!)));
    await expectBadRequest(httpRequest('GET', `${participantBase()}/doc_AAAAAAAAAAAAAAAAAAAAAA/versions/x/content`, undefined, bearer(tokens.beatriz!)));
    await expectBadRequest(httpRequest('GET', `${participantBase()}/doc_AAAAAAAAAAAAAAAAAAAAAA/versions/0/content`, undefined, bearer(tokens.beatriz!)));
    await expectBadRequest(httpRequest('GET', `${adminBase()}/..%2F..%2Fetc/content`, undefined, sofia));
    // Metadata: a language without a UN symbol, an unknown audience, a missing title, an unknown field.
    await expectBadRequest(uploadAs(tokens.sofia!, { title: 'x', language: 'de' }, Buffer.from('hello')));
    await expectBadRequest(uploadAs(tokens.sofia!, { title: 'x', language: 'en', audience: 'all' }, Buffer.from('hello')));
    await expectBadRequest(upload(`${adminBase()}?language=en`, Buffer.from('hello'), sofia));
    await expectBadRequest(upload(`${adminBase()}?title=x&language=en&storageKey=../x`, Buffer.from('hello'), sofia));
    await expectBadRequest(upload(`${adminBase()}?title=x&language=en`, Buffer.alloc(0), sofia));
    expect((await httpRequest('GET', `${participantBase()}/doc_AAAAAAAAAAAAAAAAAAAAAA/content`, undefined, bearer(tokens.beatriz!))).status).toBe(404);
  });
});

describe('documents: events and sessions do not leak into each other', () => {
  let docOfA: string;
  beforeAll(async () => {
    const a = await uploadAs(tokens.sofia!, { title: 'Plenary list of speakers', language: 'en' }, Buffer.from('1. Kenya\n2. Brazil\n'));
    expect(a.status).toBe(201);
    docOfA = a.body.document.documentId;
  });

  it('another event\'s secretariat can neither list nor upload, and finds no session of this event under its own', async () => {
    const before = storedFiles().length;
    const list = await listAs(tokens.secB!, adminBase());
    expect(list.status).toBe(403);
    expect(list.body.error?.code).toBe('FORBIDDEN');
    const up = await upload(`${adminBase()}?title=x&language=en`, minimalPdf('x'), bearer(tokens.secB!));
    expect(up.status).toBe(403);
    expect((await download(`${adminBase()}/${docOfA}/content`, tokens.secB!)).status).toBe(403);
    // Under its own event, this event's session does not exist.
    const ownEvent = await listAs(tokens.secB!, adminBase(EVENT_B, SESSION));
    expect(ownEvent.status).toBe(404);
    expect(ownEvent.body.error?.code).toBe('NOT_FOUND');
    expect((await upload(`${adminBase(EVENT_B, SESSION)}?title=x&language=en`, minimalPdf('x'), bearer(tokens.secB!))).status).toBe(404);
    expect((await download(`${adminBase(EVENT_B, SESSION)}/${docOfA}/content`, tokens.secB!)).status).toBe(404);
    // Its identity is bound to its event: this event's participants' routes do not know it.
    expect((await listAs(tokens.secB!)).status).toBe(404);
    expect(storedFiles()).toHaveLength(before);
    // Its own (empty) session answers.
    expect((await listAs(tokens.secB!, adminBase(EVENT_B, 'b-room'))).body).toMatchObject({ sessionId: 'b-room', documents: [] });
  });

  it('a document id of session A asked for under session B is NOT_FOUND, for participants and the secretariat', async () => {
    for (const url of [`${participantBase(OTHER_SESSION)}/${docOfA}/content`, `${participantBase(OTHER_SESSION)}/${docOfA}/versions/1/content`]) {
      const got = await download(url, tokens.beatriz!);
      expect(got.status, url).toBe(404);
      expect(got.code).toBe('NOT_FOUND');
    }
    expect((await download(`${adminBase(DEMO_EVENT_ID, OTHER_SESSION)}/${docOfA}/content`, tokens.sofia!)).code).toBe('NOT_FOUND');
    const version = await upload(`${adminBase(DEMO_EVENT_ID, OTHER_SESSION)}/${docOfA}/versions`, minimalPdf('x'), bearer(tokens.sofia!));
    expect(version.status).toBe(404);
    expect((await listAs(tokens.beatriz!, participantBase(OTHER_SESSION))).body.documents.map((d) => d.documentId)).not.toContain(docOfA);
    // The document is still whole in its own session.
    expect((await listAs(tokens.beatriz!)).body.documents.find((d) => d.documentId === docOfA)?.latest.version).toBe(1);
  });
});

describe('documents: the audit trail', () => {
  it('records every upload and every download with the document and the version, in JSON and in the CSV export', async () => {
    const pdf = minimalPdf('Audited');
    const up = await uploadAs(tokens.sofia!, { title: 'Audited', language: 'zh' }, pdf);
    const id = up.body.document.documentId;
    expect(up.body.document.symbolLetter).toBe('C');
    await download(`${participantBase()}/${id}/content`, tokens.beatriz!);
    await download(`${participantBase()}/${id}/versions/1/content`, tokens.elodie!);
    // A refused download is not a download.
    await download(`${participantBase()}/${id}/versions/9/content`, tokens.beatriz!);

    const audit = await httpRequest('GET', `${base}/api/admin/events/${DEMO_EVENT_ID}/audit?sessionId=${SESSION}&limit=1000`, undefined, bearer(tokens.sofia!));
    const records = (audit.json as { records: Array<Record<string, unknown>> }).records.filter((r) => r.documentId === id);
    expect(records.filter((r) => r.decision === 'document-upload')).toEqual([
      expect.objectContaining({ eventId: DEMO_EVENT_ID, sessionId: SESSION, actor: 'p-sec-1', personId: 'p-sec-1', documentVersion: 1, source: 'secretariat' }),
    ]);
    const downloads = records.filter((r) => r.decision === 'document-download');
    expect(downloads.map((r) => [r.personId, r.role, r.entity, r.documentVersion]).sort()).toEqual([
      ['p-br-1', 'delegate', 'Brazil', 1],
      ['p-int-fr-1', 'interpreter', 'Secretariat interpretation service', 1],
    ]);
    // Every upload and download of the whole test is there: the first PDF was uploaded twice (v1, v2).
    const all = (audit.json as { records: Array<Record<string, unknown>> }).records;
    expect(all.filter((r) => r.decision === 'document-upload' && r.documentVersion === 2).length).toBeGreaterThanOrEqual(2);

    const csv = await httpRequest('GET', `${base}/api/admin/events/${DEMO_EVENT_ID}/audit?sessionId=${SESSION}&format=csv`, undefined, bearer(tokens.sofia!));
    expect(csv.status).toBe(200);
    const lines = csv.text.split('\r\n');
    expect(lines[0]).toBe('at,eventId,sessionId,personId,email,name,entity,role,decision,reasons,source,actor,documentId,documentVersion');
    expect(lines.filter((l) => l.includes(`,document-download,`) && l.endsWith(`,${id},1`))).toHaveLength(2);
    expect(lines.filter((l) => l.includes(`,document-upload,`) && l.endsWith(`,${id},1`))).toHaveLength(1);
  });
});

describe('documents: the SDK\'s calls', () => {
  it('upload, link, version, focus, list and download through client-sdk/src/documents-api.ts', async () => {
    const text = Buffer.from('Liste des orateurs — séance du matin\n', 'utf8');
    const doc = await sdk.uploadDocument(base, tokens.sofia!, DEMO_EVENT_ID, SESSION, { title: 'Liste des orateurs', language: 'fr' }, new Blob([text]));
    expect(doc).toMatchObject({ symbolLetter: 'F', audience: 'everyone', latest: { version: 1, contentType: 'text/plain; charset=utf-8', sha256: sha256(text) } });
    const v2Text = Buffer.from('Liste des orateurs — séance du matin (rév. 1)\n', 'utf8');
    expect((await sdk.addDocumentVersion(base, tokens.sofia!, DEMO_EVENT_ID, SESSION, doc.documentId, { file: v2Text })).latest.version).toBe(2);
    expect(await sdk.setDocumentFocus(base, tokens.kwame!, DEMO_EVENT_ID, SESSION, doc.documentId)).toEqual({ sessionId: SESSION, focus: doc.documentId });
    const linked = await sdk.linkDocument(base, tokens.sofia!, DEMO_EVENT_ID, SESSION, { title: 'Rules of procedure', language: 'ar', audience: 'member_states', url: 'https://documents.example.org/rules' });
    expect(linked).toMatchObject({ symbolLetter: 'A', latest: { kind: 'link' } });
    expect((await sdk.addDocumentVersion(base, tokens.sofia!, DEMO_EVENT_ID, SESSION, linked.documentId, { url: 'https://documents.example.org/rules/rev1' })).latest.url).toBe('https://documents.example.org/rules/rev1');

    const listing = await sdk.listDocuments(base, tokens.beatriz!, SESSION);
    expect(listing.focus).toBe(doc.documentId);
    expect(listing.documents.map((d) => d.documentId)).toEqual(expect.arrayContaining([doc.documentId, linked.documentId]));
    expect((await sdk.listDocuments(base, tokens.omar!, SESSION)).documents.map((d) => d.documentId)).not.toContain(linked.documentId);
    const latest = await sdk.downloadDocument(base, tokens.beatriz!, SESSION, doc.documentId);
    expect(Buffer.from(await latest.blob.arrayBuffer()).equals(v2Text)).toBe(true);
    expect(latest).toMatchObject({ fileName: 'Liste des orateurs-F-v2.txt', contentType: 'text/plain; charset=utf-8' });
    const first = await sdk.downloadDocument(base, tokens.beatriz!, SESSION, doc.documentId, 1);
    expect(Buffer.from(await first.blob.arrayBuffer()).equals(text)).toBe(true);
    const own = await sdk.downloadDocumentAsSecretariat(base, tokens.sofia!, DEMO_EVENT_ID, SESSION, doc.documentId, 1);
    expect(Buffer.from(await own.blob.arrayBuffer()).equals(text)).toBe(true);
    expect((await sdk.listSessionDocumentsAsSecretariat(base, tokens.sofia!, DEMO_EVENT_ID, SESSION)).documents.length).toBeGreaterThan(listing.documents.length);

    await expect(sdk.uploadDocument(base, tokens.sofia!, DEMO_EVENT_ID, SESSION, { title: 'x', language: 'en' }, Buffer.from('<html>'))).rejects.toMatchObject({ code: 'DOCUMENT_TYPE_REFUSED' });
    await expect(sdk.downloadDocument(base, tokens.omar!, SESSION, linked.documentId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(sdk.listDocuments(base, tokens.omar!, 'demo-member-states')).rejects.toMatchObject({ code: 'NOT_ACCREDITED' });
    await sdk.setDocumentFocus(base, tokens.sofia!, DEMO_EVENT_ID, SESSION, null);
  });
});

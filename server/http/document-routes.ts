import { pipeline } from 'node:stream/promises';
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { Accreditation } from '../accreditation/accreditation-setup.js';
import { participantReader, secretariatReader, type DocumentReader } from '../documents/document-access.js';
import { documentDisposition } from '../documents/document-file-name.js';
import { documentId, documentVersion, focusBody, linkBody, linkVersionBody, uploadQuery } from '../documents/document-model.js';
import type { SessionRef } from '../documents/document-repository.js';
import type { DocumentService } from '../documents/document-service.js';
import type { Logger } from '../logger.js';
import { answerStoreErrors, parseOr400, route } from './http-errors.js';
import { idFormats } from './id-params.js';
import { bearer, secretariatOnly } from './secretariat-auth.js';

export interface DocumentRoutesDeps {
  accreditation: Accreditation;
  documents: DocumentService;
  /** Largest upload (PLENUM_DOCUMENT_MAX_BYTES). */
  maxBytes: number;
  adminApiKey?: string;
  /** Tells the session's room the focus changed (`documentFocus`); never throws. */
  focusChanged?: (ref: SessionRef, documentId: string | null) => Promise<void>;
  log: Logger;
}

/** What a downloaded file may do in a browser that opens it anyway: nothing (no script, no plugin, no fetch). */
export const DOCUMENT_CSP = "sandbox; default-src 'none'";

const documentParams = z.object({ documentId }).loose();
const versionParams = z.object({ documentId, version: documentVersion }).loose();

/**
 * Session documents. The secretariat (and the chair) upload, link, version and focus them under
 * `/api/admin/events/:eventId/sessions/:sessionId/documents`; participants list and download them under
 * `/api/sessions/:sessionId/documents` with their identity token, as far as their accreditation and each
 * document's audience allow.
 */
export function documentRoutes(deps: DocumentRoutesDeps): Router {
  const { documents, log } = deps;
  const sessions = deps.accreditation.service.sessions;

  // ---- the secretariat ----------------------------------------------------------------------------------
  const admin = express.Router({ mergeParams: true });
  // Ids are checked before anyone is looked up, and the secretariat before any body is read.
  admin.use(idFormats(['eventId', 'sessionId']));
  admin.use(secretariatOnly(deps.accreditation.service, deps.adminApiKey));
  const json = express.json({ limit: '16kb' });
  // Any declared type: the content decides what the file is. Compressed bodies are refused (a small gzip
  // could inflate past the limit's intent).
  const raw = express.raw({ type: () => true, limit: deps.maxBytes, inflate: false });
  /** Reads the upload into `req.body`, once the request's path and query have passed their checks. */
  const readFile = (req: Request, res: Response): Promise<void> =>
    new Promise((resolve, reject) => raw(req, res, (error?: unknown) => (error === undefined ? resolve() : reject(uploadError(error, deps.maxBytes)))));

  /** The session, when it belongs to the event of the URL. */
  const sessionRef = (req: Request): SessionRef => {
    const eventId = String(req.params.eventId);
    const s = sessions.get(String(req.params.sessionId));
    if (!s || s.eventId !== eventId) throw new ProtocolError(ErrorCode.NOT_FOUND, `no session ${String(req.params.sessionId)} in this event`);
    return { eventId, sessionId: s.sessionId };
  };
  const actorOf = (res: Response): string => String(res.locals.actor);
  const bytesOf = (req: Request): Buffer => (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));

  admin.get(
    '/',
    route(async (req, res) => {
      res.json(await documents.list(sessionRef(req), secretariatReader(actorOf(res))));
    }),
  );
  admin.post(
    '/',
    route(async (req, res) => {
      const ref = sessionRef(req);
      const meta = parseOr400(uploadQuery, req.query);
      await readFile(req, res);
      res.status(201).json({ document: await documents.upload(ref, meta, bytesOf(req), actorOf(res)) });
    }),
  );
  admin.post(
    '/links',
    json,
    route(async (req, res) => {
      const ref = sessionRef(req);
      const { url, ...meta } = parseOr400(linkBody, req.body);
      res.status(201).json({ document: await documents.link(ref, meta, url, actorOf(res)) });
    }),
  );
  admin.post(
    '/focus',
    json,
    route(async (req, res) => {
      const ref = sessionRef(req);
      const body = parseOr400(focusBody, req.body);
      const focus = await documents.setFocus(ref, body.documentId, actorOf(res));
      // Stored first; the room hears of it after (only the id: each reader lists with their own token).
      await deps.focusChanged?.(ref, focus);
      res.json({ sessionId: ref.sessionId, focus });
    }),
  );
  admin.post(
    '/:documentId/versions',
    route(async (req, res) => {
      const ref = sessionRef(req);
      const params = parseOr400(documentParams, req.params);
      parseOr400(z.object({}).strict(), req.query);
      await readFile(req, res);
      res.status(201).json({ document: await documents.addVersion(ref, params.documentId, { bytes: bytesOf(req) }, actorOf(res)) });
    }),
  );
  admin.post(
    '/:documentId/versions/link',
    json,
    route(async (req, res) => {
      const ref = sessionRef(req);
      const params = parseOr400(documentParams, req.params);
      const { url } = parseOr400(linkVersionBody, req.body);
      res.status(201).json({ document: await documents.addVersion(ref, params.documentId, { url }, actorOf(res)) });
    }),
  );
  admin.get(
    '/:documentId/content',
    route(async (req, res) => {
      const { documentId: id } = parseOr400(documentParams, req.params);
      await send(res, documents, sessionRef(req), id, undefined, secretariatReader(actorOf(res)), log);
    }),
  );
  admin.get(
    '/:documentId/versions/:version/content',
    route(async (req, res) => {
      const { documentId: id, version } = parseOr400(versionParams, req.params);
      await send(res, documents, sessionRef(req), id, version, secretariatReader(actorOf(res)), log);
    }),
  );
  admin.use(answerStoreErrors(log, 'the documents'));

  // ---- participants -------------------------------------------------------------------------------------
  const participant = express.Router({ mergeParams: true });
  participant.use(idFormats(['sessionId']));
  /** The session and the reader, for the holder of an identity token admitted to it. */
  const readerOf = async (req: Request): Promise<{ ref: SessionRef; reader: DocumentReader }> => {
    const token = bearer(req);
    if (!token) throw new ProtocolError(ErrorCode.UNAUTHENTICATED, 'an identity token (Authorization: Bearer) is required');
    const { session, reader } = await participantReader(deps.accreditation.service, token, String(req.params.sessionId));
    return { ref: { eventId: session.eventId, sessionId: session.sessionId }, reader };
  };
  participant.get(
    '/',
    route(async (req, res) => {
      const { ref, reader } = await readerOf(req);
      res.json(await documents.list(ref, reader));
    }),
  );
  participant.get(
    '/:documentId/content',
    route(async (req, res) => {
      const { documentId: id } = parseOr400(documentParams, req.params);
      const { ref, reader } = await readerOf(req);
      await send(res, documents, ref, id, undefined, reader, log);
    }),
  );
  participant.get(
    '/:documentId/versions/:version/content',
    route(async (req, res) => {
      const { documentId: id, version } = parseOr400(versionParams, req.params);
      const { ref, reader } = await readerOf(req);
      await send(res, documents, ref, id, version, reader, log);
    }),
  );
  participant.use(answerStoreErrors(log, 'the documents'));

  const router = express.Router();
  router.use('/api/admin/events/:eventId/sessions/:sessionId/documents', admin);
  router.use('/api/sessions/:sessionId/documents', participant);
  return router;
}


/** A body-parser failure as the code the secretariat sees. */
function uploadError(error: unknown, maxBytes: number): ProtocolError {
  const type = (error as { type?: string }).type;
  if (type === 'entity.too.large') return new ProtocolError(ErrorCode.DOCUMENT_TOO_LARGE, `the document is larger than ${maxBytes} bytes; nothing was stored`);
  if (type === 'encoding.unsupported') return new ProtocolError(ErrorCode.BAD_REQUEST, 'send the document\'s bytes as they are, without Content-Encoding');
  return new ProtocolError(ErrorCode.BAD_REQUEST, 'the upload could not be read');
}

/**
 * Serves one version's file: the content type recorded at upload (never one a client chose), as an
 * attachment, not to be sniffed, sandboxed if opened anyway, and not cached by shared caches.
 */
async function send(res: Response, documents: DocumentService, ref: SessionRef, id: string, version: number | undefined, reader: DocumentReader, log: Logger): Promise<void> {
  const file = await documents.download(ref, id, version, reader);
  res.status(200);
  res.setHeader('Content-Type', file.version.contentType);
  res.setHeader('Content-Length', String(file.version.sizeBytes));
  res.setHeader('Content-Disposition', documentDisposition(file.document.title, file.document.symbolLetter, file.version.version, file.version.contentType));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', DOCUMENT_CSP);
  res.setHeader('Cache-Control', 'private, no-store');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  try {
    await pipeline(file.stream, res);
  } catch (error) {
    // Headers are gone: the client sees a short body (its length was announced).
    log.warn({ err: (error as Error).message, documentId: id, version: file.version.version }, 'document download cut short');
  }
}

/** Body errors, and a database that cannot answer (UNAVAILABLE, its error text kept in the log). */

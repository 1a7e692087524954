// Builds responses to requests (RFC 3261 §8.2.6) and the random identifiers the UAS needs.
import { randomBytes } from 'node:crypto';
import {
  getHeader,
  getHeaderValues,
  makeHeader,
  parseNameAddr,
  parseVia,
  type SipHeader,
  type SipRequest,
  type SipResponse,
} from './sip-message.js';

export const SERVER_NAME = 'plenum-dial-in';
export const ALLOWED_METHODS = 'INVITE, ACK, CANCEL, BYE, OPTIONS';

export function randomToken(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}

export function newBranch(): string {
  return `z9hG4bK${randomToken(10)}`;
}

export interface ResponseOptions {
  /** Our To tag; omitted for 100 Trying. */
  toTag?: string;
  headers?: SipHeader[];
  body?: { type: string; content: Buffer };
}

export function buildResponse(request: SipRequest, status: number, reason: string, options: ResponseOptions = {}): SipResponse {
  const headers: SipHeader[] = [];
  for (const h of request.headers) {
    if (h.key === 'via' || h.key === 'from' || h.key === 'call-id' || h.key === 'cseq') headers.push(h);
    else if (h.key === 'record-route' && status >= 200 && status < 300 && request.method === 'INVITE') headers.push(h);
  }
  const to = getHeader(request, 'to') ?? '';
  const hasTag = parseNameAddr(to)?.params.has('tag') ?? false;
  headers.push(makeHeader('To', options.toTag && !hasTag ? `${to};tag=${options.toTag}` : to));
  headers.push(makeHeader('Server', SERVER_NAME));
  headers.push(...(options.headers ?? []));
  if (options.body) headers.push(makeHeader('Content-Type', options.body.type));
  return { kind: 'response', status, reason: reason.replace(/[\r\n]/g, ' '), headers, body: options.body?.content ?? Buffer.alloc(0) };
}

/** The key of the transaction a request belongs to (RFC 3261 §17.2.3); ACK and CANCEL map onto their INVITE. */
export function transactionKey(request: SipRequest): string | undefined {
  const via = parseVia(getHeaderValues(request, 'via')[0] ?? '');
  const branch = via?.params.get('branch');
  if (!via || !branch?.startsWith('z9hG4bK')) return undefined;
  const method = request.method === 'ACK' || request.method === 'CANCEL' ? 'INVITE' : request.method;
  return `${branch}|${via.host}:${via.port ?? ''}|${method}`;
}

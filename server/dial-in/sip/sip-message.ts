// SIP message parsing and serialization (RFC 3261 §7). Strict and bounded: whatever arrives from the
// network comes back as a value or a typed error, never as an exception.

export interface SipHeader {
  /** The name as it is written out (canonical for known headers, compact forms expanded). */
  readonly name: string;
  /** Lower-case long form, for lookups. */
  readonly key: string;
  readonly value: string;
}

interface SipMessageBase {
  readonly headers: SipHeader[];
  readonly body: Buffer;
}

export interface SipRequest extends SipMessageBase {
  readonly kind: 'request';
  readonly method: string;
  readonly uri: string;
}

export interface SipResponse extends SipMessageBase {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
}

export type SipMessage = SipRequest | SipResponse;

export type SipParseErrorCode =
  | 'TOO_LARGE'
  | 'TOO_MANY_HEADERS'
  | 'BAD_START_LINE'
  | 'BAD_HEADER'
  | 'MISSING_HEADER'
  | 'BAD_CONTENT_LENGTH'
  | 'TRUNCATED_BODY';

export interface SipParseError {
  readonly code: SipParseErrorCode;
  readonly detail: string;
}

export type SipParseResult = { ok: true; message: SipMessage } | { ok: false; error: SipParseError };

export interface SipParseLimits {
  /** Whole message, start line to end of body. */
  maxMessageBytes: number;
  maxHeaders: number;
}

export const DEFAULT_SIP_LIMITS: SipParseLimits = { maxMessageBytes: 16 * 1024, maxHeaders: 64 };

const COMPACT: Record<string, string> = {
  i: 'call-id',
  f: 'from',
  t: 'to',
  v: 'via',
  m: 'contact',
  l: 'content-length',
  c: 'content-type',
  k: 'supported',
  s: 'subject',
  e: 'content-encoding',
};

const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'max-forwards': 'Max-Forwards',
};

/** Headers whose values may be comma-separated lists (RFC 3261 §7.3.1). */
const LIST_HEADERS = new Set(['via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require']);

/** URIs and Via values longer than this are refused (they are never that long in practice). */
const MAX_URI_LENGTH = 1024;

const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;
const REQUIRED_IN_REQUESTS = ['via', 'from', 'to', 'call-id', 'cseq'];

export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  return COMPACT[lower] ?? lower;
}

export function canonicalName(key: string): string {
  return CANONICAL[key] ?? key.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
}

function fail(code: SipParseErrorCode, detail: string): SipParseResult {
  return { ok: false, error: { code, detail } };
}

/**
 * Parses one SIP message. `framed` says the transport already cut the message by Content-Length (TCP);
 * for a datagram the body is what follows the headers, cut to Content-Length when it is present.
 */
export function parseSipMessage(data: Buffer, limits: SipParseLimits = DEFAULT_SIP_LIMITS): SipParseResult {
  if (data.length > limits.maxMessageBytes) return fail('TOO_LARGE', `${data.length} bytes`);
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) return fail('BAD_HEADER', 'no end of headers');
  const head = data.toString('latin1', 0, headEnd);
  const lines = head.split('\r\n');
  const startLine = lines[0] ?? '';

  const headers: SipHeader[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith(' ') || line.startsWith('\t')) {
      // Folded continuation of the previous header (obsolete but allowed).
      const previous = headers.pop();
      if (!previous) return fail('BAD_HEADER', 'continuation without header');
      headers.push({ ...previous, value: `${previous.value} ${line.trim()}` });
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return fail('BAD_HEADER', 'no colon');
    const name = line.slice(0, colon).trim();
    if (!TOKEN.test(name)) return fail('BAD_HEADER', 'bad header name');
    if (headers.length >= limits.maxHeaders) return fail('TOO_MANY_HEADERS', `over ${limits.maxHeaders}`);
    const key = headerKey(name);
    headers.push({ name: canonicalName(key), key, value: line.slice(colon + 1).trim() });
  }

  const bodyStart = headEnd + 4;
  const available = data.length - bodyStart;
  const lengthHeader = headers.find((h) => h.key === 'content-length');
  let bodyLength = available;
  if (lengthHeader) {
    if (!/^\d{1,9}$/.test(lengthHeader.value)) return fail('BAD_CONTENT_LENGTH', 'not a number');
    bodyLength = Number(lengthHeader.value);
    if (bodyLength > available) return fail('TRUNCATED_BODY', `${available} of ${bodyLength} bytes`);
  }
  const body = data.subarray(bodyStart, bodyStart + bodyLength);

  const response = /^SIP\/2\.0 ([1-6]\d\d) ([^\r\n]*)$/.exec(startLine);
  if (response) {
    return { ok: true, message: { kind: 'response', status: Number(response[1]), reason: response[2] ?? '', headers, body } };
  }
  const request = /^([A-Za-z0-9.!%*_+`'~-]+) (\S+) SIP\/2\.0$/.exec(startLine);
  if (!request) return fail('BAD_START_LINE', 'neither request nor response');
  for (const required of REQUIRED_IN_REQUESTS) {
    if (!headers.some((h) => h.key === required)) return fail('MISSING_HEADER', required);
  }
  const method = request[1] ?? '';
  const cseq = parseCSeq(headers.find((h) => h.key === 'cseq')?.value ?? '');
  if (!cseq || cseq.method !== method) {
    return fail('BAD_HEADER', 'CSeq');
  }
  return { ok: true, message: { kind: 'request', method, uri: request[2] ?? '', headers, body } };
}

export function serializeSipMessage(message: SipMessage): Buffer {
  const startLine =
    message.kind === 'request' ? `${message.method} ${message.uri} SIP/2.0` : `SIP/2.0 ${message.status} ${message.reason}`;
  const lines = [startLine];
  for (const h of message.headers) {
    if (h.key === 'content-length') continue;
    lines.push(`${h.name}: ${h.value}`);
  }
  lines.push(`Content-Length: ${message.body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), message.body]);
}

export function makeHeader(name: string, value: string): SipHeader {
  const key = headerKey(name);
  return { name: canonicalName(key), key, value };
}

/** The first value of a header (the first element of a list header). */
export function getHeader(message: SipMessage, name: string): string | undefined {
  const key = headerKey(name);
  const header = message.headers.find((h) => h.key === key);
  if (!header) return undefined;
  return LIST_HEADERS.has(key) ? splitList(header.value)[0] : header.value;
}

/** All values of a header across its lines, list headers split on their top-level commas. */
export function getHeaderValues(message: SipMessage, name: string): string[] {
  const key = headerKey(name);
  const values: string[] = [];
  for (const h of message.headers) {
    if (h.key !== key) continue;
    if (LIST_HEADERS.has(key)) values.push(...splitList(h.value));
    else values.push(h.value);
  }
  return values;
}

/** Splits on commas outside quotes and angle brackets. */
export function splitList(value: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let angle = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '\\' && quoted) i++;
    else if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '<') angle = true;
    else if (!quoted && ch === '>') angle = false;
    else if (!quoted && !angle && ch === ',') {
      parts.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(value.slice(start).trim());
  return parts.filter((p) => p.length > 0);
}

export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

export function parseCSeq(value: string): CSeq | undefined {
  const match = /^(\d{1,10})\s+([A-Za-z0-9.!%*_+`'~-]+)$/.exec(value.trim());
  if (!match) return undefined;
  const seq = Number(match[1]);
  if (seq > 2 ** 31 - 1) return undefined;
  return { seq, method: match[2] ?? '' };
}

/** `;name=value;flag` parameters; names lower-cased, values unquoted. */
export function parseParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const part of text.split(';')) {
    const trimmed = part.trim();
    if (!trimmed) continue;
    const eq = trimmed.indexOf('=');
    if (eq < 0) params.set(trimmed.toLowerCase(), '');
    else params.set(trimmed.slice(0, eq).trim().toLowerCase(), unquote(trimmed.slice(eq + 1).trim()));
  }
  return params;
}

export function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return value.slice(1, -1).replace(/\\(.)/g, '$1');
  return value;
}

export interface Via {
  readonly transport: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly params: Map<string, string>;
}

export function parseVia(value: string): Via | undefined {
  if (value.length > MAX_URI_LENGTH) return undefined;
  const match = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?\s*(;.*)?$/.exec(value.trim());
  if (!match) return undefined;
  const port = match[3] === undefined ? undefined : Number(match[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const host = (match[2] ?? '').replace(/^\[|\]$/g, '');
  return { transport: (match[1] ?? '').toUpperCase(), host, port, params: parseParams(match[4] ?? '') };
}

export function serializeVia(via: Via): string {
  const host = via.host.includes(':') ? `[${via.host}]` : via.host;
  let text = `SIP/2.0/${via.transport} ${host}${via.port === undefined ? '' : `:${via.port}`}`;
  for (const [name, value] of via.params) text += value === '' ? `;${name}` : `;${name}=${value}`;
  return text;
}

export interface NameAddr {
  readonly displayName: string | undefined;
  readonly uri: string;
  /** Header parameters (after the URI), e.g. `tag`. */
  readonly params: Map<string, string>;
}

/** From/To/Contact/Route values: `"Name" <sip:u@h;p>;tag=x` or `sip:u@h;tag=x`. */
export function parseNameAddr(value: string): NameAddr | undefined {
  const text = value.trim();
  const open = text.indexOf('<');
  if (open >= 0) {
    const close = text.indexOf('>', open);
    if (close < 0) return undefined;
    const display = unquote(text.slice(0, open).trim());
    return {
      displayName: display || undefined,
      uri: text.slice(open + 1, close).trim(),
      params: parseParams(text.slice(close + 1)),
    };
  }
  const semi = text.indexOf(';');
  const uri = semi < 0 ? text : text.slice(0, semi);
  if (!/^[a-z]+:/i.test(uri)) return undefined;
  return { displayName: undefined, uri, params: parseParams(semi < 0 ? '' : text.slice(semi)) };
}

export interface SipUri {
  readonly scheme: string;
  readonly user: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
  readonly params: Map<string, string>;
}

export function parseSipUri(uri: string): SipUri | undefined {
  if (uri.length > MAX_URI_LENGTH) return undefined;
  // Each part starts with its own delimiter, so the pattern cannot backtrack quadratically.
  const match = /^(sips?):(?:([^@;?\s]+)@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?((?:;[^?\s]*)?)(?:\?\S*)?$/i.exec(uri.trim());
  if (!match) return undefined;
  const port = match[4] === undefined ? undefined : Number(match[4]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const userinfo = match[2];
  return {
    scheme: (match[1] ?? '').toLowerCase(),
    user: userinfo === undefined ? undefined : safeDecode(userinfo.split(':')[0] ?? ''),
    host: (match[3] ?? '').replace(/^\[|\]$/g, ''),
    port,
    params: parseParams(match[5] ?? ''),
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

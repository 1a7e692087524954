// A CRM registration registry as its own HTTP server process, speaking an Indico-like registrants API.
// Tests steer it through /__control: latency, failures (500, malformed JSON, hangs), OAuth2, and read
// back how many calls it got and how many ran at once. It prints {"port":N} once listening.
import { createServer } from 'node:http';

const state = {
  mode: 'ok', // ok | error500 | malformed | hang | unmappable | wrong-person (answers with someone else's record)
  delayMs: 0,
  registrants: [],
  calls: 0,
  active: 0,
  peakConcurrent: 0,
  tokenRequests: 0,
  issuedTokens: new Set(),
  requireToken: process.env.CRM_REQUIRE_TOKEN === '1',
  clientId: 'plenum',
  clientSecret: 'crm-client-secret',
  tokenTtl: 3600,
};

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://crm');
  if (url.pathname === '/__control' && req.method === 'POST') {
    const body = JSON.parse((await readBody(req)) || '{}');
    if (body.reset) Object.assign(state, { calls: 0, peakConcurrent: 0, tokenRequests: 0 });
    for (const k of ['mode', 'delayMs', 'registrants', 'requireToken', 'tokenTtl']) if (k in body) state[k] = body[k];
    if (body.revokeTokens) state.issuedTokens.clear();
    return send(res, 200, { ok: true });
  }
  if (url.pathname === '/__control/stats') {
    return send(res, 200, { calls: state.calls, peakConcurrent: state.peakConcurrent, tokenRequests: state.tokenRequests });
  }
  if (url.pathname === '/oauth/token' && req.method === 'POST') {
    state.tokenRequests += 1;
    const [id, secret] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':');
    const form = new URLSearchParams(await readBody(req));
    if (form.get('grant_type') !== 'client_credentials' || decodeURIComponent(id ?? '') !== state.clientId || decodeURIComponent(secret ?? '') !== state.clientSecret) {
      return send(res, 401, { error: 'invalid_client' });
    }
    const token = `tok-${state.tokenRequests}-${Math.random().toString(36).slice(2)}`;
    state.issuedTokens.add(token);
    return send(res, 200, { access_token: token, token_type: 'Bearer', expires_in: state.tokenTtl });
  }
  const m = url.pathname.match(/^\/api\/events\/([^/]+)\/registrants(?:\/([^/]+))?$/);
  if (!m) return send(res, 404, { error: 'no route' });

  state.calls += 1;
  state.active += 1;
  state.peakConcurrent = Math.max(state.peakConcurrent, state.active);
  try {
    if (state.requireToken) {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!state.issuedTokens.has(token)) return send(res, 401, { error: 'invalid_token' });
    }
    if (state.mode === 'hang') return; // never answers; the client must time out (the socket closes on exit)
    if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs));
    if (state.mode === 'error500') return send(res, 500, { error: 'internal' });
    if (state.mode === 'malformed') return send(res, 200, '{"registrants": [ {"full_name": "trunc');
    const eventId = decodeURIComponent(m[1]);
    const email = url.searchParams.get('email')?.toLowerCase();
    const id = m[2] ? decodeURIComponent(m[2]) : undefined;
    const asked = (r) => (id ? String(r.registrant_id) === id : r.email.toLowerCase() === email);
    const found = state.registrants.filter((r) => r.event_id === eventId && (state.mode === 'wrong-person' ? !asked(r) : asked(r))).slice(0, state.mode === 'wrong-person' ? 1 : undefined);
    if (id && found.length === 0) return send(res, 404, { error: 'not found' });
    const out = state.mode === 'unmappable' ? found.map((r) => ({ ...r, state: 'mystery' })) : found;
    return send(res, 200, id ? { registrants: out } : { registrants: out });
  } finally {
    state.active -= 1;
  }
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));

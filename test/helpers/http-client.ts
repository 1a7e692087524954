/** An HTTP answer as the tests read it: the status, the raw text, the JSON body when there is one. */
export interface HttpAnswer {
  status: number;
  text: string;
  json: Record<string, unknown> | undefined;
  headers: Headers;
}

/** One request: a string body is sent as it is, anything else as JSON. */
export async function httpRequest(method: string, url: string, body?: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<HttpAnswer> {
  const res = await fetch(url, {
    method,
    headers: { ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // CSV, plain text
  }
  return { status: res.status, text, json, headers: res.headers };
}

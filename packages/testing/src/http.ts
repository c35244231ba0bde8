import http from 'node:http';
// A small JSON-over-HTTP client for tests that drive services over the wire.
export interface JsonCallOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Content-Type of the body (default application/json; a `content-type` header wins). */
  contentType?: string;
}

export interface JsonCallResult<T> {
  status: number;
  headers: Headers;
  /** Parsed JSON, the raw text when it is not JSON, undefined when empty. */
  body: T;
}

export async function callJson<T = unknown>(
  method: string,
  url: string,
  o: JsonCallOptions = {},
): Promise<JsonCallResult<T>> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  let body: string | undefined;
  if (o.body !== undefined) {
    headers['content-type'] ??= o.contentType ?? 'application/json';
    body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  }
  const r = await fetch(url, { method, headers, body });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: r.status, headers: r.headers, body: parsed as T };
}

/**
 * A GET whose headers go on the wire exactly as listed (`[name, value, name, value, ...]`), e.g.
 * the same header twice, which fetch would merge into one. Node adds none of its own: name Host.
 */
export function getWithRawHeaders(
  url: string,
  rawHeaders: string[],
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers: ['host', new URL(url).host, ...rawHeaders] });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

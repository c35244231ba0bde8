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

// A small JSON-over-HTTP client for the services under test.
export interface HttpResult<T> {
  status: number;
  headers: Headers;
  body: T;
}

export async function call<T = unknown>(
  method: string,
  url: string,
  o: {
    token?: string;
    body?: unknown;
    headers?: Record<string, string>;
    contentType?: string;
  } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...o.headers };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.body !== undefined) headers['content-type'] = o.contentType ?? 'application/json';
  const r = await fetch(url, {
    method,
    headers,
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
  });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: r.status, headers: r.headers, body: body as T };
}

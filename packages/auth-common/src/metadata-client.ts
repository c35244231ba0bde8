import { z } from 'zod';

// Bounded, redirect-free JSON fetches of OpenID metadata and JWKS documents.

const MAX_DOCUMENT_BYTES = 512 * 1024;

export interface FetchPolicy {
  timeoutMs: number;
  allowInsecureHttp: boolean;
}

export class MetadataFetchError extends Error {
  override name = 'MetadataFetchError';
}

const metadataSchema = z.looseObject({
  issuer: z.string().min(1),
  jwks_uri: z.string().min(1),
});
export type OpenIdMetadata = z.infer<typeof metadataSchema>;

const jwksSchema = z.looseObject({ keys: z.array(z.unknown()) });

function checkedUrl(url: string, policy: FetchPolicy): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MetadataFetchError('not a URL');
  }
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:' && policy.allowInsecureHttp) return parsed;
  throw new MetadataFetchError(`refusing ${parsed.protocol} URL (https required)`);
}

async function fetchJson(url: string, policy: FetchPolicy): Promise<unknown> {
  const target = checkedUrl(url, policy);
  let response: Response;
  try {
    response = await fetch(target, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(policy.timeoutMs),
    });
  } catch (err) {
    throw new MetadataFetchError(`request to ${target.origin} failed: ${(err as Error).message}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new MetadataFetchError(`${target.origin} answered ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_DOCUMENT_BYTES) {
    await response.body?.cancel();
    throw new MetadataFetchError('document too large');
  }
  const text = await readBounded(response, target);
  try {
    return JSON.parse(text);
  } catch {
    throw new MetadataFetchError('document is not JSON');
  }
}

/**
 * The body as text, refused once it passes MAX_DOCUMENT_BYTES. Counted while it arrives: a
 * document sent without Content-Length (chunked, or until close) was read whole before its size
 * was looked at, so an endless one grew the process by gigabytes until the fetch timeout.
 */
async function readBounded(response: Response, target: URL): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_DOCUMENT_BYTES) {
        void reader.cancel().catch(() => undefined);
        throw new MetadataFetchError('document too large');
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof MetadataFetchError) throw err;
    throw new MetadataFetchError(`reading from ${target.origin} failed: ${(err as Error).message}`);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

export async function fetchOpenIdMetadata(
  url: string,
  policy: FetchPolicy,
): Promise<OpenIdMetadata> {
  const parsed = metadataSchema.safeParse(await fetchJson(url, policy));
  if (!parsed.success) throw new MetadataFetchError('metadata lacks issuer or jwks_uri');
  checkedUrl(parsed.data.jwks_uri, policy);
  return parsed.data;
}

export async function fetchJwks(url: string, policy: FetchPolicy): Promise<unknown[]> {
  const parsed = jwksSchema.safeParse(await fetchJson(url, policy));
  if (!parsed.success) throw new MetadataFetchError('JWKS lacks a keys array');
  return parsed.data.keys;
}

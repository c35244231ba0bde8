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
  const text = await response.text();
  if (text.length > MAX_DOCUMENT_BYTES) throw new MetadataFetchError('document too large');
  try {
    return JSON.parse(text);
  } catch {
    throw new MetadataFetchError('document is not JSON');
  }
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

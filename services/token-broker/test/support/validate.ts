import { TokenValidator, type AppPrincipal } from '@idp/auth-common';

/** Validates an access token as a resource API would: signature against the tenant's JWKS, issuer, audience. */
export async function validateAppToken(
  identityUrl: string,
  tenantId: string,
  audience: string,
  token: string,
): Promise<AppPrincipal> {
  const v = new TokenValidator({
    identityMetadata: `${identityUrl}/${tenantId}/v2.0/.well-known/openid-configuration`,
    audience,
    cache: { enabled: false },
    jwks: { fetchTimeoutMs: 30000 },
  });
  const p = await v.validate(token);
  if (p.kind !== 'app') throw new Error(`expected an app-only token, got ${p.kind}`);
  return p;
}

/** The JSON of a compact JWS part (0: header, 1: claims). */
function partOf(jwt: string, i: 0 | 1): Record<string, unknown> {
  const part = jwt.split('.')[i];
  if (part === undefined) throw new Error('not a compact JWS');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export const claimsOf = (jwt: string): Record<string, unknown> => partOf(jwt, 1);
export const headerOf = (jwt: string): Record<string, unknown> => partOf(jwt, 0);

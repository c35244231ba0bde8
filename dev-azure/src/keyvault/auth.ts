// Bearer-token validation and the challenge Key Vault clients start from.
// Tokens are checked as Entra ID access tokens for the vault resource:
// signature through the identity provider's JWKS, issuer, audience, lifetime
// and an algorithm allow-list.
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { KvError } from './errors';
import type { Caller } from './rbac';

export const VAULT_RESOURCE = 'https://vault.azure.net';
const AUDIENCES = [VAULT_RESOURCE, `${VAULT_RESOURCE}/`];
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256'];
const CLOCK_TOLERANCE_SECONDS = 60;

export interface AuthConfig {
  identityUrl: string;
  jwksBaseUrl?: string;
  tenantId: string;
  trustedIssuers?: string[];
}

const trimSlash = (url: string): string => url.replace(/\/+$/, '');

/** Entra v2 (`…/v2.0`) and v1-style (`…/{tenant}/`) issuers, with and without trailing slash. */
export function defaultIssuers(identityUrl: string, tenantId: string): string[] {
  const base = `${trimSlash(identityUrl)}/${tenantId}`;
  return [`${base}/v2.0`, `${base}/v2.0/`, base, `${base}/`];
}

export class TokenValidator {
  readonly challenge: string;
  private readonly issuers: string[];
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(config: AuthConfig) {
    const base = trimSlash(config.identityUrl);
    this.challenge = `Bearer authorization="${base}/${config.tenantId}", resource="${VAULT_RESOURCE}"`;
    this.issuers = config.trustedIssuers ?? defaultIssuers(base, config.tenantId);
    this.jwks = createRemoteJWKSet(
      new URL(`${trimSlash(config.jwksBaseUrl ?? base)}/${config.tenantId}/discovery/v2.0/keys`),
    );
  }

  unauthorized(message: string): KvError {
    return new KvError(401, 'Unauthorized', message, undefined, {
      'www-authenticate': this.challenge,
    });
  }

  async validate(authorization: string | undefined): Promise<Caller> {
    const token = /^Bearer\s+([A-Za-z0-9_\-.]+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!token) throw this.unauthorized('AKV10000: Request is missing a Bearer or PoP token.');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.issuers,
        audience: AUDIENCES,
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp'],
      }));
    } catch (e) {
      throw this.unauthorized(`AKV10032: Invalid token: ${describeJoseError(e)}.`);
    }
    // A delegated token (scp) acts as its user: Azure RBAC evaluates the user's oid, so the
    // client app's assignments (appid / azp) must not lend their rights to every user of the app.
    const delegated = typeof payload.scp === 'string';
    const ids = (delegated ? ['oid'] : ['appid', 'azp', 'oid'])
      .map((claim) => payload[claim])
      .filter((v): v is string => typeof v === 'string' && v.length > 0);
    if (ids.length === 0)
      throw this.unauthorized('AKV10032: Invalid token: no appid, azp or oid claim.');
    const describe = (claim: string) =>
      typeof payload[claim] === 'string' ? `${claim}=${String(payload[claim])};` : '';
    return {
      principalIds: ids,
      description: `${describe('appid')}${describe('azp')}${describe('oid')}iss=${payload.iss ?? ''}`,
    };
  }
}

/** The reason without any token content (jose messages name claims, not values). */
function describeJoseError(e: unknown): string {
  const code =
    typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'the token is expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const claim = (e as { claim?: unknown }).claim;
      if (claim === 'iss') return 'issuer is not trusted';
      if (claim === 'aud') return `audience is not ${VAULT_RESOURCE}`;
      return `claim '${String(claim)}' is invalid`;
    }
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'signature verification failed';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'signing algorithm is not allowed';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'no matching signing key';
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JOSE_GENERIC':
      return 'signing keys could not be fetched';
    default:
      return 'the token is malformed or cannot be validated';
  }
}

// Client authentication at the token endpoint, as Entra does it: client
// secret (post or basic), certificate-signed client assertion
// (private_key_jwt) or federated credential (workload identity).
import { timingSafeEqual } from 'node:crypto';
import type { TenantConfig } from '../../config/schema';
import { sha256 } from '../../util/encoding';
import type { Directory, Principal } from '../directory';
import { errors, OAuthError } from '../errors';
import { claimString, decodeJwt } from '../jwt';
import { verifyCertificateAssertion, type AssertionDeps } from './assertion';
import { verifyFederatedAssertion, type FederationDeps } from './federated';
import type { FormParams } from '../form-params';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export type ClientAuthMethod = 'none' | 'client_secret' | 'private_key_jwt' | 'federated';

export interface AuthenticatedClient {
  principal: Principal;
  method: ClientAuthMethod;
}

export interface ClientAuthDeps extends AssertionDeps, FederationDeps {
  directory: Directory;
}

export interface ClientAuthRequest {
  tenant: TenantConfig;
  params: FormParams;
  authorization: string | undefined;
  /** Audiences a client assertion may carry: this token endpoint under each tenant alias. */
  acceptedAudiences: string[];
  /**
   * Whether this request is a browser's redemption of a code issued to one of the app's SPA reply
   * URLs: Entra treats it as a public client's, whatever else the app registers.
   */
  browserRedemption?: (principal: Principal) => boolean;
}

export async function authenticateClient(
  req: ClientAuthRequest,
  deps: ClientAuthDeps,
): Promise<AuthenticatedClient> {
  const basic = parseBasic(req.authorization);
  const clientId = req.params.get('client_id') ?? basic?.clientId;
  if (!clientId) throw errors.missingParameter('client_id');
  if (basic && basic.clientId !== clientId) throw errors.invalidParameter('client_id');
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(clientId)) {
    throw new OAuthError(
      400,
      'unauthorized_client',
      'AADSTS700038',
      `${clientId.slice(0, 64)} is not a valid application identifier.`,
    );
  }
  const principal = deps.directory.principal(req.tenant, clientId);
  if (!principal) throw errors.appNotFound(clientId, req.tenant.id);

  const secret = req.params.get('client_secret') ?? basic?.secret;
  const assertion = req.params.get('client_assertion');
  const assertionType = req.params.get('client_assertion_type');

  if (!principal.app.confidential || req.browserRedemption?.(principal)) {
    if (secret !== undefined || assertion !== undefined) throw errors.publicClientCredentials();
    return { principal, method: 'none' };
  }
  if (assertion !== undefined) {
    if (assertionType !== JWT_BEARER)
      throw assertionType === undefined
        ? errors.missingParameter('client_assertion_type')
        : errors.badAssertionType();
    const jwt = decodeJwt(assertion);
    if (!jwt) throw errors.malformedAssertion('The assertion is not a signed JWT.');
    // A self-issued assertion (iss = client id) is private_key_jwt; anything else is a federated token.
    if (
      claimString(jwt.payload, 'iss')?.toLowerCase() === principal.app.config.clientId.toLowerCase()
    ) {
      await verifyCertificateAssertion(jwt, principal, req.acceptedAudiences, deps);
      return { principal, method: 'private_key_jwt' };
    }
    await verifyFederatedAssertion(jwt, principal, deps);
    return { principal, method: 'federated' };
  }
  if (secret !== undefined) {
    verifySecret(secret, principal);
    return { principal, method: 'client_secret' };
  }
  throw errors.missingCredential();
}

function verifySecret(secret: string, principal: Principal): void {
  const presented = sha256(secret);
  let match: { expiresAt?: number } | undefined;
  // Compare against every secret so timing does not tell which one matched.
  for (const s of principal.app.secrets) {
    if (s.sha256.length === presented.length && timingSafeEqual(s.sha256, presented) && !match)
      match = s;
  }
  if (!match) throw errors.invalidSecret(principal.app.config.clientId);
  if (match.expiresAt !== undefined && match.expiresAt < Date.now())
    throw errors.expiredSecret(principal.app.config.clientId);
}

/** client_secret_basic: "Basic base64(urlencode(id):urlencode(secret))". */
function parseBasic(header: string | undefined): { clientId: string; secret: string } | undefined {
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0)
    throw new OAuthError(401, 'invalid_client', 'AADSTS7000215', 'Invalid client secret provided.');
  try {
    return {
      clientId: decodeURIComponent(decoded.slice(0, colon)),
      secret: decodeURIComponent(decoded.slice(colon + 1)),
    };
  } catch {
    throw errors.invalidParameter('Authorization');
  }
}

// Federated identity credentials (workload identity): the client assertion
// is a token from an external issuer (e.g. a Kubernetes service-account
// token) matched against the app's federated credentials by issuer, subject
// and audience, its signature checked with the issuer's published keys.
import { nowSeconds } from '../../util/encoding';
import type { Principal } from '../directory';
import { errors, OAuthError } from '../errors';
import {
  claimAudiences,
  claimNumber,
  claimString,
  verifyJwtSignature,
  type DecodedJwt,
} from '../jwt';
import { CLOCK_SKEW_SECONDS } from './assertion';
import type { OidcKeyFetcher } from './oidc-keys';

export interface FederationDeps {
  oidcKeys: OidcKeyFetcher;
  /** Issuer URL of a local cluster issuer by name. */
  clusterIssuerUrl(name: string): string | undefined;
}

export async function verifyFederatedAssertion(
  jwt: DecodedJwt,
  principal: Principal,
  deps: FederationDeps,
): Promise<void> {
  const issuer = claimString(jwt.payload, 'iss');
  const subject = claimString(jwt.payload, 'sub') ?? '';
  const audiences = claimAudiences(jwt.payload);
  if (!issuer) throw errors.malformedAssertion("The 'iss' claim is missing.");

  const credentials = principal.app.config.federatedCredentials.map((f) => ({
    ...f,
    issuerUrl: f.issuer ?? (f.clusterIssuer ? deps.clusterIssuerUrl(f.clusterIssuer) : undefined),
  }));
  // Entra matches issuer and subject exactly (case-sensitive).
  const byIssuer = credentials.filter((f) => f.issuerUrl === issuer);
  if (byIssuer.length === 0) {
    throw new OAuthError(
      400,
      'invalid_request',
      'AADSTS700211',
      `No matching federated identity record found for presented assertion issuer '${issuer}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
    );
  }
  const bySubject = byIssuer.filter((f) => f.subject === subject);
  if (bySubject.length === 0) {
    throw new OAuthError(
      400,
      'invalid_request',
      'AADSTS70021',
      `No matching federated identity record found for presented assertion. Assertion Issuer: '${issuer}'. Assertion Subject: '${subject}'. Assertion Audience: '${audiences.join(',')}'.`,
    );
  }
  if (!bySubject.some((f) => f.audiences.some((a) => audiences.includes(a)))) {
    throw new OAuthError(
      400,
      'invalid_request',
      'AADSTS700212',
      `No matching federated identity record found for presented assertion audience '${audiences.join(',')}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
    );
  }

  const kid = typeof jwt.header.kid === 'string' ? jwt.header.kid : undefined;
  let key;
  try {
    key = await deps.oidcKeys.key(issuer, kid);
  } catch {
    throw errors.oidcFetchFailed(issuer);
  }
  if (!key || !verifyJwtSignature(jwt, key)) throw errors.assertionSignature();

  const now = nowSeconds();
  const exp = claimNumber(jwt.payload, 'exp');
  const nbf = claimNumber(jwt.payload, 'nbf') ?? claimNumber(jwt.payload, 'iat');
  if (exp === undefined) throw errors.malformedAssertion("The 'exp' claim is missing.");
  if (exp + CLOCK_SKEW_SECONDS < now || (nbf !== undefined && nbf - CLOCK_SKEW_SECONDS > now)) {
    throw errors.assertionTime(`Current time: ${now}, expiry time of assertion ${exp}.`);
  }
}

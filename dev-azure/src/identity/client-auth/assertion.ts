// private_key_jwt: a client assertion signed with the private key of a
// certificate registered on the app (inline PEM or a Key Vault certificate).
import { createHash, type X509Certificate } from 'node:crypto';
import type { StateStore } from '../../store/state-store';
import { nowSeconds } from '../../util/encoding';
import type { Principal } from '../directory';
import { errors, OAuthError } from '../errors';
import {
  claimAudiences,
  claimNumber,
  claimString,
  isSupportedAlg,
  verifyJwtSignature,
  type DecodedJwt,
} from '../jwt';
import type { CertificateResolver } from './certificate-resolver';

/** Clock skew tolerated on exp/nbf, as Entra (5 minutes). */
export const CLOCK_SKEW_SECONDS = 300;
/** Longest assertion lifetime accepted: 10 minutes plus skew. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 600 + CLOCK_SKEW_SECONDS;

export interface AssertionDeps {
  store: StateStore;
  certificates: CertificateResolver | undefined;
}

export async function verifyCertificateAssertion(
  jwt: DecodedJwt,
  principal: Principal,
  acceptedAudiences: string[],
  deps: AssertionDeps,
): Promise<void> {
  const clientId = principal.app.config.clientId;
  if (!isSupportedAlg(jwt.header.alg))
    throw errors.malformedAssertion(`Unsupported signing algorithm '${String(jwt.header.alg)}'.`);
  const x5t = typeof jwt.header.x5t === 'string' ? jwt.header.x5t : undefined;
  const x5tS256 = typeof jwt.header['x5t#S256'] === 'string' ? jwt.header['x5t#S256'] : undefined;
  if (!x5t && !x5tS256)
    throw errors.malformedAssertion('No certificate thumbprint specified in token header.');

  const cert = await findRegisteredCertificate(principal, { x5t, x5tS256 }, deps);
  if (!cert) throw errors.assertionCertificateUnknown(clientId);
  if (Date.parse(cert.validTo) < Date.now() || Date.parse(cert.validFrom) > Date.now()) {
    throw new OAuthError(
      401,
      'invalid_client',
      'AADSTS700027',
      'Client assertion contains an invalid signature. [Reason - The key used is expired.]',
    );
  }
  if (!verifyJwtSignature(jwt, cert.publicKey)) throw errors.assertionSignature();

  const p = jwt.payload;
  if (claimString(p, 'sub')?.toLowerCase() !== clientId.toLowerCase())
    throw errors.assertionClientMismatch();
  const auds = claimAudiences(p);
  const accepted = new Set(acceptedAudiences.map((a) => a.toLowerCase()));
  const [aud] = auds;
  if (auds.length !== 1 || aud === undefined || !accepted.has(aud.toLowerCase()))
    throw errors.assertionAudience(auds.join(','), acceptedAudiences[0] ?? '');

  const now = nowSeconds();
  const exp = claimNumber(p, 'exp');
  const nbf = claimNumber(p, 'nbf');
  const iat = claimNumber(p, 'iat');
  if (exp === undefined) throw errors.malformedAssertion("The 'exp' claim is missing.");
  const start = nbf ?? iat ?? now;
  const window = `Current time: ${now}, assertion valid from ${start}, expiry time of assertion ${exp}.`;
  if (exp + CLOCK_SKEW_SECONDS < now) throw errors.assertionTime(window);
  if (start - CLOCK_SKEW_SECONDS > now) throw errors.assertionTime(window);
  if (exp - start > MAX_ASSERTION_LIFETIME_SECONDS)
    throw errors.assertionTime(
      `The assertion lifetime exceeds ${MAX_ASSERTION_LIFETIME_SECONDS} seconds. ${window}`,
    );

  const jti = claimString(p, 'jti');
  if (!jti) throw errors.malformedAssertion("The 'jti' claim is missing.");
  const replayKey = `${clientId.toLowerCase()}|${jti}`;
  const seen = deps.store.state.usedJtis[replayKey];
  if (seen !== undefined && seen >= now) throw errors.assertionReplay(jti);
  deps.store.state.usedJtis[replayKey] = exp + CLOCK_SKEW_SECONDS;
  deps.store.save();
}

async function findRegisteredCertificate(
  principal: Principal,
  thumbprints: { x5t?: string; x5tS256?: string },
  deps: AssertionDeps,
): Promise<X509Certificate | undefined> {
  const matches = (c: X509Certificate) =>
    (thumbprints.x5tS256 !== undefined && thumbprint(c, 'sha256') === thumbprints.x5tS256) ||
    (thumbprints.x5t !== undefined && thumbprint(c, 'sha1') === thumbprints.x5t);
  for (const source of principal.app.certificates) {
    if (source.kind === 'pem') {
      if (matches(source.cert)) return source.cert;
      continue;
    }
    if (!deps.certificates) continue;
    let versions: X509Certificate[];
    try {
      versions = await deps.certificates.resolve(source.name);
    } catch (err) {
      console.error(
        `dev-azure: cannot read Key Vault certificate ${source.name}: ${(err as Error).message}`,
      );
      throw new OAuthError(
        500,
        'server_error',
        'AADSTS50000',
        'There was an error issuing a token or an issue with our sign-in service.',
      );
    }
    const found = versions.find(matches);
    if (found) return found;
  }
  return undefined;
}

/** base64url thumbprint of the DER certificate, as x5t / x5t#S256 carry it. */
export function thumbprint(cert: X509Certificate, alg: 'sha1' | 'sha256'): string {
  return createHash(alg).update(cert.raw).digest('base64url');
}

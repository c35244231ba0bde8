import { buildClientAssertion } from '../assertion/client-assertion';
import type { FetchedToken } from '../cache/token-cache';
import { redeemAssertion, tokenEndpointFor, type FetchLike } from '../entra/token-endpoint';
import type { CertificateReader } from '../keyvault/certificate-reader';
import type { DigestSigner } from '../keyvault/key-signer';
import { timed, type BrokerMetrics } from '../metrics/broker-metrics';
import type { Registration } from '../registrations/broker-config';
import { withRetry, type RetryPolicy, type Sleep } from './retry';

export interface TokenSourceDeps {
  certificates: Pick<CertificateReader, 'current'>;
  signer: DigestSigner;
  authorityHost: string;
  retry: RetryPolicy;
  metrics: BrokerMetrics;
  fetch?: FetchLike;
  sleep?: Sleep;
  now?: () => number;
}

/**
 * The cold path: current certificate version → assertion signed in Key Vault → token endpoint.
 * A fresh assertion per attempt: Entra refuses a replayed `jti`.
 */
export class TokenSource {
  constructor(private readonly d: TokenSourceDeps) {}

  fetch(r: Registration, scope: string): Promise<FetchedToken> {
    const endpoint = tokenEndpointFor(this.d.authorityHost, r.tenantId);
    const now = this.d.now ?? Date.now;
    return withRetry(
      async () => {
        const certificate = await this.d.certificates.current(r.certificateName);
        const assertion = await timed(this.d.metrics.signSeconds, () =>
          buildClientAssertion({ clientId: r.clientId, audience: endpoint, certificate, algorithm: r.assertionAlgorithm }, this.d.signer),
        );
        const startedAt = now();
        const t = await timed(this.d.metrics.tokenEndpointSeconds, () => redeemAssertion({ endpoint, clientId: r.clientId, scope, assertion }, this.d.fetch));
        return { accessToken: t.accessToken, expiresOn: startedAt + t.expiresIn * 1000, keyId: certificate.keyId };
      },
      this.d.retry,
      this.d.sleep,
      (e) => this.d.metrics.upstreamRetries.inc({ kind: e.kind }),
    );
  }
}

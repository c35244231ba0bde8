import { Inject, Injectable } from '@nestjs/common';
import { AssertionCache, type HeldAssertion } from '../assertion/assertion-cache';
import {
  buildClientAssertion,
  MAX_ASSERTION_LIFETIME_SECONDS,
} from '../assertion/client-assertion';
import type { FetchedToken } from '../cache/token-cache';
import { redeemAssertion, tokenEndpointFor, type FetchLike } from '../entra/token-endpoint';
import { TOKEN_BROKER_CONFIG, type TokenBrokerConfig } from '../config';
import { CertificateReader } from '../keyvault/certificate-reader';
import { KeyVaultSigner, type DigestSigner } from '../keyvault/key-signer';
import { BrokerMetrics, timed } from '../metrics/broker-metrics';
import type { Registration } from '../registrations/broker-config';
import { BrokerError } from './broker-error';
import { CLOCK, ENTRA_FETCH, RETRY_POLICY, SLEEP } from './broker.tokens';
import { withRetry, type RetryPolicy, type Sleep } from './retry';

/** Not presented within this long of its expiry: the token request's own timeout plus clock difference to Entra. */
export const ASSERTION_SAFETY_MARGIN_SECONDS = 120;

/**
 * The cold path: an assertion (the held one, or: current certificate version → signed in Key
 * Vault) → token endpoint. Assertions are reused while Entra is unreachable or busy, so an
 * outage costs one Key Vault sign, not one per retry (see AssertionCache for when one is dropped).
 */
@Injectable()
export class TokenSource {
  private readonly authorityHost: string;
  private readonly assertions: AssertionCache;

  constructor(
    @Inject(CertificateReader) private readonly certificates: Pick<CertificateReader, 'current'>,
    @Inject(KeyVaultSigner) private readonly signer: DigestSigner,
    @Inject(TOKEN_BROKER_CONFIG) c: Pick<TokenBrokerConfig, 'ENTRA_AUTHORITY_HOST'>,
    @Inject(RETRY_POLICY) private readonly retry: RetryPolicy,
    private readonly metrics: BrokerMetrics,
    @Inject(ENTRA_FETCH) private readonly fetchImpl: FetchLike,
    @Inject(SLEEP) private readonly sleep: Sleep,
    @Inject(CLOCK) private readonly now: () => number,
  ) {
    this.authorityHost = c.ENTRA_AUTHORITY_HOST;
    this.assertions = new AssertionCache({
      lifetimeMs: MAX_ASSERTION_LIFETIME_SECONDS * 1000,
      safetyMarginMs: ASSERTION_SAFETY_MARGIN_SECONDS * 1000,
      now: this.now,
    });
  }

  fetch(r: Registration, scope: string): Promise<FetchedToken> {
    const endpoint = tokenEndpointFor(this.authorityHost, r.tenantId);
    // Everything that goes into the assertion: registrations and scopes that share it share one signing.
    const key = `${endpoint}\n${r.clientId.toLowerCase()}\n${r.certificateName}\n${r.assertionAlgorithm}`;
    return withRetry(
      () => this.attempt(r, scope, endpoint, key),
      this.retry,
      this.sleep,
      (e) => this.metrics.upstreamRetries.inc({ kind: e.kind }),
    );
  }

  private async attempt(
    r: Registration,
    scope: string,
    endpoint: string,
    key: string,
  ): Promise<FetchedToken> {
    for (let fresh = false; ; fresh = true) {
      const assertion = await this.assertions.take(key, () => this.sign(r, endpoint));
      const startedAt = this.now();
      try {
        const t = await timed(this.metrics.tokenEndpointSeconds, () =>
          redeemAssertion(
            { endpoint, clientId: r.clientId, scope, assertion: assertion.jwt },
            this.fetchImpl,
          ),
        );
        this.assertions.retire(key, assertion); // spent: a strict server refuses its jti from now on
        return {
          accessToken: t.accessToken,
          expiresOn: startedAt + t.expiresIn * 1000,
          keyId: assertion.keyId,
        };
      } catch (e) {
        // Unreachable, 5xx, 429, not replicated yet: the assertion stays good for the retry.
        if (!(e instanceof BrokerError)) throw e;
        this.assertions.retire(key, assertion); // refused: never presented again
        // An assertion sent with more than one request may have been refused as a replay: one more try with a fresh one.
        if (fresh || !wasShared(assertion)) throw e;
      }
    }
  }

  private async sign(r: Registration, endpoint: string): Promise<{ jwt: string; keyId: string }> {
    // The certificate's current version on every signing, so a rotation is picked up with the next assertion.
    const certificate = await this.certificates.current(r.certificateName);
    const jwt = await timed(this.metrics.signSeconds, () =>
      buildClientAssertion(
        { clientId: r.clientId, audience: endpoint, certificate, algorithm: r.assertionAlgorithm },
        this.signer,
      ),
    );
    return { jwt, keyId: certificate.keyId };
  }
}

const wasShared = (a: HeldAssertion): boolean => a.presentations > 1;

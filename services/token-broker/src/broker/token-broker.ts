import { Injectable } from '@nestjs/common';
import { AuditPublisher } from '../audit/audit-publisher';
import { TokenCache } from '../cache/token-cache';
import { BrokerMetrics } from '../metrics/broker-metrics';
import { CallerPolicy } from '../registrations/caller-policy';
import { BrokerError } from './broker-error';
import { TokenSource } from './token-source';

export interface IssuedToken {
  accessToken: string;
  /** Epoch seconds. */
  expiresOn: number;
  cache: 'hit' | 'miss';
}

/** Policy check → cache (single flight, refresh) → audit. `caller` is the authenticated NATS user. */
@Injectable()
export class TokenBroker {
  constructor(
    private readonly policy: CallerPolicy,
    private readonly cache: TokenCache,
    private readonly source: TokenSource,
    private readonly audit: AuditPublisher,
    private readonly metrics: BrokerMetrics,
  ) {}

  async acquire(caller: string, registration: string, scope: string): Promise<IssuedToken> {
    try {
      const r = this.policy.registration(registration);
      if (!r)
        throw new BrokerError('unknown_registration', `no registration named ${registration}`);
      if (!this.policy.allows(caller, registration, scope))
        throw new BrokerError(
          'unauthorized',
          `${caller} may not request ${scope} with ${registration}`,
        );
      const key = `${r.tenantId.toLowerCase()}|${r.clientId.toLowerCase()}|${scope.toLowerCase()}`;
      const { token, cache } = await this.cache.get(key, () => this.source.fetch(r, scope));
      if (cache === 'hit') this.metrics.hit();
      else this.metrics.miss();
      const issued = {
        accessToken: token.accessToken,
        expiresOn: Math.floor(token.expiresOn / 1000),
        cache,
      };
      this.audit.record({ caller, registration, scope, ...issued });
      return issued;
    } catch (e) {
      const err =
        e instanceof BrokerError
          ? e
          : new BrokerError('upstream_unavailable', 'token acquisition failed');
      this.metrics.errors.inc({ code: err.code, aadsts: err.aadsts ?? '' });
      throw err;
    }
  }
}

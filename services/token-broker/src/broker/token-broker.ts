import { Injectable, Logger } from '@nestjs/common';
import { AuditPublisher } from '../audit/audit-publisher';
import { TokenCache } from '../cache/token-cache';
import { BrokerMetrics } from '../metrics/broker-metrics';
import { CallerPolicy } from '../registrations/caller-policy';
import { BrokerError } from './broker-error';
import { RefusalLog } from './refusal-log';
import { TokenSource } from './token-source';

/**
 * The one answer to a request the caller's policy does not grant, whether the registration exists
 * or not: a different code or message would let any caller list the registration names.
 */
const REFUSED_MESSAGE = 'the caller may not request this scope with this registration';

export interface IssuedToken {
  accessToken: string;
  /** Epoch seconds. */
  expiresOn: number;
  cache: 'hit' | 'miss';
}

/** Policy check → cache (single flight, refresh) → audit. `caller` is the authenticated NATS user. */
@Injectable()
export class TokenBroker {
  private readonly refusals = new RefusalLog(new Logger('token-broker'));

  constructor(
    private readonly policy: CallerPolicy,
    private readonly cache: TokenCache,
    private readonly source: TokenSource,
    private readonly audit: AuditPublisher,
    private readonly metrics: BrokerMetrics,
  ) {}

  async acquire(caller: string, registration: string, scope: string): Promise<IssuedToken> {
    try {
      // Both looked up every time and refused on one path: an unknown registration and one the
      // caller may not use get the same answer. Operators see which one in the log and metric.
      const r = this.policy.registration(registration);
      const granted = this.policy.allows(caller, registration, scope);
      if (!r || !granted) {
        const reason = r ? 'not_granted' : 'unknown_registration';
        this.metrics.refusals.inc({ reason });
        this.refusals.refused({ reason, caller, registration, scope });
        throw new BrokerError('unauthorized', REFUSED_MESSAGE);
      }
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

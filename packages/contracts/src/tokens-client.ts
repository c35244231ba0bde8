import type { NatsConnection } from '@nats-io/transport-node';
import { tokensAcquireSubject, TokensAcquire } from './tokens';
import { request } from './wire';

/** A refusal from the token broker: `code` as in the contract, `aadsts` when Entra gave one. */
export class TokenBrokerError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly aadsts?: string,
  ) {
    super(aadsts ? `${code}: ${message} (${aadsts})` : `${code}: ${message}`);
    this.name = 'TokenBrokerError';
  }
}

/** Structurally an @azure/core-auth TokenCredential, so Azure SDK clients (and openai's getBearerTokenProvider) accept it. */
export interface BrokerTokenCredential {
  getToken(
    scopes: string | string[],
  ): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

/**
 * App-only tokens from the token broker over NATS, for a service that holds no secret. Keeps
 * each token until shortly before it expires. `natsUser` is the user this connection
 * authenticated as (the broker only answers it on its own subject).
 */
export class TokenBrokerClient {
  private readonly cache = new Map<string, { accessToken: string; expiresOn: number }>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly natsUser: string,
    private readonly o: { skewSeconds?: number; timeoutMs?: number } = {},
  ) {}

  async getToken(
    registration: string,
    scope: string,
  ): Promise<{ accessToken: string; expiresOn: number }> {
    const key = `${registration}\n${scope}`;
    const cached = this.cache.get(key);
    if (cached && cached.expiresOn - (this.o.skewSeconds ?? 120) > Date.now() / 1000) return cached;
    const reply = await request(
      this.nc,
      TokensAcquire,
      { registration, scope },
      { subject: tokensAcquireSubject(this.natsUser), timeout: this.o.timeoutMs ?? 15000 },
    );
    if (!reply.ok)
      throw new TokenBrokerError(reply.error.code, reply.error.message, reply.error.aadsts);
    const t = { accessToken: reply.accessToken, expiresOn: reply.expiresOn };
    this.cache.set(key, t);
    return t;
  }

  /** `Authorization` header value for a downstream API (e.g. Azure OpenAI: Bearer, not api-key). */
  async authorization(registration: string, scope: string): Promise<string> {
    return `Bearer ${(await this.getToken(registration, scope)).accessToken}`;
  }

  /** A TokenCredential bound to one registration (one `.default` scope per call, as Entra requires). */
  credential(registration: string): BrokerTokenCredential {
    return {
      getToken: async (scopes) => {
        const scope: string | undefined = Array.isArray(scopes) ? scopes[0] : scopes;
        if (!scope) throw new TypeError('getToken needs one scope');
        const t = await this.getToken(registration, scope);
        return { token: t.accessToken, expiresOnTimestamp: t.expiresOn * 1000 };
      },
    };
  }
}

/** Azure OpenAI's data-plane scope (Microsoft Entra auth instead of api-key). */
export const AZURE_OPENAI_SCOPE = 'https://cognitiveservices.azure.com/.default';

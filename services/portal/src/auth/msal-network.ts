// MSAL's HTTP client has no timeout for POST requests (its token requests): a token endpoint that
// accepts the connection and never answers held the user's request for minutes (until fetch's own
// 300 s limit). This one gives every request to the identity provider the same limit as the
// metadata fetch; MSAL reports a failure here as its `network_error`.
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';

/** How long a request to the identity provider may take (metadata, tokens). */
export const IDENTITY_PROVIDER_TIMEOUT_MS = 10_000;

export class TimedNetworkClient implements INetworkModule {
  constructor(private readonly timeoutMs = IDENTITY_PROVIDER_TIMEOUT_MS) {}

  sendGetRequestAsync<T>(
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    return this.send<T>(url, 'GET', options, Math.min(timeout ?? this.timeoutMs, this.timeoutMs));
  }

  sendPostRequestAsync<T>(
    url: string,
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> {
    return this.send<T>(url, 'POST', options, this.timeoutMs);
  }

  private async send<T>(
    url: string,
    method: 'GET' | 'POST',
    options: NetworkRequestOptions | undefined,
    timeoutMs: number,
  ): Promise<NetworkResponse<T>> {
    const r = await fetch(url, {
      method,
      headers: options?.headers ?? {},
      ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return {
      headers: Object.fromEntries(r.headers),
      body: (await r.json()) as T,
      status: r.status,
    };
  }
}

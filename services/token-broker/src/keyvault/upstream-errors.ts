import { BrokerError, parseRetryAfter, RetryableError } from '../broker/broker-error';

interface RestErrorLike {
  statusCode?: number;
  code?: string;
  response?: { headers: { get(name: string): string | undefined } };
}

const isRestErrorLike = (e: unknown): e is RestErrorLike & Error =>
  e instanceof Error && ('statusCode' in e || 'response' in e || e.name === 'RestError');

/** Maps an Azure SDK failure against Key Vault to something the retry loop understands. */
export function classifyKeyVaultError(e: unknown, what: string): Error {
  if (isRestErrorLike(e)) {
    const status = e.statusCode;
    if (status === 429)
      return new RetryableError(
        `Key Vault throttled ${what}`,
        'throttled',
        parseRetryAfter(e.response?.headers.get('retry-after')),
      );
    if (status === undefined || status >= 500)
      return new RetryableError(`Key Vault unavailable during ${what}`, 'unavailable');
    if (status === 404)
      return new BrokerError('upstream_rejected', `Key Vault: ${what}: not found`);
    if (status === 401 || status === 403)
      return new BrokerError(
        'upstream_rejected',
        `Key Vault refused ${what} (${status}): check the broker's role assignments`,
      );
    return new BrokerError('upstream_rejected', `Key Vault refused ${what} (${status})`);
  }
  // CredentialUnavailableError / AuthenticationError: the broker's own identity could not be established.
  const name = e instanceof Error ? e.name : 'Error';
  return new BrokerError(
    'upstream_unavailable',
    `Key Vault ${what}: ${name === 'AuthenticationError' || name === 'CredentialUnavailableError' ? 'workload identity sign-in failed' : 'request failed'}`,
  );
}

// No `unknown_registration`: an unknown name is answered `unauthorized` (registration names are not discoverable).
export type BrokerErrorCode =
  'unauthorized' | 'upstream_unavailable' | 'upstream_rejected' | 'bad_request';

/** An error a caller may see: a code, a safe message and Entra's AADSTS code when there is one. */
export class BrokerError extends Error {
  constructor(
    readonly code: BrokerErrorCode,
    message: string,
    readonly aadsts?: string,
  ) {
    super(message);
    this.name = 'BrokerError';
  }
}

/** A failure worth another attempt; `retryAfterMs` comes from the server's Retry-After. */
export class RetryableError extends Error {
  constructor(
    message: string,
    readonly kind: 'throttled' | 'unavailable' | 'not_replicated',
    readonly retryAfterMs?: number,
    readonly aadsts?: string,
  ) {
    super(message);
    this.name = 'RetryableError';
  }
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unparsable. */
export function parseRetryAfter(
  value: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (!value) return undefined;
  const s = Number(value);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

import { BrokerError, RetryableError } from './broker-error';

export interface RetryPolicy {
  /** Attempts after the first for throttling / 5xx / network failures. */
  upstreamRetries: number;
  /** Attempts after the first for AADSTS700016 (replication delay). */
  replicationRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * The longest Retry-After waited for. A server asking for more is answered at once with
 * `upstream_unavailable`: every caller would have timed out long before, and while the retry
 * sleeps, every request for the same token waits on it (single flight) — a Retry-After of a day
 * would hold them all for a day. The next request tries again.
 */
export const MAX_RETRY_AFTER_MS = 60_000;

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Exponential backoff with full jitter, never shorter than the server's Retry-After. */
export function backoffDelay(
  attempt: number,
  p: RetryPolicy,
  retryAfterMs?: number,
  random = Math.random,
): number {
  const exp = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** attempt);
  const jittered = exp / 2 + random() * (exp / 2);
  return Math.max(jittered, retryAfterMs ?? 0);
}

/**
 * Runs `op`, retrying RetryableErrors within their budget; once spent, callers get
 * `upstream_unavailable` (with the AADSTS code if Entra gave one).
 */
export async function withRetry<T>(
  op: () => Promise<T>,
  p: RetryPolicy,
  sleep: Sleep = realSleep,
  onRetry?: (e: RetryableError) => void,
): Promise<T> {
  let upstream = 0;
  let replication = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (e) {
      if (!(e instanceof RetryableError)) throw e;
      const budgetLeft =
        e.kind === 'not_replicated'
          ? replication++ < p.replicationRetries
          : upstream++ < p.upstreamRetries;
      if (!budgetLeft || (e.retryAfterMs ?? 0) > MAX_RETRY_AFTER_MS)
        throw new BrokerError('upstream_unavailable', e.message, e.aadsts);
      onRetry?.(e);
      await sleep(backoffDelay(attempt, p, e.retryAfterMs));
    }
  }
}

// Injection tokens of the broker's seams and of the typed pieces derived from its configuration.
// Production binds the real clock, sleep, fetch and registry (broker.module.ts); tests override them.

/** The broker's clock, epoch milliseconds (cache expiry, assertion lifetime). */
export const CLOCK = Symbol('CLOCK');
/** How backoff waits: `Sleep` from ./retry. */
export const SLEEP = Symbol('SLEEP');
/** How the token endpoint is called: `FetchLike` from ../entra/token-endpoint. */
export const ENTRA_FETCH = Symbol('ENTRA_FETCH');
/** The prom-client registry the broker's series are registered in. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
/** The Azure `TokenCredential` Key Vault is reached with (workload identity or the developer chain). */
export const KEY_VAULT_CREDENTIAL = Symbol('KEY_VAULT_CREDENTIAL');
/** `RetryPolicy` from the *_RETRY_* variables. */
export const RETRY_POLICY = Symbol('RETRY_POLICY');
/** `CacheOptions` of the token cache (refresh margin, clock, what a failed refresh does). */
export const TOKEN_CACHE_OPTIONS = Symbol('TOKEN_CACHE_OPTIONS');
/** The inbox prefix the broker's NATS connection uses: audit acks are received below it. */
export const AUDIT_INBOX_PREFIX = Symbol('AUDIT_INBOX_PREFIX');

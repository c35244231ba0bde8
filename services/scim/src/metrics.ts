import { Counter, Gauge, Histogram, register } from 'prom-client';

// Registered once per process in prom-client's default registry (served by service-kit's /metrics);
// tests build several apps in one process, so existing metrics are reused.
function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

export const scimRequests = once(
  'scim_requests_total',
  () =>
    new Counter({
      name: 'scim_requests_total',
      help: 'SCIM requests by operation, resource type and outcome',
      labelNames: ['operation', 'resource_type', 'outcome'],
    }),
);
export const scimDuration = once(
  'scim_request_duration_seconds',
  () =>
    new Histogram({
      name: 'scim_request_duration_seconds',
      help: 'SCIM request duration',
      labelNames: ['operation', 'resource_type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    }),
);
export const scimTokensExpiring = once(
  'scim_tokens_expiring',
  () =>
    new Gauge({
      name: 'scim_tokens_expiring',
      help: 'Active SCIM tokens expiring within the warning window',
      labelNames: ['directory'],
    }),
);
export const scimTokenDaysLeft = once(
  'scim_token_days_left',
  () =>
    new Gauge({
      name: 'scim_token_days_left',
      help: 'Days until each expiring SCIM token expires',
      labelNames: ['directory', 'token_id'],
    }),
);
export const scimUsersPurged = once(
  'scim_cleanup_users_purged_total',
  () =>
    new Counter({
      name: 'scim_cleanup_users_purged_total',
      help: 'Deactivated users purged by the retention cleanup',
    }),
);

// Bounded by the number of directories: only the directory of an authenticated SCIM token is a
// label value (never one read from the URL); everything else is `unauthenticated`.
export const scimDirectoryRequests = once(
  'scim_directory_requests_total',
  () =>
    new Counter({
      name: 'scim_directory_requests_total',
      help: 'SCIM requests per directory (of the bearer token) and outcome',
      labelNames: ['directory', 'outcome'],
    }),
);

// Requests refused by the per-directory rate limit (SCIM_RATE_LIMIT_PER_SECOND): a directory whose
// client keeps hitting it is one whose Entra sync slows down. Authenticated directories only.
export const scimThrottled = once(
  'scim_requests_throttled_total',
  () =>
    new Counter({
      name: 'scim_requests_throttled_total',
      help: 'SCIM requests answered 429 by the per-directory rate limit, per directory',
      labelNames: ['directory'],
    }),
);

const soonestExpiry = new Map<string, number>();

/** Records, per directory, when its soonest-expiring active token expires (epoch ms; past when all expired). */
export function setSoonestTokenExpiry(byDirectory: ReadonlyMap<string, number>): void {
  soonestExpiry.clear();
  for (const [directory, at] of byDirectory) soonestExpiry.set(directory, at);
}

// Seconds are computed at scrape time, so the value does not go stale between expiry checks.
// Registered for its side effect: the registry collects it on every scrape.
once(
  'scim_token_expiry_seconds',
  () =>
    new Gauge({
      name: 'scim_token_expiry_seconds',
      help: 'Seconds until the soonest-expiring active SCIM token of each directory expires (0 when every unrevoked token has expired)',
      labelNames: ['directory'],
      collect() {
        this.reset();
        const now = Date.now();
        for (const [directory, at] of soonestExpiry)
          this.set({ directory }, Math.max(0, (at - now) / 1000));
      },
    }),
);

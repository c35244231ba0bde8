import { Counter, Histogram } from 'prom-client';
import { metricOnce } from './registry';

type Labels = 'method' | 'route' | 'status_code';
const labelNames: Labels[] = ['method', 'route', 'status_code'];

/** RED metrics of every service: rate and errors by route template and status, duration histogram. */
export const httpRequests = metricOnce(
  'http_server_requests_total',
  () =>
    new Counter<Labels>({
      name: 'http_server_requests_total',
      help: 'HTTP requests answered, by method, route template and status code',
      labelNames,
    }),
);
export const httpDuration = metricOnce(
  'http_server_request_duration_seconds',
  () =>
    new Histogram<Labels>({
      name: 'http_server_request_duration_seconds',
      help: 'Time from request received to response sent, by method, route template and status code',
      labelNames,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
);

/** The label for requests no route matched (404s, router refusals): raw paths never become labels. */
export const UNMATCHED_ROUTE = 'unmatched';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function observeHttpRequest(
  method: string,
  route: string | undefined,
  status: number,
  seconds: number,
): void {
  const labels = {
    method: METHODS.has(method) ? method : 'OTHER',
    route: route ?? UNMATCHED_ROUTE,
    status_code: String(status),
  };
  httpRequests.inc(labels);
  httpDuration.observe(labels, seconds);
}

import { register, type Metric } from 'prom-client';

/**
 * One series per process in prom-client's default registry (served by /metrics): tests build
 * several apps in one process, so an existing metric is reused rather than registered twice.
 */
export function metricOnce<T extends Metric>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

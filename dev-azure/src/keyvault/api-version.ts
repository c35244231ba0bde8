// The api-version query parameter, read one way everywhere: the check in the request hook and
// the Location a create answers with must name the same single version, or the SDK's poller
// follows a URL whose api-version the vault refuses.
import { KvError } from './errors';

/**
 * The request's api-version; undefined when absent. Repeated with one value it is that value;
 * repeated with different values it is refused, as a version the vault does not recognize.
 */
export function apiVersionOf(query: unknown): string | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const q = query as Record<string, unknown>;
  const v = q['api-version'] ?? q['api%2Dversion'];
  if (typeof v === 'string') return v;
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) return undefined;
  const distinct = [...new Set(v)];
  if (distinct.length === 1) return distinct[0];
  throw new KvError(
    400,
    'BadParameter',
    `The specified version (${distinct.join(',').slice(0, 40)}) is not recognized. Give api-version once.`,
  );
}

import { ScimError } from './scim-error';

// What lives under the SCIM base, for answering requests no controller route matched: 405 with
// `Allow` for a known resource, 404 otherwise. Keep in step with the controllers (the
// error-responses test checks every entry against them).

/** `/scim/v2` or `/{directoryId}/scim/v2`, then the end, `/` or `?`. */
const SCIM_BASE = /^(?:\/[^/?]+)?\/scim\/v2(?=[/?]|$)/;

export const isScimUrl = (url: string): boolean => SCIM_BASE.test(url);

const RESOURCE_SEGMENTS = new Map(
  ['Users', 'Groups', 'ServiceProviderConfig', 'Schemas', 'ResourceTypes'].map((n) => [
    n.toLowerCase(),
    n,
  ]),
);

/**
 * Clients disagree on case (`/users`) and trailing slashes (`/Users/`); the resource-type segment
 * after the SCIM base is matched case-insensitively and one trailing slash is dropped, so both reach
 * the same route. The directory id and resource ids keep their case.
 */
export function canonicalScimUrl(url: string): string {
  const q = url.indexOf('?');
  let path = q < 0 ? url : url.slice(0, q);
  const base = SCIM_BASE.exec(path);
  if (!base) return url;
  if (path.length > base[0].length + 1 && path.endsWith('/')) path = path.slice(0, -1);
  const rest = path.slice(base[0].length);
  const m = /^\/([^/]+)/.exec(rest);
  const segment = m?.[1];
  const canonical = segment ? RESOURCE_SEGMENTS.get(segment.toLowerCase()) : undefined;
  if (m && canonical) path = `${base[0]}/${canonical}${rest.slice(m[0].length)}`;
  return q < 0 ? path : `${path}${url.slice(q)}`;
}

const READ_ONLY = ['GET', 'HEAD'];
export const SCIM_ROUTES: readonly { path: RegExp; allow: readonly string[] }[] = [
  { path: /^\.search$/, allow: ['POST'] },
  { path: /^(Users|Groups)$/, allow: ['GET', 'HEAD', 'POST'] },
  { path: /^(Users|Groups)\/[^/]+$/, allow: ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE'] },
  { path: /^(ServiceProviderConfig|Schemas|ResourceTypes)$/, allow: READ_ONLY },
  { path: /^(Schemas|ResourceTypes)\/[^/]+$/, allow: READ_ONLY },
];

const NOT_IMPLEMENTED: readonly { path: RegExp; detail: string }[] = [
  {
    path: /^Bulk$/i,
    detail: 'Bulk operations are not supported (ServiceProviderConfig: bulk.supported is false)',
  },
  { path: /^Me(\/.*)?$/i, detail: 'The /Me alias is not supported' },
];

/** The error for a request under the SCIM base that no route took. */
export function unmatchedScimRequest(method: string, url: string): ScimError {
  const path = url.split('?', 1)[0] ?? '';
  const rest = path.replace(SCIM_BASE, '').replace(/^\//, '');
  // SCIM features the service does not offer answer 501 (RFC 7644 §3.12 "does not support the
  // request operation"; §3.11: a provider without /Me SHOULD answer 501), whatever the method.
  const feature = NOT_IMPLEMENTED.find((f) => f.path.test(rest));
  if (feature) return new ScimError(501, undefined, feature.detail);
  const route = SCIM_ROUTES.find((r) => r.path.test(rest));
  if (!route || route.allow.includes(method))
    return new ScimError(404, undefined, 'There is no SCIM endpoint at this path');
  const allow = route.allow.join(', ');
  return new ScimError(405, undefined, `${method} is not allowed here; allowed: ${allow}`, {
    Allow: allow,
  });
}

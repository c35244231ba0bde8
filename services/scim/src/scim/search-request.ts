import { getCI } from './json-ci';
import { ScimError } from './scim-error';
import { isObject, type JsonValue } from './schemas';

// POST {resource}/.search (RFC 7644 §3.4.3): a SearchRequest body carries the query parameters of
// a GET; it is turned into the same parameter record so both go through parseListQuery alike.

export const SEARCH_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

const text = (v: JsonValue | undefined, name: string): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw ScimError.invalidValue(`${name} must be a string`);
  return v;
};

const integer = (v: JsonValue | undefined, name: string): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw ScimError.invalidValue(`${name} must be an integer`);
  return BigInt(v).toString(); // 1e21 is an integer too, whose String() is "1e+21"
};

const names = (v: JsonValue | undefined, name: string): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw ScimError.invalidValue(`${name} must be an array of attribute names`);
  return v.join(',');
};

/** The GET query parameters a SearchRequest stands for. */
export function searchRequestQuery(body: unknown): Record<string, string | undefined> {
  if (!isObject(body)) throw ScimError.invalidSyntax('Request body must be a SearchRequest object');
  const schemas = getCI(body, 'schemas');
  if (
    !Array.isArray(schemas) ||
    !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === SEARCH_REQUEST.toLowerCase())
  ) {
    throw ScimError.invalidSyntax(`schemas must contain ${SEARCH_REQUEST}`);
  }
  return {
    filter: text(getCI(body, 'filter'), 'filter'),
    sortBy: text(getCI(body, 'sortBy'), 'sortBy'),
    sortOrder: text(getCI(body, 'sortOrder'), 'sortOrder'),
    startIndex: integer(getCI(body, 'startIndex'), 'startIndex'),
    count: integer(getCI(body, 'count'), 'count'),
    attributes: names(getCI(body, 'attributes'), 'attributes'),
    excludedAttributes: names(getCI(body, 'excludedAttributes'), 'excludedAttributes'),
  };
}

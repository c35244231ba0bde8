/** What a SCIM request was, from its method and path (the log and the metrics share this). */
export interface Classified {
  directoryId?: string;
  resourceType: string;
  operation: string;
  resourceId?: string;
}

const PATH = /^(?:\/([^/]+))?\/scim\/v2\/([A-Za-z]+|\.search)(?:\/([^/]+))?\/?$/;
// Maps, not object literals: the keys come from the request (`/scim/v2/constructor` must not find Object).
const TYPES = new Map(
  Object.entries({
    users: 'User',
    groups: 'Group',
    serviceproviderconfig: 'ServiceProviderConfig',
    schemas: 'Schema',
    resourcetypes: 'ResourceType',
  }),
);
const OPERATIONS = new Map(
  Object.entries({ POST: 'create', PUT: 'replace', PATCH: 'update', DELETE: 'delete' }),
);

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

export function classify(method: string, url: string): Classified | undefined {
  const m = PATH.exec(url.split('?', 1)[0] ?? '');
  if (!m) return undefined;
  // RFC 7644 §3.4.3: a search over every resource type at the base.
  if (m[2] === '.search' && !m[3])
    return {
      directoryId: m[1] ? decode(m[1]) : undefined,
      resourceType: 'All',
      operation: method === 'POST' ? 'search' : method.toLowerCase(),
    };
  const resourceType = TYPES.get((m[2] ?? '').toLowerCase()) ?? 'Unknown';
  const id = m[3] ? decode(m[3]) : undefined;
  if (id === '.search' && method === 'POST')
    return { directoryId: m[1] ? decode(m[1]) : undefined, resourceType, operation: 'search' };
  const operation =
    method === 'GET' ? (id ? 'get' : 'list') : (OPERATIONS.get(method) ?? method.toLowerCase());
  return { directoryId: m[1] ? decode(m[1]) : undefined, resourceType, operation, resourceId: id };
}

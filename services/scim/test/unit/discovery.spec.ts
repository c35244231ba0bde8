import { SqlBuilder } from '../../src/db/sql';
import { schemaDocuments, serviceProviderConfig } from '../../src/discovery/schema-documents';
import { parseFilter } from '../../src/filter/filter-parser';
import { groupFilterSql, userFilterSql } from '../../src/filter/filter-to-sql';
import { resolveGroupAttr, resolveUserAttr, type Scalar } from '../../src/filter/filter-targets';
import { AWS_SERVICE_PROVIDER_CONFIG } from '../../src/profiles/aws-profile';
import { parseListQuery } from '../../src/scim/list-query';
import {
  extensionSchemaBody,
  resourceSchemaOf,
  type ExtensionSchema,
} from '../../src/scim/extension-schemas';
import type { ResourceSchema } from '../../src/scim/attribute-defs';
import { URN } from '../../src/scim/schemas';

// /Schemas documents every attribute completely (RFC 7643 §7 characteristics, §8.7 descriptions),
// and says exactly what the filter language accepts: a name is filterable iff /Schemas lists it,
// except the few attributes below that exist but are refused in filters on purpose.

interface Attr {
  name: string;
  type: string;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: string;
  returned: string;
  uniqueness: string;
  subAttributes?: Attr[];
  canonicalValues?: string[];
  referenceTypes?: string[];
}
interface SchemaDoc {
  id: string;
  name: string;
  description: string;
  attributes: Attr[];
}

const docs = schemaDocuments('https://scim.test/scim/v2') as unknown as SchemaDoc[];
const doc = (id: string): SchemaDoc => {
  const d = docs.find((x) => x.id === id);
  if (!d) throw new Error(`no schema ${id}`);
  return d;
};

/** Every (attribute, sub-attribute) of a schema as filter paths: `attr` and `attr.sub`. */
const paths = (d: SchemaDoc): string[] =>
  d.attributes.flatMap((a) => [
    a.name,
    ...(a.subAttributes ?? []).map((s) => `${a.name}.${s.name}`),
  ]);

/**
 * Exist in /Schemas, refused in filters (documented in the README's conformance section). Besides
 * these, no `$ref` is filterable: the filter grammar's ATTRNAME (RFC 7644 §3.4.2.2) cannot start with `$`.
 */
const NOT_FILTERABLE = new Map<string, string[]>([
  [URN.user, ['password']],
  [URN.group, []],
  [URN.enterprise, []],
]);
const refusedInFilters = (id: string, path: string): boolean =>
  path.endsWith('.$ref') || (NOT_FILTERABLE.get(id)?.includes(path) ?? false);

const accepts = (
  resource: 'User' | 'Group',
  path: string,
  schemas: { User?: ResourceSchema; Group?: ResourceSchema } = {},
): boolean => {
  const compile = resource === 'User' ? userFilterSql : groupFilterSql;
  try {
    compile(parseFilter(`${path} pr`), 'default', new SqlBuilder(), schemas[resource]);
    return true;
  } catch {
    return false;
  }
};

describe('/Schemas', () => {
  it('names the schemas as RFC 7643 §8.7 does', () => {
    expect(docs.map((d) => [d.id, d.name, d.description])).toEqual([
      [URN.user, 'User', 'User Account'],
      [URN.enterprise, 'EnterpriseUser', 'Enterprise User'],
      [URN.group, 'Group', 'Group'],
    ]);
  });

  it('gives every attribute and sub-attribute every characteristic of RFC 7643 §7, with a description', () => {
    const check = (a: Attr, where: string) => {
      expect({ where, ...a }).toMatchObject({
        where,
        name: expect.stringMatching(/^[$A-Za-z][\w$]*$/),
        type: expect.stringMatching(
          /^(string|boolean|decimal|integer|dateTime|binary|reference|complex)$/,
        ),
        multiValued: expect.any(Boolean),
        description: expect.stringMatching(/\S.{10,}/),
        required: expect.any(Boolean),
        caseExact: expect.any(Boolean),
        mutability: expect.stringMatching(/^(readOnly|readWrite|immutable|writeOnly)$/),
        returned: expect.stringMatching(/^(always|never|default|request)$/),
        uniqueness: expect.stringMatching(/^(none|server|global)$/),
      });
      expect(a.description).not.toBe(a.name);
      if (a.type === 'complex') expect(a.subAttributes?.length).toBeGreaterThan(0);
      else expect(a.subAttributes).toBeUndefined();
      if (a.type === 'reference') expect(a.referenceTypes?.length).toBeGreaterThan(0);
      else expect(a.referenceTypes).toBeUndefined();
      for (const s of a.subAttributes ?? []) {
        expect(s.type).not.toBe('complex'); // RFC 7643 §2.3.8: no complex sub-attributes
        check(s, `${where}.${s.name}`);
      }
    };
    for (const d of docs) for (const a of d.attributes) check(a, `${d.name}:${a.name}`);
  });

  it('lists the common attributes id and externalId (RFC 7643 §3.1) in the User and Group schemas, not meta', () => {
    for (const id of [URN.user, URN.group]) {
      expect(paths(doc(id))).toEqual(expect.arrayContaining(['id', 'externalId']));
      // A client building its models from /Schemas would type meta as an ordinary complex attribute.
      expect(paths(doc(id)).filter((p) => p.split('.')[0] === 'meta')).toEqual([]);
    }
    expect(doc(URN.user).attributes.find((a) => a.name === 'id')).toMatchObject({
      caseExact: true,
      mutability: 'readOnly',
      returned: 'always',
    });
  });

  // A directory's declared extensions are listed and filterable alike (the admin API's own example).
  // Declared as the admin API takes them (its schema fills in the defaults).
  const declare = (
    urn: string,
    resourceType: 'User' | 'Group',
    attributes: unknown[],
  ): ExtensionSchema => ({
    urn,
    name: null,
    description: null,
    ...extensionSchemaBody.parse({ resourceType, attributes }),
  });
  const declared: ExtensionSchema[] = [
    declare('urn:ietf:params:scim:schemas:extension:CustomExtension:2.0:User', 'User', [
      { name: 'costCenter', type: 'string' },
      { name: 'badge-id', type: 'string', caseExact: true },
      { name: 'hiredOn', type: 'dateTime' },
      {
        name: 'licenses',
        type: 'complex',
        multiValued: true,
        subAttributes: [
          { name: 'value', type: 'string' },
          { name: 'sku', type: 'reference' },
        ],
      },
      {
        name: 'office',
        type: 'complex',
        subAttributes: [
          { name: 'building', type: 'string' },
          { name: 'open', type: 'boolean' },
        ],
      },
    ]),
    declare('urn:example:scim:contoso:1.0:Group', 'Group', [{ name: 'region', type: 'string' }]),
  ];
  it.each([
    ['built-in schemas', [] as ExtensionSchema[]],
    ['a directory with declared extensions', declared],
  ])(
    'lists every attribute a filter accepts, and the filter accepts every listed attribute but the refused ones (%s)',
    (_, extensions) => {
      const docs = schemaDocuments('https://scim.test/scim/v2', {
        extensions,
      }) as unknown as SchemaDoc[];
      const doc = (id: string): SchemaDoc => {
        const d = docs.find((x) => x.id === id);
        if (!d) throw new Error(`no schema ${id}`);
        return d;
      };
      const dirSchemas = {
        User: resourceSchemaOf('User', extensions),
        Group: resourceSchemaOf('Group', extensions),
      };
      const accepts2 = (resource: 'User' | 'Group', path: string) =>
        accepts(resource, path, dirSchemas);
      const ext = (t: 'User' | 'Group') =>
        extensions.filter((e) => e.resourceType === t).map((e) => e.urn);
      const cases: [resource: 'User' | 'Group', schemas: string[]][] = [
        ['User', [URN.user, URN.enterprise, ...ext('User')]],
        ['Group', [URN.group, ...ext('Group')]],
      ];
      // Listed → accepted (under its own name and fully qualified), unless refused on purpose.
      for (const [resource, schemas] of cases) {
        for (const [i, id] of schemas.entries()) {
          for (const p of paths(doc(id))) {
            const refused = refusedInFilters(id, p);
            const names = i === 0 ? [p, `${id}:${p}`] : [`${id}:${p}`];
            for (const n of names)
              expect({ resource, n, accepted: accepts2(resource, n) }).toEqual({
                resource,
                n,
                accepted: !refused,
              });
          }
        }
      }
      // Accepted → listed: every name any schema uses as an attribute, and as a sub-attribute of
      // every complex attribute (and of a few simple ones), bare and under each URN; what a filter
      // accepts must be in that resource's schemas.
      const words = [
        ...new Set(docs.flatMap((d) => paths(d)).flatMap((p) => p.split('.'))),
        'schemas',
        'nosuch',
        'meta',
        'created',
        'lastModified',
        'location',
      ];
      const parents = [
        ...new Set(
          docs.flatMap((d) => d.attributes.filter((a) => a.subAttributes).map((a) => a.name)),
        ),
        'userName',
        'displayName',
        'id',
        'schemas',
        'meta',
      ];
      const candidates = [...words, ...parents.flatMap((a) => words.map((w) => `${a}.${w}`))];
      for (const [resource, schemas] of cases) {
        const listed = new Set(
          schemas.flatMap((id, i) =>
            paths(doc(id)).flatMap((p) => [
              ...(i === 0 ? [p.toLowerCase()] : []),
              `${id}:${p}`.toLowerCase(),
            ]),
          ),
        );
        // `schemas` is the one filterable name /Schemas does not list (RFC 7643 §8.7.1 does not
        // either): RFC 7644 §3.4.2.2 filters on it (`schemas eq "urn:...:enterprise:2.0:User"`).
        // `meta.created`/`meta.lastModified` neither: RFC 7643 §3.1's meta is not listed (see
        // schema-documents.ts), yet RFC 7644 §3.4.2.2 filters on them.
        for (const n of ['schemas', 'meta.created', 'meta.lastModified'])
          for (const q of [n, `${schemas[0]}:${n}`]) listed.add(q.toLowerCase());
        const prefixes = [
          '',
          ...[URN.user, URN.enterprise, URN.group, ...extensions.map((e) => e.urn)].map(
            (u) => `${u}:`,
          ),
        ];
        const unlisted = prefixes
          .flatMap((pre) => candidates.map((c) => `${pre}${c}`))
          .filter((n) => accepts2(resource, n) && !listed.has(n.toLowerCase()));
        expect({ resource, unlisted }).toEqual({ resource, unlisted: [] });
      }
    },
  );
});

describe('ServiceProviderConfig', () => {
  it('says what the default profile does: filter with the page cap, sort, etag, patch; no bulk or password change', () => {
    expect(serviceProviderConfig('https://scim.test/scim/v2', 1000)).toMatchObject({
      schemas: [URN.serviceProviderConfig],
      patch: { supported: true },
      bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
      filter: { supported: true, maxResults: 1000 },
      changePassword: { supported: false },
      sort: { supported: true },
      etag: { supported: true },
      authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken' })],
    });
    // sort.supported follows what the list query honours in each profile.
    expect(parseListQuery({ sortBy: 'userName' }, 'default', 1000).sortBy).toBe('userName');
    expect(AWS_SERVICE_PROVIDER_CONFIG.sort).toEqual({ supported: false });
    expect(parseListQuery({ sortBy: 'userName' }, 'aws', 1000).sortBy).toBeUndefined();
    // filter.maxResults is the largest page each profile serves.
    expect(parseListQuery({ count: '5000' }, 'default', 1000).count).toBe(1000);
    expect(parseListQuery({ count: '5000' }, 'aws', 1000).count).toBe(
      AWS_SERVICE_PROVIDER_CONFIG.filter.maxResults,
    );
  });

  it('says caseExact exactly where a filter compares case-sensitively', () => {
    const cases: [SchemaDoc, (ref: { uri?: string; attr: string; sub?: string }) => unknown][] = [
      [doc(URN.user), resolveUserAttr],
      [doc(URN.enterprise), resolveUserAttr],
      [doc(URN.group), resolveGroupAttr],
    ];
    const disagree: string[] = [];
    for (const [d, resolve] of cases) {
      const uri = d.id === URN.enterprise ? URN.enterprise : undefined;
      for (const a of d.attributes)
        for (const sub of a.subAttributes ?? [undefined]) {
          const def = sub ?? a;
          if (def.type !== 'string' && def.type !== 'reference') continue;
          let target: unknown;
          try {
            target = resolve({
              ...(uri ? { uri } : {}),
              attr: a.name,
              ...(sub ? { sub: sub.name } : {}),
            });
          } catch {
            continue; // refused in filters: nothing to agree with
          }
          const t = target as { kind: string; s?: Scalar; m?: { sub(n: string): Scalar } };
          const scalar =
            t.kind === 'scalar' ? t.s : t.kind === 'multi' ? t.m?.sub(def.name) : undefined;
          if (scalar && scalar.caseExact !== def.caseExact)
            disagree.push(`${d.name}:${a.name}${sub ? `.${sub.name}` : ''}`);
        }
    }
    expect(disagree).toEqual([]);
  });
});

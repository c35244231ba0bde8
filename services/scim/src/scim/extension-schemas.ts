import { z } from 'zod';
import { GROUP_SCHEMA, USER_SCHEMA, type AttrDef, type ResourceSchema } from './attribute-defs';
import { URN } from './schemas';

// Extension schemas a directory declares (RFC 7643 §3.3, §7), e.g. the
// `urn:ietf:params:scim:schemas:extension:CustomExtension:2.0:User` Entra ID sends for custom
// attribute mappings. Declared through the admin API or CLI; the directory's resource schema is
// then the core one plus these, everywhere the core one is used (writes, PATCH, filters, sorting,
// projection, /Schemas, /ResourceTypes).

/** Bounds, so one directory cannot make every request of it walk an unbounded schema. */
export const MAX_SCHEMAS_PER_DIRECTORY = 20;
export const MAX_ATTRIBUTES_PER_SCHEMA = 100;
export const MAX_SUB_ATTRIBUTES = 50;

export type ExtensionResourceType = 'User' | 'Group';

/** A declared extension schema as stored and as the admin API shows it. */
export interface ExtensionSchema {
  urn: string;
  resourceType: ExtensionResourceType;
  name: string | null;
  description: string | null;
  attributes: AttributeDefinition[];
}

/** RFC 7643 §7's attribute definition, as declared (defaults filled in). */
export interface AttributeDefinition {
  name: string;
  type: AttrDef['type'];
  multiValued: boolean;
  description: string;
  required: false;
  caseExact: boolean;
  mutability: 'readWrite';
  returned: 'default';
  uniqueness: 'none';
  subAttributes?: AttributeDefinition[];
  canonicalValues?: string[];
  referenceTypes?: string[];
}

// The filter grammar's ATTRNAME (RFC 7644 §3.4.2.2): ALPHA *(nameChar).
const ATTRNAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
// A URN of letters, digits and `._-` segments: what the filter grammar reads as one name and an
// admin route takes as one path segment (at most 100 characters, the router's segment limit).
const URN_FORM = /^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}(:[A-Za-z0-9._-]+)+$/i;
// Namespaces of RFC 7643/7644's own schemas and messages; the enterprise extension is built in.
const RESERVED = [/^urn:ietf:params:scim:schemas:core:/i, /^urn:ietf:params:scim:api:/i];

const CONTROL = /\p{Cc}/u;
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((v) => !CONTROL.test(v), { message: 'must not contain control characters' });

export const extensionUrn = z
  .string()
  .max(100, 'must be at most 100 characters')
  .regex(
    URN_FORM,
    'must be a URN such as urn:ietf:params:scim:schemas:extension:MyExtension:2.0:User',
  )
  .refine(
    (u) => !RESERVED.some((r) => r.test(u)) && u.toLowerCase() !== URN.enterprise.toLowerCase(),
    {
      message: 'must not be a core, message or enterprise schema URN (those are built in)',
    },
  );

// Only what this service enforces may be declared: a characteristic it would advertise in /Schemas
// and then not honour (required, immutable, returned "never", uniqueness) is refused instead.
const ENFORCED = {
  required: 'must be false (required is not enforced for declared attributes)',
  mutability: 'must be readWrite (the only mutability enforced for declared attributes)',
  returned: 'must be default (the only returned enforced for declared attributes)',
  uniqueness: 'must be none (uniqueness is not enforced for declared attributes)',
};
const simpleTypes = [
  'string',
  'boolean',
  'dateTime',
  'reference',
  'binary',
  'integer',
  'decimal',
] as const;

const base = {
  name: z
    .string()
    .regex(ATTRNAME, 'must be a letter followed by letters, digits, _ or - (at most 64)'),
  multiValued: z.boolean().default(false),
  description: text(1024).default(''),
  required: z.literal(false, ENFORCED.required).default(false),
  caseExact: z.boolean().default(false),
  mutability: z.literal('readWrite', ENFORCED.mutability).default('readWrite'),
  returned: z.literal('default', ENFORCED.returned).default('default'),
  uniqueness: z.literal('none', ENFORCED.uniqueness).default('none'),
  canonicalValues: z.array(text(256)).max(100).optional(),
  referenceTypes: z
    .array(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/))
    .min(1)
    .max(10)
    .optional(),
};

const TYPE_MESSAGE =
  'must be one of string, boolean, dateTime, reference, binary, integer, decimal, complex';

const subAttribute = z
  .strictObject({
    ...base,
    type: z.enum(simpleTypes, TYPE_MESSAGE.replace(', complex', '')),
  })
  .refine((a) => !a.multiValued, {
    message: 'sub-attributes are single-valued',
    path: ['multiValued'],
  });

const attribute = z
  .strictObject({
    ...base,
    type: z.enum([...simpleTypes, 'complex'], TYPE_MESSAGE),
    subAttributes: z.array(subAttribute).max(MAX_SUB_ATTRIBUTES).optional(),
  })
  .superRefine((a, ctx) => {
    if (a.type === 'complex' && !a.subAttributes?.length)
      ctx.addIssue({
        code: 'custom',
        message: 'a complex attribute needs subAttributes',
        path: ['subAttributes'],
      });
    if (a.type !== 'complex' && a.subAttributes !== undefined)
      ctx.addIssue({
        code: 'custom',
        message: 'only a complex attribute has subAttributes',
        path: ['subAttributes'],
      });
    // A multi-valued simple attribute has no sub-attribute a filter or sort could name.
    if (a.type !== 'complex' && a.multiValued)
      ctx.addIssue({
        code: 'custom',
        message: 'a multi-valued attribute must be complex (e.g. with a value sub-attribute)',
        path: ['multiValued'],
      });
    const subs = (a.subAttributes ?? []).map((s) => s.name.toLowerCase());
    if (new Set(subs).size !== subs.length)
      ctx.addIssue({
        code: 'custom',
        message: 'sub-attribute names must be unique (case-insensitively)',
        path: ['subAttributes'],
      });
  });

/** PUT /admin/directories/{id}/schemas/{urn}. */
export const extensionSchemaBody = z
  .strictObject({
    resourceType: z.enum(['User', 'Group']),
    name: text(100).nullable().optional(),
    description: text(1024).nullable().optional(),
    attributes: z.array(attribute).min(1).max(MAX_ATTRIBUTES_PER_SCHEMA),
  })
  .superRefine((b, ctx) => {
    const names = b.attributes.map((a) => a.name.toLowerCase());
    if (new Set(names).size !== names.length)
      ctx.addIssue({
        code: 'custom',
        message: 'attribute names must be unique (case-insensitively)',
        path: ['attributes'],
      });
    // Inside an extension object `schemas` is ignored on write (clients copy it from a representation).
    if (names.includes('schemas'))
      ctx.addIssue({
        code: 'custom',
        message: '"schemas" cannot be an attribute name',
        path: ['attributes'],
      });
  });

export type ExtensionSchemaBody = z.infer<typeof extensionSchemaBody>;

const toDef = (a: AttributeDefinition): AttrDef => ({
  name: a.name,
  type: a.type,
  description: a.description,
  ...(a.multiValued ? { multi: true } : {}),
  ...(a.caseExact ? { caseExact: true } : {}),
  ...(a.subAttributes ? { subs: a.subAttributes.map(toDef) } : {}),
  ...(a.canonicalValues ? { canonicalValues: a.canonicalValues } : {}),
  ...(a.type === 'reference' ? { referenceTypes: a.referenceTypes ?? ['external'] } : {}),
});

/** The attribute definitions of a declared schema, as the rest of the service reads them. */
export const attrDefsOf = (s: ExtensionSchema): AttrDef[] => s.attributes.map(toDef);

/** The resource schema of one type: the built-in one plus the directory's extensions for it. */
export function resourceSchemaOf(
  type: ExtensionResourceType,
  extensions: readonly ExtensionSchema[],
): ResourceSchema {
  const builtIn = type === 'User' ? USER_SCHEMA : GROUP_SCHEMA;
  const mine = extensions.filter((e) => e.resourceType === type);
  if (mine.length === 0) return builtIn;
  const byUri = new Map(builtIn.byUri);
  for (const e of mine)
    byUri.set(e.urn.toLowerCase(), new Map(attrDefsOf(e).map((d) => [d.name.toLowerCase(), d])));
  return {
    core: builtIn.core,
    extensions: [...builtIn.extensions, ...mine.map((e) => e.urn)],
    byUri,
  };
}

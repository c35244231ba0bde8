import {
  COMMON_ATTRS,
  ENTERPRISE_ATTRS,
  GROUP_ATTRS,
  USER_ATTRS,
  type AttrDef,
} from '../scim/attribute-defs';
import { attrDefsOf, type ExtensionSchema } from '../scim/extension-schemas';
import type { Profile } from '../scim/request-context';
import { URN } from '../scim/schemas';

/** Every characteristic of RFC 7643 §7, with its default spelled out (clients should not have to know them). */
function attr(d: AttrDef): Record<string, unknown> {
  return {
    name: d.name,
    type: d.type,
    multiValued: d.multi ?? false,
    description: d.description,
    required: d.required ?? false,
    caseExact: d.caseExact ?? false,
    mutability: d.mutability ?? 'readWrite',
    returned: d.returned ?? 'default',
    uniqueness: d.uniqueness ?? 'none',
    ...(d.subs ? { subAttributes: d.subs.map(attr) } : {}),
    ...(d.canonicalValues ? { canonicalValues: d.canonicalValues } : {}),
    ...(d.type === 'reference' ? { referenceTypes: d.referenceTypes ?? ['external'] } : {}),
  };
}

const schemaDoc = (
  id: string,
  name: string,
  description: string,
  attrs: AttrDef[],
  baseUrl: string,
) => ({
  schemas: [URN.schema],
  id,
  name,
  description,
  attributes: attrs.map(attr),
  meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${id}` },
});

/**
 * A group's displayName is unique per directory (409 uniqueness) unless the directory turned the
 * rule off, so its advertised uniqueness is "server" (RFC 7643 §8.7.1 says "none") where enforced.
 */
const groupAttrs = (uniqueDisplayName: boolean): AttrDef[] =>
  GROUP_ATTRS.map((d) =>
    d.name === 'displayName' && uniqueDisplayName ? { ...d, uniqueness: 'server' } : d,
  );

/** Where the `aws` profile requires a value (IAM Identity Center refuses a user without them). */
const AWS_REQUIRED_USER = new Set(['displayName', 'name', 'name.givenName', 'name.familyName']);
const required = (d: AttrDef, parent = ''): AttrDef => {
  const path = parent ? `${parent}.${d.name}` : d.name;
  return {
    ...d,
    ...(AWS_REQUIRED_USER.has(path) ? { required: true } : {}),
    ...(d.subs ? { subs: d.subs.map((sub) => required(sub, path)) } : {}),
  };
};
const userAttrs = (profile: Profile): AttrDef[] =>
  profile === 'aws' ? USER_ATTRS.map((d) => required(d)) : USER_ATTRS;

/**
 * `id` and `externalId` of RFC 7643 §3.1's common attributes, listed in each resource type's core
 * schema (§3.1 allows it). `meta` is not (as RFC 7643 §8.7.1 lists none of them): a client that
 * builds its models from /Schemas (scim2-client) then types `meta` as an ordinary complex attribute
 * and cannot read a resource whose projection leaves `meta` out while the ETag header is sent.
 */
const LISTED_COMMON = COMMON_ATTRS.filter((d) => d.name !== 'meta');

export const schemaDocuments = (
  baseUrl: string,
  o: { uniqueGroupDisplayName?: boolean; profile?: Profile; extensions?: ExtensionSchema[] } = {},
) => [
  // Names and descriptions as in RFC 7643 §8.7, with LISTED_COMMON in each core schema.
  schemaDoc(
    URN.user,
    'User',
    'User Account',
    [...LISTED_COMMON, ...userAttrs(o.profile ?? 'default')],
    baseUrl,
  ),
  schemaDoc(URN.enterprise, 'EnterpriseUser', 'Enterprise User', ENTERPRISE_ATTRS, baseUrl),
  schemaDoc(
    URN.group,
    'Group',
    'Group',
    [...LISTED_COMMON, ...groupAttrs(o.uniqueGroupDisplayName ?? true)],
    baseUrl,
  ),
  // The directory's declared extensions (unnamed ones take their name from the URN, below).
  ...(o.extensions ?? []).map((e) =>
    schemaDoc(e.urn, e.name ?? defaultName(e.urn), e.description ?? '', attrDefsOf(e), baseUrl),
  ),
];

/** The third-last segment of the URN: `urn:...:CustomExtension:2.0:User` is named `CustomExtension`. */
const defaultName = (urn: string): string => {
  const parts = urn.split(':');
  return parts.length >= 4 ? (parts.at(-3) ?? urn) : urn;
};

const extensionsOf = (extensions: ExtensionSchema[], type: 'User' | 'Group') =>
  extensions
    .filter((e) => e.resourceType === type)
    .map((e) => ({ schema: e.urn, required: false }));

export const resourceTypeDocuments = (baseUrl: string, extensions: ExtensionSchema[] = []) => [
  {
    schemas: [URN.resourceType],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'User Account',
    schema: URN.user,
    schemaExtensions: [
      { schema: URN.enterprise, required: false },
      ...extensionsOf(extensions, 'User'),
    ],
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/User` },
  },
  {
    schemas: [URN.resourceType],
    id: 'Group',
    name: 'Group',
    endpoint: '/Groups',
    description: 'Group',
    schema: URN.group,
    schemaExtensions: extensionsOf(extensions, 'Group'),
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/Group` },
  },
];

export const serviceProviderConfig = (baseUrl: string, maxResults: number) => ({
  schemas: [URN.serviceProviderConfig],
  documentationUri: 'https://datatracker.ietf.org/doc/html/rfc7644',
  patch: { supported: true },
  bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
  filter: { supported: true, maxResults },
  changePassword: { supported: false },
  sort: { supported: true },
  etag: { supported: true },
  authenticationSchemes: [
    {
      type: 'oauthbearertoken',
      name: 'OAuth Bearer Token',
      description: 'Bearer token issued by the directory administrator',
      specUri: 'https://www.rfc-editor.org/info/rfc6750',
      primary: true,
    },
  ],
  meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
});

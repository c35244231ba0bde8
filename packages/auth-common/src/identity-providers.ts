import { z } from 'zod';
import { userFlowFromMetadataUrl } from './azure-ad-config';

// The identity providers a validator trusts. Each token is validated only against the
// provider whose keys signed it: that provider's issuers, audiences and tenant. Trusting
// B2C and External ID side by side (a migration window) therefore never cross-accepts.

export type IdentityProviderKind = 'b2c' | 'external-id' | 'entra';

interface ProviderBaseOptions {
  /** Unique label reported on the principal (`provider.name`); default the kind. */
  name?: string;
  /**
   * Audiences of this provider's tokens (this API's app registration in that tenant);
   * default the top-level `audience` / `clientID`.
   */
  audience?: string | string[];
  /** Accepted issuers; default the `issuer` of this provider's metadata documents. */
  issuer?: string | string[];
  /**
   * Claim carrying a migrated user's former B2C object id, e.g.
   * `extension_<appId without dashes>_legacyB2cObjectId`; exposed as `legacyObjectId`.
   */
  legacyObjectIdClaim?: string;
}

/** Azure AD B2C: one metadata URL per user flow; `tfp` (or `acr`) names the flow. */
export interface B2cProviderOptions extends ProviderBaseOptions {
  kind: 'b2c';
  identityMetadata: string | string[];
  /** Accepted user flows; default the flows of the metadata URLs. */
  userFlows?: string[];
  /** Reported as the principal's `tenantId` when the token carries no `tid`. */
  tenantId?: string;
}

/** Microsoft Entra External ID (external tenant): one tenant metadata URL, no user flow. */
export interface ExternalIdProviderOptions extends ProviderBaseOptions {
  kind: 'external-id';
  /** Tenant id (GUID); every token must carry it as `tid`. */
  tenantId: string;
  /** `externalIdMetadataUrl({ subdomain, tenantId })`. */
  identityMetadata: string;
  /** authorize endpoint named in claims challenges; default the metadata's `authorization_endpoint`. */
  authorizationUri?: string;
}

/** Microsoft Entra ID (workforce tenant), e.g. for app-only tokens of daemons. */
export interface EntraProviderOptions extends ProviderBaseOptions {
  kind: 'entra';
  identityMetadata: string | string[];
  /** When set, every token must carry it as `tid`. */
  tenantId?: string;
  authorizationUri?: string;
}

export type IdentityProviderOptions =
  B2cProviderOptions | ExternalIdProviderOptions | EntraProviderOptions;

/** A provider after validation; `legacy` is the single provider of the top-level options. */
export interface ResolvedProvider {
  kind: IdentityProviderKind | 'legacy';
  name: string;
  metadataUrls: string[];
  audiences: string[];
  /** undefined: the issuers of the metadata documents that published the signing key. */
  issuers: string[] | undefined;
  validateIssuer: boolean;
  /** B2C (and legacy with isB2C): accepted user flows, lower-cased; empty = any. */
  allowedUserFlows: string[];
  /** Lower-cased; tokens must carry it as `tid` (except B2C, where it only fills the principal). */
  tenantId: string | undefined;
  authorizationUri: string | undefined;
  legacyObjectIdClaim: string | undefined;
}

/** Reference to the provider that issued a principal's token. */
export interface ProviderRef {
  readonly kind: IdentityProviderKind;
  readonly name: string;
}

const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const base = {
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only')
    .optional(),
  audience: stringOrList.optional(),
  issuer: stringOrList.optional(),
  legacyObjectIdClaim: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be a claim name')
    .optional(),
};

export const providerSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('b2c'),
      identityMetadata: stringOrList,
      userFlows: z.array(z.string().min(1)).min(1).optional(),
      tenantId: z.string().min(1).optional(),
      ...base,
    })
    .strict(),
  z
    .object({
      kind: z.literal('external-id'),
      tenantId: z.string().regex(GUID, 'must be the tenant id (GUID)'),
      identityMetadata: z.string().min(1),
      authorizationUri: z.url().optional(),
      ...base,
    })
    .strict(),
  z
    .object({
      kind: z.literal('entra'),
      identityMetadata: stringOrList,
      tenantId: z.string().regex(GUID, 'must be the tenant id (GUID)').optional(),
      authorizationUri: z.url().optional(),
      ...base,
    })
    .strict(),
]);

export interface ProviderResolution {
  defaultAudiences: string[];
  checkUrl: (url: string) => string;
  fail: (message: string) => never;
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? [...v] : [v];
const unique = (values: string[]): string[] => [...new Set(values)];

export function resolveProviders(
  input: readonly z.infer<typeof providerSchema>[],
  r: ProviderResolution,
): ResolvedProvider[] {
  const providers = input.map((p): ResolvedProvider => {
    const metadataUrls = unique(list(p.identityMetadata).map(r.checkUrl));
    const audiences = p.audience === undefined ? r.defaultAudiences : unique(list(p.audience));
    const name = p.name ?? p.kind;
    if (audiences.length === 0) {
      r.fail(`provider ${name}: audience is required (here or at the top level)`);
    }
    const flows =
      p.kind === 'b2c'
        ? (p.userFlows ?? metadataUrls.map(userFlowFromMetadataUrl).filter((f) => f !== undefined))
        : [];
    if (p.kind === 'b2c' && flows.length === 0) {
      r.fail(`provider ${name}: userFlows are required when the metadata URLs name none`);
    }
    return {
      kind: p.kind,
      name,
      metadataUrls,
      audiences,
      issuers: p.issuer === undefined ? undefined : unique(list(p.issuer)),
      validateIssuer: true,
      allowedUserFlows: unique(flows.map((f) => f.toLowerCase())),
      tenantId: p.tenantId?.toLowerCase(),
      authorizationUri: p.kind === 'b2c' ? undefined : p.authorizationUri,
      legacyObjectIdClaim: p.legacyObjectIdClaim,
    };
  });
  const names = providers.map((p) => p.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) r.fail(`provider names must be unique (${duplicate}); set name`);
  return providers;
}

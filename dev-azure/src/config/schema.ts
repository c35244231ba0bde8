// Schema of dev-azure/config/dev-azure.json: the one declarative file that
// describes tenants, app registrations, user flows, seed users and the vault.
// Objects are strict so a typo fails at boot instead of being ignored.
import { z } from 'zod';

const guid = z.guid();
const description = z.string().optional();

/** Names used in URLs and references. */
const handle = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes');

export const clientSecretSchema = z
  .strictObject({
    description,
    /** Plain value (dev only): hashed at load, never kept or logged. */
    value: z.string().min(16, 'client secrets have at least 16 characters').optional(),
    /** Hex SHA-256 of the secret, for those who would rather not keep the value in the file. */
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'hex SHA-256')
      .optional(),
    /** ISO date-time after which the secret is refused (AADSTS7000222). */
    expires: z.iso.datetime({ offset: true }).optional(),
  })
  .refine(
    (s) => (s.value === undefined) !== (s.sha256 === undefined),
    'give exactly one of "value" or "sha256"',
  );

export const certificateCredentialSchema = z.union([
  z.strictObject({
    description,
    pem: z.string().includes('-----BEGIN CERTIFICATE-----', { message: 'a PEM certificate' }),
  }),
  z.strictObject({
    description,
    keyVaultCertificate: z.string().regex(/^[0-9a-zA-Z-]{1,127}$/, 'a Key Vault certificate name'),
  }),
]);

export const federatedCredentialSchema = z
  .strictObject({
    name: z.string().min(1),
    description,
    /** External issuer URL, matched exactly (as Entra does). */
    issuer: z.url({ protocol: /^https$/ }).optional(),
    /** Or the name of a local cluster issuer served by this stand-in. */
    clusterIssuer: handle.optional(),
    subject: z.string().min(1),
    audiences: z.array(z.string().min(1)).min(1).default(['api://AzureADTokenExchange']),
  })
  .refine(
    (f) => (f.issuer === undefined) !== (f.clusterIssuer === undefined),
    'give exactly one of "issuer" or "clusterIssuer"',
  );

const permissionValue = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a permission value such as Accounts.Read');

export const exposedScopeSchema = z.strictObject({
  value: permissionValue,
  id: guid.optional(),
  description,
});

export const appRoleSchema = z.strictObject({
  value: permissionValue,
  id: guid.optional(),
  description,
  allowedMemberTypes: z.array(z.enum(['Application', 'User'])).default(['Application']),
});

/** Application permissions granted (admin-consented) to a client on a resource. */
export const appRoleGrantSchema = z.strictObject({
  /** Resource app: name, client id or identifier URI, in the tenant where the grant lives. */
  resource: z.string().min(1),
  roles: z.array(permissionValue).min(1),
});

/** Delegated permissions (scopes) granted to a client on a resource. */
export const delegatedGrantSchema = z.strictObject({
  resource: z.string().min(1),
  scopes: z.array(permissionValue).min(1),
});

export const appSchema = z.strictObject({
  /** Stable handle used for references in this file. */
  name: handle,
  displayName: z.string().min(1),
  description,
  clientId: guid,
  /** Object id of the app's service principal in its home tenant (the `oid` of its app-only tokens). */
  servicePrincipalId: guid,
  /** Public clients (SPA, native) have no credentials and must use PKCE S256. */
  publicClient: z.boolean().default(false),
  signInAudience: z.enum(['AzureADMyOrg', 'AzureADMultipleOrgs']).default('AzureADMyOrg'),
  /** Reply URLs. A `localhost` URL matches any port, as Azure allows for loopback. */
  redirectUris: z.array(z.url()).default([]),
  /**
   * Single-page application platform reply URLs (Entra's "spa" type): codes issued to them are
   * redeemed only cross-origin (with an Origin header, AADSTS9002327 otherwise), and a code for
   * any other reply URL never is (AADSTS9002326).
   */
  spaRedirectUris: z.array(z.url()).default([]),
  /** Extra URLs allowed as post_logout_redirect_uri (redirectUris are allowed too). */
  logoutUris: z.array(z.url()).default([]),
  secrets: z.array(clientSecretSchema).default([]),
  certificates: z.array(certificateCredentialSchema).default([]),
  federatedCredentials: z.array(federatedCredentialSchema).default([]),
  identifierUris: z.array(z.string().min(1)).default([]),
  scopes: z.array(exposedScopeSchema).default([]),
  appRoles: z.array(appRoleSchema).default([]),
  grantedAppRoles: z.array(appRoleGrantSchema).default([]),
  apiPermissions: z.array(delegatedGrantSchema).default([]),
  /** Optional claims (external tenants): added to ID tokens issued to this client / access tokens issued for this API. */
  optionalClaims: z
    .strictObject({
      idToken: z.array(z.enum(['auth_time', 'email', 'given_name', 'family_name'])).default([]),
      accessToken: z
        .array(z.enum(['auth_time', 'email', 'given_name', 'family_name', 'xms_cc']))
        .default([]),
    })
    .default({ idToken: [], accessToken: [] }),
});

/** A multi-tenant app from another tenant, provisioned (consented) in this one. */
export const servicePrincipalSchema = z.strictObject({
  /** "<home tenant name>/<app name>". */
  app: z.string().regex(/^[a-z0-9]+\/[a-z0-9][a-z0-9-]*$/, '"<tenant>/<app>"'),
  objectId: guid,
  description,
  grantedAppRoles: z.array(appRoleGrantSchema).default([]),
});

export const userFlowSchema = z.strictObject({
  /** As in Azure: B2C_1_<name>. Matched case-insensitively (MSAL lower-cases it). */
  name: z.string().regex(/^B2C_1A?_[A-Za-z0-9_-]+$/, 'a user flow name such as B2C_1_signupsignin'),
  type: z.enum(['signUpOrSignIn', 'signIn', 'signUp', 'profileEdit', 'passwordReset']),
  description,
  mfa: z.enum(['off', 'totp']).default('off'),
  /** Emit the flow name as `acr` instead of `tfp`. */
  acrClaim: z.boolean().default(false),
  accessTokenLifetimeMinutes: z.number().int().min(5).max(1440).default(60),
  idTokenLifetimeMinutes: z.number().int().min(5).max(1440).default(60),
  refreshTokenLifetimeDays: z.number().int().min(1).max(90).default(14),
});

export const seedUserSchema = z.strictObject({
  objectId: guid,
  email: z.email(),
  /** Dev password; stored as an scrypt hash. */
  password: z.string().min(1),
  givenName: z.string().min(1),
  surname: z.string().min(1),
  displayName: z.string().min(1),
  /** External tenants: the user's object id in the B2C tenant it was migrated from (an extension attribute). */
  legacyB2cObjectId: guid.optional(),
  /** External tenants: phone number for SMS one-time passcodes (E.164). */
  phone: z
    .string()
    .regex(/^\+[1-9][0-9]{6,14}$/, 'an E.164 phone number such as +15550100')
    .optional(),
});

/** A Conditional Access authentication context (external tenants), e.g. c1 for step-up. */
export const authenticationContextSchema = z.strictObject({
  id: z.string().regex(/^c([1-9]|[1-9][0-9])$/, 'c1 to c99'),
  displayName: z.string().min(1),
  description,
});

/** A Conditional Access policy (external tenants): who must do MFA, for which apps or authentication context. */
export const conditionalAccessPolicySchema = z
  .strictObject({
    name: z.string().min(1),
    description,
    /** Applies when a token is asked for one of these apps (as client or resource): app names. */
    apps: z.array(handle).optional(),
    /** Or when the client asks for this authentication context (claims request parameter). */
    authenticationContext: z.string().optional(),
    grant: z.literal('mfa').default('mfa'),
  })
  .refine(
    (c) => (c.apps === undefined) !== (c.authenticationContext === undefined),
    'give exactly one of "apps" or "authenticationContext"',
  );

export const tenantSchema = z.strictObject({
  /** Short name: "contoso" serves /contoso.onmicrosoft.com/... */
  name: z.string().regex(/^[a-z0-9]{2,}$/, 'lower-case letters and digits'),
  id: guid,
  type: z.enum(['b2c', 'workforce', 'external']),
  /** External tenants: the <subdomain> of <subdomain>.ciamlogin.com (default: the tenant name). */
  subdomain: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes')
    .optional(),
  displayName: z.string().optional(),
  description,
  apps: z.array(appSchema).default([]),
  servicePrincipals: z.array(servicePrincipalSchema).default([]),
  userFlows: z.array(userFlowSchema).default([]),
  users: z.array(seedUserSchema).default([]),
  /** External tenants: customers may create accounts from the sign-in page (email + password). */
  selfServiceSignUp: z.boolean().default(true),
  /** External tenants: second factors Conditional Access may ask for (SMS only for users with a phone). */
  mfaMethods: z.array(z.enum(['emailOtp', 'sms'])).default(['emailOtp']),
  authenticationContexts: z.array(authenticationContextSchema).default([]),
  conditionalAccessPolicies: z.array(conditionalAccessPolicySchema).default([]),
  /** Smart lockout (Entra's defaults): wrong passwords before an account locks, and for how long. */
  smartLockout: z
    .strictObject({
      threshold: z.number().int().min(1).max(1000).default(10),
      durationSeconds: z.number().int().min(1).max(86_400).default(60),
    })
    .default({ threshold: 10, durationSeconds: 60 }),
  /** External tenants: claim carrying a user's legacyB2cObjectId (extension attribute emitted as an optional claim). */
  legacyIdClaim: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_.]{0,127}$/)
    .default('extn.legacyB2cObjectId'),
});

export const keyVaultRoleSchema = z.enum([
  'Key Vault Crypto User',
  'Key Vault Certificates Officer',
  'Key Vault Administrator',
  'Key Vault Reader',
]);

export const keyVaultSchema = z.strictObject({
  description,
  /** Tenant (name or id) whose tokens the vault accepts. */
  tenant: z.string().min(1),
  roleAssignments: z
    .array(
      z.strictObject({
        /** App name, "<tenant>/<app>", client id or object id. */
        principal: z.string().min(1),
        role: keyVaultRoleSchema,
        /** e.g. "keys/policy-daemon"; absent = whole vault. */
        scope: z.string().optional(),
      }),
    )
    .default([]),
  rateLimitPerSecond: z.number().positive().optional(),
  seedCertificates: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[0-9a-zA-Z-]{1,127}$/),
        subject: z.string().startsWith('CN='),
        /** Recorded in the policy; the vault never hands out private keys either way. */
        exportable: z.boolean().default(false),
        /** RSA only: the broker signs its assertions with PS256/RS256. */
        keyType: z.literal('RSA').default('RSA'),
        keySize: z.union([z.literal(2048), z.literal(3072), z.literal(4096)]).default(2048),
      }),
    )
    .default([]),
});

export const clusterIssuerSchema = z.strictObject({ name: handle, description });

export const devAzureConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  $comment: z.union([z.string(), z.array(z.string())]).optional(),
  clusterIssuers: z.array(clusterIssuerSchema).default([{ name: 'local' }]),
  tenants: z.array(tenantSchema).min(1),
  keyVault: keyVaultSchema.optional(),
});

/** The configuration after validation, defaults filled in. */
export type DevAzureConfig = z.output<typeof devAzureConfigSchema>;
/** What may be written in the file or passed in code (defaults optional). */
export type DevAzureConfigInput = z.input<typeof devAzureConfigSchema>;
export type TenantConfig = DevAzureConfig['tenants'][number];
export type AppConfig = TenantConfig['apps'][number];
export type UserFlowConfig = TenantConfig['userFlows'][number];
export type KeyVaultConfig = NonNullable<DevAzureConfig['keyVault']>;

// Programmatic helpers for tests and local development (not HTTP routes):
// tokens signed exactly as the real flows sign them, the current TOTP code,
// the last password-reset code, signing-key rotation.
import type { TenantConfig, UserFlowConfig } from '../config/schema';
import type { UserRecord } from '../store/state-store';
import { nowSeconds } from '../util/encoding';
import type { IdentityContext } from './context';
import { currentCode } from './b2c/totp';
import { resolveExternalScopes } from './external/scopes';
import { buildExternalTokenResponse, type EntraTokenResponse } from './external/tokens';
import type { CodePurpose } from './signin/mailbox';
import type { NewUser } from './signin/users';
import { mintAppToken, resolveDefaultScope } from './tokens/app-token';
import {
  buildUserTokenResponse,
  resolveUserScopes,
  type B2CTokenResponse,
} from './tokens/user-token';

export interface IssueUserTokenOptions {
  /** Tenant name ("contoso") or id. */
  tenant: string;
  /** User flow name, any case ("B2C_1_signupsignin_mfa"). */
  flow: string;
  userEmail?: string;
  oid?: string;
  /** The client app (azp) the token is issued to. */
  clientId: string;
  /** As the client would request them, e.g. ["https://contoso.onmicrosoft.com/policy-api/Accounts.Read"]. */
  scopes: string[];
  /** Epoch seconds; default now. */
  authTime?: number;
  nonce?: string;
}

export interface IssueExternalTokenOptions {
  /** External tenant name ("contosoext") or id. */
  tenant: string;
  userEmail?: string;
  oid?: string;
  clientId: string;
  /** e.g. ["api://<policy-api client id>/Accounts.Write"] or ["User.ReadWrite"]. */
  scopes: string[];
  /** Satisfied authentication contexts (acrs). Default none. */
  acrs?: string[];
  /** Client capabilities (xms_cc), emitted if the API asks for the optional claim. */
  clientCapabilities?: string[];
  authTime?: number;
  nonce?: string;
}

export interface TestUser {
  oid: string;
  email: string;
  givenName: string;
  surname: string;
  displayName: string;
  totpEnrolled: boolean;
  legacyB2cObjectId?: string;
}

export interface IdentityTestApi {
  /** An access token exactly as the user flow would issue it (same claims, key and rules for scopes). */
  issueUserAccessToken(o: IssueUserTokenOptions): Promise<string>;
  /** The whole token response (access, ID token, client_info...) without a refresh token. */
  issueUserTokens(o: IssueUserTokenOptions): Promise<B2CTokenResponse>;
  /** An app-only token as client credentials would issue it; `scope` is "<resource>/.default". */
  issueAppAccessToken(o: { tenant: string; clientId: string; scope: string }): Promise<string>;
  /** The TOTP code the user's authenticator shows now (enrolled or pending enrolment). */
  currentTotp(email: string, o?: { tenant?: string; offsetSteps?: number }): Promise<string>;
  /** The last password-reset verification code sent to `email`. */
  passwordResetCode(email: string, o?: { tenant?: string }): string | undefined;
  /** The last one-time code mailed or texted to `to` (email or phone), as /_dev/mailbox shows it. */
  lastMailedCode(to: string, o?: { tenant?: string; purpose?: CodePurpose }): string | undefined;
  /**
   * External tenants: the token response the token endpoint would give after a sign-in (no refresh token),
   * e.g. with `acrs: ['c1']` and an old `authTime` to test step-up checks.
   */
  issueExternalUserTokens(o: IssueExternalTokenOptions): Promise<EntraTokenResponse>;
  /** Adds a new active signing key; the old one stays published. Returns the new kid. */
  rotateSigningKey(tenant: string): Promise<string>;
  findUser(email: string, o?: { tenant?: string }): TestUser | undefined;
  /** `legacyB2cObjectId` (external tenants) may repeat another user's, to test refusals. */
  createUser(u: NewUser & { tenant: string }): Promise<TestUser>;
  /** Waits until the persisted state is on disk. */
  flush(): Promise<void>;
}

export function createTestApi(ctx: IdentityContext): IdentityTestApi {
  const tenantOrThrow = (ref: string): TenantConfig => {
    const t = ctx.directory.tenant(ref);
    if (!t) throw new Error(`unknown tenant ${ref}`);
    return t;
  };
  const b2cTenants = (ref?: string): TenantConfig[] =>
    ref ? [tenantOrThrow(ref)] : ctx.directory.config.tenants.filter((t) => t.type === 'b2c');
  const interactiveTenants = (ref?: string): TenantConfig[] =>
    ref ? [tenantOrThrow(ref)] : ctx.directory.config.tenants.filter((t) => t.type !== 'workforce');
  const findUser = (
    email: string,
    ref?: string,
  ): { tenant: TenantConfig; user: UserRecord } | undefined => {
    for (const tenant of interactiveTenants(ref)) {
      const user = ctx.users.byEmail(tenant.id, email);
      if (user) return { tenant, user };
    }
    return undefined;
  };
  const view = (u: UserRecord): TestUser => ({
    oid: u.oid,
    email: u.email,
    givenName: u.givenName,
    surname: u.surname,
    displayName: u.displayName,
    totpEnrolled: u.totp?.confirmed === true,
    ...(u.legacyB2cObjectId ? { legacyB2cObjectId: u.legacyB2cObjectId } : {}),
  });

  const userTokens = async (o: IssueUserTokenOptions): Promise<B2CTokenResponse> => {
    const tenant = tenantOrThrow(o.tenant);
    const flow: UserFlowConfig | undefined = ctx.directory.flow(tenant, o.flow);
    if (!flow) throw new Error(`unknown user flow ${o.flow} in ${tenant.name}`);
    const client = ctx.directory.app(o.clientId);
    if (!client || client.home !== tenant)
      throw new Error(`unknown client ${o.clientId} in ${tenant.name}`);
    const user = o.oid
      ? ctx.users.byOid(tenant.id, o.oid)
      : o.userEmail
        ? ctx.users.byEmail(tenant.id, o.userEmail)
        : undefined;
    if (!user) throw new Error('unknown user (give userEmail or oid of an existing user)');
    const scopes = resolveUserScopes(ctx.directory, tenant, client, ['openid', ...o.scopes]);
    return buildUserTokenResponse(
      {
        baseUrl: ctx.baseUrl(),
        tenant,
        flow,
        client,
        user,
        scopes,
        authTime: o.authTime ?? nowSeconds(),
        nonce: o.nonce,
      },
      ctx.keys,
      undefined,
    );
  };

  return {
    issueUserTokens: userTokens,
    async issueUserAccessToken(o) {
      const r = await userTokens(o);
      if (!r.access_token)
        throw new Error(
          'the scopes ask for no access token (name a resource scope or the client id)',
        );
      return r.access_token;
    },
    async issueAppAccessToken(o) {
      const tenant = tenantOrThrow(o.tenant);
      const principal = ctx.directory.principal(tenant, o.clientId);
      if (!principal)
        throw new Error(`client ${o.clientId} has no service principal in ${tenant.name}`);
      const resource = resolveDefaultScope(ctx.directory, tenant, o.scope);
      const method = principal.app.secrets.length > 0 ? 'client_secret' : 'private_key_jwt';
      return mintAppToken({ baseUrl: ctx.baseUrl(), tenant, principal, resource, method }, ctx)
        .access_token;
    },
    async currentTotp(email, o = {}) {
      const found = findUser(email, o.tenant);
      if (!found?.user.totp) throw new Error(`no TOTP secret for ${email}`);
      return currentCode(found.user.totp.secret, o.offsetSteps ?? 0);
    },
    passwordResetCode(email, o = {}) {
      for (const tenant of b2cTenants(o.tenant)) {
        const code = ctx.mailbox.lastCode(email, { tenantId: tenant.id, purpose: 'passwordReset' });
        if (code) return code;
      }
      return undefined;
    },
    lastMailedCode(to, o = {}) {
      return ctx.mailbox.lastCode(to, {
        tenantId: o.tenant ? tenantOrThrow(o.tenant).id : undefined,
        purpose: o.purpose,
      });
    },
    async issueExternalUserTokens(o) {
      const tenant = tenantOrThrow(o.tenant);
      if (tenant.type !== 'external') throw new Error(`${tenant.name} is not an external tenant`);
      const client = ctx.directory.app(o.clientId);
      if (!client || client.home !== tenant)
        throw new Error(`unknown client ${o.clientId} in ${tenant.name}`);
      const user = o.oid
        ? ctx.users.byOid(tenant.id, o.oid)
        : o.userEmail
          ? ctx.users.byEmail(tenant.id, o.userEmail)
          : undefined;
      if (!user) throw new Error('unknown user (give userEmail or oid of an existing user)');
      const scopes = resolveExternalScopes(ctx, tenant, client, ['openid', 'profile', ...o.scopes]);
      const resource = scopes.audience
        ? ctx.directory.resource(tenant, scopes.audience)
        : undefined;
      return buildExternalTokenResponse(
        {
          baseUrl: ctx.baseUrl(),
          tenant,
          client,
          resource: resource?.kind === 'app' ? resource.app : undefined,
          user,
          scopes,
          authTime: o.authTime ?? nowSeconds(),
          nonce: o.nonce,
          acrs: o.acrs ?? [],
          clientCapabilities: o.clientCapabilities ?? [],
          clientAuth: client.confidential ? '1' : '0',
        },
        ctx.keys,
        undefined,
      );
    },
    async rotateSigningKey(tenant) {
      return ctx.keys.rotate(tenantOrThrow(tenant).id);
    },
    findUser(email, o = {}) {
      const found = findUser(email, o.tenant);
      return found ? view(found.user) : undefined;
    },
    async createUser(u) {
      const tenant = tenantOrThrow(u.tenant);
      if (ctx.users.byEmail(tenant.id, u.email)) throw new Error(`user ${u.email} exists`);
      return view(await ctx.users.create(tenant.id, u));
    },
    flush: () => ctx.store.flush(),
  };
}

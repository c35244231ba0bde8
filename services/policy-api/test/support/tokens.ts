// policy-api's tokens from the shared test issuer (@idp/testing TokenIssuer): B2C user-flow
// tokens shaped like the portal's (tfp/acr, scp, oid, sub, auth_time, azp, ver 1.0), app-only
// tokens of the daemon (Entra v2, roles), and the environment that trusts them.
import { appClaims, TestKey, TokenIssuer, type Claims } from '@idp/testing';

export const SIGN_IN_FLOW = 'B2C_1_signupsignin';
export const MFA_FLOW = 'B2C_1_signupsignin_mfa';
export const API_CLIENT_ID = '1d5a0a76-3f56-4b6a-a5fa-4dc21dbc0c05';
export const PORTAL_CLIENT_ID = 'ee83192a-329f-477d-922a-8241a2c16afb';
export const DAEMON_CLIENT_ID = 'aff97b82-4dc1-4009-95e5-cce46939e38a';

export interface UserTokenOptions {
  oid: string;
  flow?: string;
  scopes?: string[];
  /** Seconds since the epoch; default now. */
  authTime?: number;
  /** Put the flow in `acr` instead of `tfp` (B2C's other claim shape). */
  flowClaim?: 'tfp' | 'acr';
  audience?: string;
  /** B2C `emails` claim (mutable; must never select a policy). */
  emails?: string[];
}

export interface AppTokenOptions {
  roles?: string[];
  appId?: string;
  audience?: string;
}

/**
 * The shared issuer with policy-api's defaults. B2C flows and the Entra tenant sign with the
 * issuer's default key; External ID (`ciam`) has a key of its own, so a token signed for one
 * provider never verifies as another's (see ExternalIdTenant in ./external-id).
 */
export class PolicyApiTokens {
  private constructor(readonly shared: TokenIssuer) {}

  static async start(): Promise<PolicyApiTokens> {
    const [shared, ciamKey] = await Promise.all([
      TokenIssuer.start({ flows: [SIGN_IN_FLOW, MFA_FLOW], audience: API_CLIENT_ID }),
      TestKey.generate('ciam-key-1'),
    ]);
    shared.setKeys('ciam', [ciamKey]);
    return new PolicyApiTokens(shared);
  }

  stop(): Promise<void> {
    return this.shared.stop();
  }

  /** The B2C issuer (`{base}/{tenantId}/v2.0/`), shared by every user flow. */
  get issuer(): string {
    return this.shared.b2cIssuer;
  }

  /** Environment for policy-api trusting both user flows and the daemon's tenant. */
  env(): Record<string, string> {
    return {
      B2C_IDENTITY_METADATA: [SIGN_IN_FLOW, MFA_FLOW]
        .map((f) => this.shared.b2cMetadataUrl(f))
        .join(','),
      APP_IDENTITY_METADATA: this.shared.entraMetadataUrl(),
      API_AUDIENCE: `${API_CLIENT_ID},api://policy-api`,
      AUTH_ALLOW_INSECURE_HTTP: 'true',
    };
  }

  userToken(o: UserTokenOptions): Promise<string> {
    const flow = o.flow ?? SIGN_IN_FLOW;
    return this.shared.b2cToken({
      flow,
      // The flow in `acr` instead: `tfp` dropped (undefined claims are not serialised).
      ...(o.flowClaim === 'acr' ? { tfp: undefined, acr: flow } : {}),
      oid: o.oid,
      sub: o.oid,
      scp: (o.scopes ?? ['Accounts.Read', 'Accounts.Write']).join(' '),
      azp: PORTAL_CLIENT_ID,
      auth_time: o.authTime ?? Math.floor(Date.now() / 1000),
      name: 'Test User',
      emails: o.emails,
      ...(o.audience ? { aud: o.audience } : {}),
    });
  }

  /** Any claims signed with the B2C key, e.g. to forge another provider's issuer. */
  sign(claims: Claims): Promise<string> {
    return this.shared.sign(SIGN_IN_FLOW, claims);
  }

  /** A delegated token of a user of the workforce tenant trusted for daemons (holds no policy). */
  workforceUserToken(oid: string): Promise<string> {
    const { roles: _roles, ...claims } = appClaims({
      iss: this.shared.entraIssuer,
      aud: API_CLIENT_ID,
      tid: this.shared.tenantId,
    });
    return this.shared.sign('entra', {
      ...claims,
      idtyp: 'user',
      oid,
      sub: oid,
      azp: PORTAL_CLIENT_ID,
      scp: 'Accounts.Read Accounts.Write',
    });
  }

  /** A daemon's app-only token; without `roles` it carries none. */
  appToken(o: AppTokenOptions = {}): Promise<string> {
    const appId = o.appId ?? DAEMON_CLIENT_ID;
    const claims = appClaims({
      iss: this.shared.entraIssuer,
      aud: o.audience ?? API_CLIENT_ID,
      tid: this.shared.tenantId,
      azp: appId,
      appid: appId,
      roles: o.roles ?? [],
    });
    if (!o.roles) delete claims.roles;
    return this.shared.sign('entra', claims);
  }
}

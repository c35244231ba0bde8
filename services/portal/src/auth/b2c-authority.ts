// B2C authorities: one per user flow, on the tenant's b2clogin host (or the dev stand-in).
import type { PortalConfig } from '../config';
import { CustomerAuthority, type FlowKind } from './customer-authority';
import { EXTERNAL_ID_FLOW } from './external-id-authority';

export type { FlowKind };

export class B2cAuthority extends CustomerAuthority {
  readonly kind = 'b2c' as const;
  readonly clientCapabilities: string[] = [];
  readonly peerService = 'b2c';
  readonly providerName = 'Azure AD B2C';
  readonly secondFactor = 'your authenticator app';
  private readonly host: string;
  private readonly tenantDomain: string;
  readonly clientId: string;

  constructor(private readonly c: PortalConfig) {
    super();
    // Present whenever CUSTOMER_IDENTITY_PROVIDER=b2c (config.ts refuses to boot otherwise).
    this.host = c.B2C_AUTHORITY_HOST ?? '';
    this.tenantDomain = c.B2C_TENANT_DOMAIN ?? '';
    this.clientId = c.B2C_CLIENT_ID ?? '';
  }

  flowName(kind: FlowKind): string {
    switch (kind) {
      case 'signUpSignIn':
        return this.c.B2C_SIGNUP_SIGNIN_FLOW;
      case 'mfa':
        return this.c.B2C_MFA_FLOW;
      case 'profileEdit':
        return this.c.B2C_PROFILE_EDIT_FLOW;
      case 'passwordReset':
        return this.c.B2C_PASSWORD_RESET_FLOW;
    }
  }

  /** Any user flow (one renamed in the configuration still issued its sessions), not External ID's key. */
  issued(flow: string): boolean {
    return flow !== EXTERNAL_ID_FLOW;
  }

  /** The flow a step-up challenge's acr_values asks for (B2C puts the flow name in `acr`). */
  flowForAcr(acrValues: readonly string[]): string | undefined {
    const known = [this.c.B2C_MFA_FLOW, this.c.B2C_SIGNUP_SIGNIN_FLOW];
    for (const acr of acrValues) {
      const flow = known.find((f) => f.toLowerCase() === acr.toLowerCase());
      if (flow) return flow;
    }
    return undefined;
  }

  /** MSAL lower-cases the flow segment itself; we do the same so cache keys agree. */
  url(flow: string): string {
    return `${this.host}/${this.tenantDomain}/${flow.toLowerCase()}`;
  }

  /** host[:port], as MSAL's knownAuthorities wants it. */
  get knownAuthority(): string {
    return new URL(this.host).host;
  }

  get knownAuthorities(): string[] {
    return [this.knownAuthority];
  }

  get origin(): string {
    return new URL(this.host).origin;
  }
}

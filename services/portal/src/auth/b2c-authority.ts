// B2C authorities: one per user flow, on the tenant's b2clogin host (or the dev stand-in).
import type { PortalConfig } from '../config';

export type FlowKind = 'signUpSignIn' | 'mfa' | 'profileEdit' | 'passwordReset';

export interface B2cMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
  jwks_uri: string;
}

export class B2cAuthority {
  constructor(private readonly c: PortalConfig) {}

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
    return `${this.c.B2C_AUTHORITY_HOST}/${this.c.B2C_TENANT_DOMAIN}/${flow.toLowerCase()}`;
  }

  /** host[:port], as MSAL's knownAuthorities wants it. */
  get knownAuthority(): string {
    return new URL(this.c.B2C_AUTHORITY_HOST).host;
  }

  get origin(): string {
    return new URL(this.c.B2C_AUTHORITY_HOST).origin;
  }
}

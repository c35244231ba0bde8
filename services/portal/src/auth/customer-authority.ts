// What the sign-in code needs from the customer identity provider, whichever it is:
// Azure AD B2C (one authority per user flow) or Entra External ID (one authority,
// user flows attached to the app, step-up through Conditional Access claims).
import type { CustomerIdentityProvider } from '../config';

export type FlowKind = 'signUpSignIn' | 'mfa' | 'profileEdit' | 'passwordReset';

export interface AuthorityMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
  jwks_uri: string;
}

export abstract class CustomerAuthority {
  abstract readonly kind: CustomerIdentityProvider;
  /** The application (client) id of the portal in this provider. */
  abstract readonly clientId: string;
  /** MSAL clientCapabilities: External ID needs cp1 to receive claims challenges. */
  abstract readonly clientCapabilities: string[];
  /** For span attributes: b2c or external-id. */
  abstract readonly peerService: string;
  /** The authority key for a kind of request (a B2C user flow; External ID has one authority). */
  abstract flowName(kind: FlowKind): string;
  /** The B2C flow a step-up challenge's acr_values names (none on External ID). */
  abstract flowForAcr(acrValues: readonly string[]): string | undefined;
  /** The MSAL authority URL for `flow`. */
  abstract url(flow: string): string;
  /** host[:port] entries for MSAL's knownAuthorities. */
  abstract readonly knownAuthorities: string[];
  /** Origin of the sign-in pages (CSP form-action). */
  abstract readonly origin: string;
  /** For pages: who issues the ID token, and how the user proves it is them at step-up. */
  abstract readonly providerName: string;
  abstract readonly secondFactor: string;

  /**
   * Whether a session's flow (the one that issued its ID token, or a pending request's) belongs to
   * this provider: after a switch between B2C and External ID, sessions and requests of the other
   * one are forgotten (session-hooks), not shown as signed in.
   */
  abstract issued(flow: string): boolean;

  metadataUrl(flow: string): string {
    return `${this.url(flow)}/v2.0/.well-known/openid-configuration`;
  }
}

// Entra External ID: one authority for every request (user flows are attached to
// the app registration, not named in the URL). https://<subdomain>.ciamlogin.com/
// becomes https://<subdomain>.ciamlogin.com/<subdomain>.onmicrosoft.com, as MSAL
// itself rewrites a CIAM authority without a tenant.
import type { PortalConfig } from '../config';
import { CustomerAuthority, type FlowKind } from './customer-authority';

/** The one key External ID requests are cached under (there are no user flows). */
export const EXTERNAL_ID_FLOW = 'external-id';
/** The client capability that lets the portal receive claims challenges (xms_cc). */
export const CP1 = 'cp1';

export function externalIdAuthorityUrl(configured: string): string {
  const u = new URL(configured);
  const path = u.pathname.replace(/\/+$/, '');
  const ciam = /^([a-z0-9-]+)\.ciamlogin\.com$/i.exec(u.hostname);
  const subdomain = ciam?.[1];
  if (path === '' && subdomain) return `${u.origin}/${subdomain.toLowerCase()}.onmicrosoft.com`;
  return `${u.origin}${path}`;
}

export class ExternalIdAuthority extends CustomerAuthority {
  readonly kind = 'external-id' as const;
  readonly clientCapabilities = [CP1];
  readonly peerService = 'external-id';
  readonly providerName = 'Microsoft Entra External ID';
  readonly secondFactor = 'a one-time code sent to you';
  readonly clientId: string;
  readonly knownAuthorities: string[];
  readonly origin: string;
  private readonly authority: string;

  constructor(c: PortalConfig) {
    super();
    // Present whenever CUSTOMER_IDENTITY_PROVIDER=external-id (config.ts refuses to boot otherwise).
    this.authority = externalIdAuthorityUrl(
      c.EXTERNAL_ID_AUTHORITY ?? 'https://invalid.ciamlogin.com/',
    );
    this.clientId = c.EXTERNAL_ID_CLIENT_ID ?? '';
    const u = new URL(this.authority);
    this.origin = u.origin;
    this.knownAuthorities =
      c.EXTERNAL_ID_KNOWN_AUTHORITIES.length > 0 ? c.EXTERNAL_ID_KNOWN_AUTHORITIES : [u.host];
  }

  flowName(_kind: FlowKind): string {
    return EXTERNAL_ID_FLOW;
  }

  issued(flow: string): boolean {
    return flow === EXTERNAL_ID_FLOW;
  }

  flowForAcr(): undefined {
    return undefined;
  }

  url(): string {
    return this.authority;
  }
}

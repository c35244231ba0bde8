// External ID tokens for policy-api tests, from the shared test issuer's External ID tenant
// (@idp/testing TokenIssuer, realm `ciam`): ciamlogin-shaped metadata (issuer
// https://<tid>.ciamlogin.com/<tid>/v2.0) and a JWKS of its own, served by the same issuer as
// the B2C and app tokens (./tokens).
import { ciamUserClaims, type TokenIssuer } from '@idp/testing';
import type { randomUUID } from 'node:crypto';
import { API_CLIENT_ID, PORTAL_CLIENT_ID } from './tokens';

type Guid = ReturnType<typeof randomUUID>;

/** The migration claim as dev-azure emits it (a directory extension as an optional claim). */
export const LEGACY_CLAIM = 'extn.legacyB2cObjectId';
export const AUTH_CONTEXT = 'c1';

export interface ExternalIdTokenOptions {
  oid: string;
  /** The former B2C object id (migration claim). */
  legacyOid?: string;
  /** `acrs`; default none (a plain sign-in). */
  acrs?: string[];
  /** Seconds since the epoch; default 5 s ago. */
  authTime?: number;
  scopes?: string[];
  /** Another tenant's id for `tid` (and, unless `issuerTenant` says otherwise, the issuer). */
  tenantId?: Guid;
  issuerTenant?: Guid;
  audience?: string;
  /** `xms_cc`; default `['cp1']` (the portal declares it); `[]` leaves the claim out. */
  clientCapabilities?: string[];
  /** Claims to add or replace last. */
  extra?: Record<string, unknown>;
}

export class ExternalIdTenant {
  constructor(readonly idp: TokenIssuer) {}

  get tenantId(): Guid {
    return this.idp.ciamTenantId;
  }

  /** Environment for policy-api trusting this tenant (with the migration claim). */
  env(): Record<string, string> {
    return {
      EXTERNAL_ID_TENANT_ID: this.tenantId,
      EXTERNAL_ID_METADATA: this.idp.ciamMetadataUrl(),
      LEGACY_OBJECT_ID_CLAIM: LEGACY_CLAIM,
    };
  }

  /** Claims of a delegated External ID access token for policy-api. */
  claims(o: ExternalIdTokenOptions): Record<string, unknown> {
    const tid = o.tenantId ?? this.tenantId;
    return {
      ...ciamUserClaims({
        iss: this.idp.ciamIssuer(o.issuerTenant ?? tid),
        aud: o.audience ?? API_CLIENT_ID,
        tid,
        scp: (o.scopes ?? ['Accounts.Read', 'Accounts.Write']).join(' '),
      }),
      oid: o.oid,
      sub: `pairwise-${o.oid}`,
      azp: PORTAL_CLIENT_ID,
      auth_time: o.authTime ?? Math.floor(Date.now() / 1000) - 5,
      ...(o.acrs ? { acrs: o.acrs } : {}),
      ...((o.clientCapabilities ?? ['cp1']).length > 0
        ? { xms_cc: o.clientCapabilities ?? ['cp1'] }
        : {}),
      ...(o.legacyOid ? { [LEGACY_CLAIM]: o.legacyOid } : {}),
      ...o.extra,
    };
  }

  userToken(o: ExternalIdTokenOptions): Promise<string> {
    return this.idp.sign('ciam', this.claims(o));
  }

  /** A step-up token: `acrs` holds the authentication context, fresh auth_time. */
  stepUpToken(o: Omit<ExternalIdTokenOptions, 'acrs'>): Promise<string> {
    return this.userToken({ ...o, acrs: [AUTH_CONTEXT] });
  }
}

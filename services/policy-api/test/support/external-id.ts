// External ID tokens for policy-api tests, from auth-common's own test IdP (LocalIdp): its
// External ID tenants publish ciamlogin-shaped metadata (issuer https://<tid>.ciamlogin.com/<tid>/v2.0)
// and share one JWKS, like Entra's keys. No third issuer: B2C and app tokens still come from
// LocalIssuer.
import { ciamUserClaims } from '../../../../packages/auth-common/test/support/claims';
import { LocalIdp } from '../../../../packages/auth-common/test/support/local-idp';
import { TestKey } from '../../../../packages/auth-common/test/support/test-keys';
import type { randomUUID } from 'node:crypto';
import { API_CLIENT_ID, PORTAL_CLIENT_ID } from './local-issuer';

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
  /** Claims to add or replace last. */
  extra?: Record<string, unknown>;
}

export class ExternalIdTenant {
  private constructor(
    readonly idp: LocalIdp,
    private readonly key: TestKey,
  ) {}

  static async start(): Promise<ExternalIdTenant> {
    const [idp, key] = await Promise.all([LocalIdp.start(), TestKey.generate('ciam-key-1')]);
    idp.setKeys('ciam', [key]);
    return new ExternalIdTenant(idp, key);
  }

  stop(): Promise<void> {
    return this.idp.stop();
  }

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
      ...(o.legacyOid ? { [LEGACY_CLAIM]: o.legacyOid } : {}),
      ...o.extra,
    };
  }

  userToken(o: ExternalIdTokenOptions): Promise<string> {
    return this.key.sign(this.claims(o));
  }

  /** A step-up token: `acrs` holds the authentication context, fresh auth_time. */
  stepUpToken(o: Omit<ExternalIdTokenOptions, 'acrs'>): Promise<string> {
    return this.userToken({ ...o, acrs: [AUTH_CONTEXT] });
  }
}

import { randomUUID } from 'node:crypto';

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export interface TimeClaims {
  iat: number;
  nbf: number;
  exp: number;
}

export const times = (now = nowSeconds(), lifetime = 3600): TimeClaims => ({
  iat: now,
  nbf: now,
  exp: now + lifetime,
});

/** Claims of a B2C delegated access token (as issued for a web API scope). */
export function b2cUserClaims(
  o: { iss: string; aud: string; flow?: string; scp?: string; now?: number } & Record<
    string,
    unknown
  >,
): Record<string, unknown> {
  const { flow = 'B2C_1_signupsignin', scp = 'Accounts.Read', now = nowSeconds(), ...rest } = o;
  const oid = randomUUID();
  return {
    ver: '1.0',
    sub: oid,
    oid,
    name: 'Marge Simpson',
    given_name: 'Marge',
    family_name: 'Simpson',
    emails: ['marge@example.test'],
    tfp: flow,
    scp,
    azp: randomUUID(),
    auth_time: now - 5,
    ...times(now),
    ...rest,
  };
}

/**
 * Claims of an External ID (external tenant) v2 delegated access token: no `tfp`, a pairwise
 * `sub`, the tenant in `tid`; `acrs` / `xms_cc` only when passed.
 */
export function ciamUserClaims(
  o: { iss: string; aud: string; tid: string; scp?: string; now?: number } & Record<
    string,
    unknown
  >,
): Record<string, unknown> {
  const { scp = 'Accounts.Read', now = nowSeconds(), ...rest } = o;
  return {
    ver: '2.0',
    sub: randomUUID(),
    oid: randomUUID(),
    name: 'Marge Simpson',
    preferred_username: 'marge@example.test',
    scp,
    azp: randomUUID(),
    azpacr: '0',
    auth_time: now - 5,
    ...times(now),
    ...rest,
  };
}

/** Claims of an Entra v2 app-only (client credentials) access token. */
export function appClaims(
  o: { iss: string; aud: string; roles?: string[]; tid: string; now?: number } & Record<
    string,
    unknown
  >,
): Record<string, unknown> {
  const { roles = ['Policies.Read.All'], now = nowSeconds(), ...rest } = o;
  const oid = randomUUID();
  return {
    ver: '2.0',
    sub: oid,
    oid,
    azp: randomUUID(),
    azpacr: '2',
    idtyp: 'app',
    roles,
    ...times(now),
    ...rest,
  };
}

// Claim sets shaped like the access tokens Azure AD B2C, Entra ID and Entra External ID issue.
// Pure functions: `rest` adds or replaces claims last (pass `undefined` to drop one).
import { randomUUID } from 'node:crypto';
import type { Claims } from './token-keys';

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

export type ClaimsInput<T> = T & { iss: string; aud: string | string[]; now?: number } & Claims;

/** A B2C delegated access token (web API scope): ver 1.0, the user flow in `tfp`. */
export function b2cUserClaims(o: ClaimsInput<{ flow?: string; scp?: string }>): Claims {
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
 * An External ID (external tenant) v2 delegated access token: no `tfp`, a pairwise `sub`, the
 * tenant in `tid`; `acrs` / `xms_cc` only when passed.
 */
export function ciamUserClaims(o: ClaimsInput<{ tid: string; scp?: string }>): Claims {
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

/** An Entra v2 app-only (client credentials) access token: `azp`, `idtyp: app`, `roles`. */
export function appClaims(o: ClaimsInput<{ tid: string; roles?: string[] }>): Claims {
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

/** An Entra v1 app-only access token: `appid` / `appidacr` instead of `azp` / `azpacr`. */
export function appClaimsV1(o: ClaimsInput<{ tid: string; roles?: string[] }>): Claims {
  const { roles = ['Policies.Read.All'], now = nowSeconds(), ...rest } = o;
  const oid = randomUUID();
  return {
    ver: '1.0',
    sub: oid,
    oid,
    appid: randomUUID(),
    appidacr: '2',
    idtyp: 'app',
    roles,
    ...times(now),
    ...rest,
  };
}

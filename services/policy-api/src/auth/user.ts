import { BearerAuthException, type Principal, type UserPrincipal } from '@idp/auth-common';
import type { FastifyRequest } from 'fastify';
import { serverRequestId } from '../common/server-request-id';
import { B2C_TENANT, type Caller, type HolderIdentity } from '../identity/holder-identity';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What an object id (`oid`, or `sub` where there is none) and a client id (`azp`) look like: GUIDs
 * from Entra, B2C and External ID, base64url pairwise subjects at most. They key policies and go
 * into audit rows, so a signed token whose id is anything else (NUL, which PostgreSQL cannot
 * store: a 500; a lone surrogate, stored as U+FFFD and so the same key as another id) is refused.
 */
const TOKEN_ID = /^[\x21-\x7e]{1,128}$/;
const unusableId = () =>
  BearerAuthException.invalidToken('The access token does not identify its user or client');

// 403 with the RFC 6750 insufficient_scope challenge, like the route guards' refusals.
const notACustomer = (why: string) => BearerAuthException.insufficientScope(why);

/** Narrows to a signed-in user; the route guards already ensure it, this keeps types honest. */
export function asUser(p: Principal): UserPrincipal {
  if (p.kind !== 'user') throw notACustomer('This operation requires a signed-in user');
  return p;
}

/**
 * The identity a customer's token names. Only B2C and External ID users hold policies: a user
 * token of a workforce (Entra) tenant trusted for daemons is refused, like an app token.
 */
export function holderIdentityOf(user: UserPrincipal): HolderIdentity {
  const kind = user.provider?.kind;
  if (!TOKEN_ID.test(user.oid)) throw unusableId();
  if (kind === 'b2c') return { provider: 'b2c', tenantId: B2C_TENANT, oid: user.oid };
  if (kind === 'external-id' && user.tenantId)
    return { provider: 'external-id', tenantId: user.tenantId.toLowerCase(), oid: user.oid };
  throw notACustomer('This operation requires a customer account (B2C or External ID)');
}

/** The caller of a /policies/me route: identity, migration claim (External ID only), audit ids. */
export function callerOf(p: Principal, req: FastifyRequest): Caller {
  const user = asUser(p);
  const identity = holderIdentityOf(user);
  // auth-common reads the claim only for the External ID provider; checked again here so a
  // B2C token can never claim a link. Object ids are GUIDs: anything else is ignored.
  const legacy =
    identity.provider === 'external-id' && user.legacyObjectId && GUID.test(user.legacyObjectId)
      ? user.legacyObjectId.toLowerCase()
      : undefined;
  const clientId = clientIdOf(user);
  const azp = user.claims.azp ?? user.claims.appid;
  if (azp !== undefined && azp !== '' && (typeof azp !== 'string' || !TOKEN_ID.test(azp)))
    throw unusableId();
  return {
    identity,
    ...(legacy ? { legacyObjectId: legacy } : {}),
    ...(clientId ? { clientId } : {}),
    auditRequestId: serverRequestId(req),
  };
}

/** The client application that obtained the token (`azp`), for the audit trail. */
export function clientIdOf(p: Principal): string | undefined {
  const azp = p.claims.azp ?? p.claims.appid;
  return typeof azp === 'string' && azp.length > 0 ? azp : undefined;
}

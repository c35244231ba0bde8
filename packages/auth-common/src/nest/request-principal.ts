import type { Principal } from '../principal';

const PRINCIPAL = Symbol.for('@idp/auth-common:principal');

type Carrier = Record<PropertyKey, unknown>;

/** The principal a guard attached to this request, if any. */
export function getRequestPrincipal(request: unknown): Principal | undefined {
  if (request === null || typeof request !== 'object') return undefined;
  return (request as Carrier)[PRINCIPAL] as Principal | undefined;
}

export function setRequestPrincipal(request: unknown, principal: Principal): void {
  const carrier = request as Carrier;
  carrier[PRINCIPAL] = principal;
  carrier.user = principal; // passport convention
}

import type { Principal, UserPrincipal } from '@idp/auth-common';
import { ForbiddenException } from '@nestjs/common';

/** Narrows to a signed-in user; the route guards already ensure it, this keeps types honest. */
export function asUser(p: Principal): UserPrincipal {
  if (p.kind !== 'user') throw new ForbiddenException({ error: 'insufficient_scope', message: 'This operation requires a signed-in user' });
  return p;
}

/** The client application that obtained the token (`azp`), for the audit trail. */
export function clientIdOf(p: Principal): string | undefined {
  const azp = p.claims.azp ?? p.claims.appid;
  return typeof azp === 'string' && azp.length > 0 ? azp : undefined;
}

import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { BearerAuthException, getRequestPrincipal } from '@idp/auth-common';
import { asUser, holderIdentityOf } from './user';

/**
 * Refuses (403) a caller that can never hold a policy (an app-only token, a workforce user) as a
 * guard, after auth-common's token and scope guards and before the body is validated: like a
 * missing scope, that answer comes before the request's own faults. The handler narrows the caller
 * again (callerOf) for its types; this only fixes the order of the answers. Put it above
 * `@RequireScopes()`: decorators apply bottom-up, so it then runs after that one's guards.
 */
@Injectable()
export class CustomerGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const principal = getRequestPrincipal(context.switchToHttp().getRequest());
    // Fail closed: no principal here means the guards run in the wrong order.
    if (!principal) throw BearerAuthException.missingToken();
    holderIdentityOf(asUser(principal));
    return true;
  }
}

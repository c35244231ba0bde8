import { Strategy } from 'passport-strategy';
import {
  authorizationHeaderOf,
  parseAuthorizationHeader,
  type RequestWithHeaders,
} from '../authorization-header';
import type { Principal } from '../principal';
import { AZURE_AD_JWT_STRATEGY } from './auth.constants';
import { BearerAuthException } from './bearer-auth.exception';

export type BearerVerifyDone = (err: unknown, principal?: Principal | false | null) => void;
export type BearerVerify = (token: string, done: BearerVerifyDone) => void;

/**
 * passport strategy for `Authorization: Bearer <token>` (header only, RFC 6750 §2.1).
 * Failures carry a {@link BearerAuthException} as the passport challenge.
 */
export class BearerTokenStrategy extends Strategy {
  name = AZURE_AD_JWT_STRATEGY;

  constructor(private readonly verifyToken: BearerVerify) {
    super();
  }

  override authenticate(req: RequestWithHeaders): void {
    const credentials = parseAuthorizationHeader(authorizationHeaderOf(req));
    if (credentials.kind === 'missing') return this.fail(BearerAuthException.missingToken(), 401);
    if (credentials.kind === 'malformed')
      return this.fail(BearerAuthException.invalidRequest(), 400);
    this.verifyToken(credentials.token, (err, principal) => {
      if (err instanceof BearerAuthException) return this.fail(err, err.getStatus());
      if (err) return this.error(err instanceof Error ? err : new Error(String(err)));
      if (!principal) return this.fail(BearerAuthException.invalidToken(), 401);
      this.success(principal);
    });
  }
}

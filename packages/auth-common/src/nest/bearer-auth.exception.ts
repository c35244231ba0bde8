import { HttpException } from '@nestjs/common';
import {
  bearerErrorBody,
  BearerChallenges,
  formatWwwAuthenticate,
  type BearerChallenge,
} from '../bearer-challenge';
import { GENERIC_INVALID_DESCRIPTION } from '../token-errors';

/**
 * A 400/401/403 with an RFC 6750 / RFC 9470 challenge. {@link BearerExceptionFilter}
 * writes the WWW-Authenticate header; the body is `{ error, error_description }`.
 */
export class BearerAuthException extends HttpException {
  constructor(readonly challenge: BearerChallenge) {
    super(bearerErrorBody(challenge), challenge.status);
  }

  wwwAuthenticate(realm: string): string {
    return formatWwwAuthenticate(this.challenge, realm);
  }

  static missingToken(): BearerAuthException {
    return new BearerAuthException(BearerChallenges.missingToken());
  }

  static invalidRequest(): BearerAuthException {
    return new BearerAuthException(BearerChallenges.invalidRequest());
  }

  static invalidToken(description = GENERIC_INVALID_DESCRIPTION): BearerAuthException {
    return new BearerAuthException(BearerChallenges.invalidToken(description));
  }

  static insufficientScope(description: string, scope?: readonly string[]): BearerAuthException {
    return new BearerAuthException(BearerChallenges.insufficientScope(description, scope));
  }
}

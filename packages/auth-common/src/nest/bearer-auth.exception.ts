import { HttpException } from '@nestjs/common';
import {
  bearerErrorBody,
  BearerChallenges,
  wwwAuthenticateValues,
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

  /** All challenges in one field value (RFC 9110 allows a comma-separated list). */
  wwwAuthenticate(realm: string): string {
    return this.wwwAuthenticateValues(realm).join(', ');
  }

  /** One `WWW-Authenticate` field per challenge (two for an Entra / External ID step-up). */
  wwwAuthenticateValues(realm: string): string[] {
    return wwwAuthenticateValues(this.challenge, realm);
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

import { Injectable } from '@nestjs/common';
import { BearerAuthException, checkStepUp, TokenValidator, type Principal } from '@idp/auth-common';

/**
 * RFC 9470 step-up, checked by the handler after the body and If-Match are validated instead of
 * by `@RequireStepUp()` (a guard, so before any pipe): a malformed request from a caller with the
 * right scope gets its 400 / 428 first, rather than stepping up only to be told the body is bad.
 * That order leaks nothing: those checks are the published request schema and read no stored
 * state; everything that does (412, 409, the change) still comes after step-up. Same policy as
 * `@RequireStepUp()` with the AuthModule defaults (STEP_UP_* variables), same challenges.
 */
@Injectable()
export class StepUpCheck {
  constructor(private readonly validator: TokenValidator) {}

  require(principal: Principal): void {
    const { stepUp, clockSkewSeconds } = this.validator.options;
    // Fail closed, as the guard does: a step-up with nothing to check is a configuration bug.
    if (!stepUp.userFlows?.length && !stepUp.authContext && stepUp.maxAgeSeconds === undefined) {
      throw new Error('step-up needs STEP_UP_USER_FLOWS, STEP_UP_AUTH_CONTEXT or a max age');
    }
    const challenge = checkStepUp(
      principal,
      stepUp,
      Math.floor(this.validator.now() / 1000),
      clockSkewSeconds,
      this.validator.claimsChallengeTarget(principal),
    );
    if (challenge) throw new BearerAuthException(challenge);
  }
}

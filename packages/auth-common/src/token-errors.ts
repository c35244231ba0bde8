// Framework-free errors of token validation. The public description is
// deliberately coarse (no claim values, no signature-vs-audience oracle); the
// precise reason is only for the operator's logs via `onRejected`.

export type RejectionReason =
  | 'malformed'
  | 'algorithm_not_allowed'
  | 'missing_kid'
  | 'unknown_kid'
  | 'signature'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'lifetime_too_long'
  | 'invalid_time_claim'
  | 'missing_claim'
  | 'user_flow'
  | 'tenant'
  | 'invalid';

/** The time claims: checked only after the signature, issuer and audience, so naming them is no oracle. */
export type TimeClaim = 'exp' | 'nbf' | 'iat';

const DESCRIPTIONS: Partial<Record<RejectionReason, (claim: TimeClaim | undefined) => string>> = {
  expired: () => 'The access token expired',
  not_yet_valid: () => 'The access token is not yet valid (nbf is in the future)',
  issued_in_future: () => 'The access token was issued in the future (iat)',
  lifetime_too_long: (claim) =>
    claim
      ? `The access token lifetime (exp - ${claim}) exceeds the maximum accepted`
      : 'The access token exp is further away than the maximum lifetime accepted',
  invalid_time_claim: (claim) =>
    `The access token ${claim ?? 'exp'} claim is not a valid NumericDate`,
};

export const GENERIC_INVALID_DESCRIPTION = 'The access token is invalid';

export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
  /** Safe to send to the client. */
  readonly description: string;

  /** `claim`: the time claim at fault (lifetime: the claim its start was taken from). */
  constructor(
    readonly reason: RejectionReason,
    readonly claim?: TimeClaim,
  ) {
    super(`access token rejected: ${reason}${claim ? ` (${claim})` : ''}`);
    this.description = DESCRIPTIONS[reason]?.(claim) ?? GENERIC_INVALID_DESCRIPTION;
  }
}

/** No signing keys could be loaded at all (IdP metadata unreachable or unusable). */
export class KeySourceUnavailableError extends Error {
  override name = 'KeySourceUnavailableError';
}

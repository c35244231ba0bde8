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
  | 'missing_claim'
  | 'user_flow'
  | 'tenant'
  | 'invalid';

const DESCRIPTIONS: Partial<Record<RejectionReason, string>> = {
  expired: 'The access token expired',
  not_yet_valid: 'The access token is not yet valid',
};

export const GENERIC_INVALID_DESCRIPTION = 'The access token is invalid';

export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
  /** Safe to send to the client. */
  readonly description: string;

  constructor(readonly reason: RejectionReason) {
    super(`access token rejected: ${reason}`);
    this.description = DESCRIPTIONS[reason] ?? GENERIC_INVALID_DESCRIPTION;
  }
}

/** No signing keys could be loaded at all (IdP metadata unreachable or unusable). */
export class KeySourceUnavailableError extends Error {
  override name = 'KeySourceUnavailableError';
}

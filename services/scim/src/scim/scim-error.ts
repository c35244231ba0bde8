/** scimType values of RFC 7644 §3.12 used here. */
export type ScimType =
  | 'uniqueness'
  | 'invalidFilter'
  | 'invalidPath'
  | 'invalidValue'
  | 'invalidSyntax'
  | 'mutability'
  | 'tooMany'
  | 'noTarget'
  | 'invalidVers';

/** Any failure a SCIM client should see; rendered in the SCIM error schema by ScimExceptionFilter. */
export class ScimError extends Error {
  /**
   * IAM Identity Center's own text for this refusal, where it is known: the aws profile sends it
   * as the whole detail, without the exception-name prefix and without scimType, as AWS does.
   */
  awsDetail?: string;

  constructor(
    readonly status: number,
    readonly scimType: ScimType | undefined,
    detail: string,
    /** Extra response headers, e.g. WWW-Authenticate on 401. */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ScimError';
  }

  static invalidFilter(detail: string): ScimError {
    return new ScimError(400, 'invalidFilter', detail);
  }
  static invalidPath(detail: string): ScimError {
    return new ScimError(400, 'invalidPath', detail);
  }
  static invalidValue(detail: string): ScimError {
    return new ScimError(400, 'invalidValue', detail);
  }
  static invalidSyntax(detail: string): ScimError {
    return new ScimError(400, 'invalidSyntax', detail);
  }
  static mutability(detail: string): ScimError {
    return new ScimError(400, 'mutability', detail);
  }
  static noTarget(detail: string): ScimError {
    return new ScimError(400, 'noTarget', detail);
  }
  static tooMany(detail: string): ScimError {
    return new ScimError(400, 'tooMany', detail);
  }
  static uniqueness(detail: string): ScimError {
    return new ScimError(409, 'uniqueness', detail);
  }
  static notFound(what: string, id: string): ScimError {
    return new ScimError(404, undefined, `${what} ${id} not found`);
  }
  static preconditionFailed(): ScimError {
    return new ScimError(412, undefined, 'The resource version does not match If-Match');
  }
  /** Authorization sent more than once (RFC 6750 §3.1 invalid_request): which one would count? */
  static repeatedAuthorization(): ScimError {
    return new ScimError(400, undefined, 'Send exactly one Authorization header', {
      'WWW-Authenticate': 'Bearer realm="scim", error="invalid_request"',
    });
  }
  /** 429 (RFC 6585) with Retry-After in seconds: the directory is over its request rate. */
  static throttled(retryAfterSeconds: number): ScimError {
    return new ScimError(429, undefined, 'Too many requests were made that exceed the limits', {
      'Retry-After': String(retryAfterSeconds),
    });
  }
  static unauthorized(detail: string, error?: 'invalid_token'): ScimError {
    const challenge = error
      ? `Bearer realm="scim", error="${error}", error_description="${detail}"`
      : 'Bearer realm="scim"';
    return new ScimError(401, undefined, detail, { 'WWW-Authenticate': challenge });
  }
}

/** Ids this service issues are UUIDs; anything unstorable cannot name a resource (404, not a database error). */
export const validId = (id: string): boolean =>
  id.length > 0 && id.length <= 64 && !id.includes('\u0000');

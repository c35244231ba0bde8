import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { HttpException } from '@nestjs/common';

/** One error field as returned to callers. */
export interface FieldError {
  /** Path into the request, e.g. `beneficiaries[0].name`. */
  field: string;
  message: string;
}

/** The JSON body of every non-auth error: a stable code, a sentence, optional details. */
export interface ApiErrorBody {
  error: string;
  message: string;
  details?: FieldError[];
}

export class ApiError extends HttpException {
  constructor(status: number, error: string, message: string, details?: FieldError[]) {
    super({ error, message, ...(details ? { details } : {}) } satisfies ApiErrorBody, status);
  }
}

export const Errors = {
  validation: (details: FieldError[]) =>
    new ApiError(400, 'validation_failed', 'The request is invalid', details),
  preconditionRequired: () =>
    new ApiError(
      428,
      'precondition_required',
      'Send If-Match with the ETag of the policy you read (GET /policies/me)',
    ),
  preconditionFailed: () =>
    new ApiError(
      412,
      'precondition_failed',
      'The policy changed since you read it; read it again and retry',
    ),
  policyNotFound: () => new ApiError(404, 'not_found', 'No policy with this number'),
  noPolicyYet: () =>
    new ApiError(404, 'not_found', 'No policy yet: GET /policies/me creates it on first read'),
  malformedBody: (why: string) =>
    new ApiError(400, 'invalid_request', `The body is not valid JSON: ${why}`),
  unsupportedMediaType: () =>
    new ApiError(
      415,
      'unsupported_media_type',
      'Bodies must be JSON (Content-Type: application/json, UTF-8)',
    ),
};

// OpenAPI schemas of the error bodies (documentation only).

export class FieldErrorView implements FieldError {
  @ApiProperty({ example: 'beneficiaries[0].name' }) field!: string;
  @ApiProperty() message!: string;
}

export class ApiErrorView implements ApiErrorBody {
  @ApiProperty({ example: 'validation_failed' }) error!: string;
  @ApiProperty() message!: string;
  @ApiPropertyOptional({ type: [FieldErrorView] }) details?: FieldError[];
}

export class BearerErrorView {
  @ApiProperty({ example: 'insufficient_user_authentication' }) error!: string;
  @ApiProperty() error_description!: string;
}

import type { Profile } from './request-context';
import { URN } from './schemas';

export interface ErrorInfo {
  status: number;
  scimType?: string;
  detail: string;
  requestId: string;
  /** The aws profile's verbatim detail (ScimError.awsDetail), replacing detail and scimType there. */
  awsDetail?: string;
}

const AWS_EXCEPTION = new Map<number, string>([
  [400, 'ValidationException'],
  [401, 'UnauthorizedException'],
  [403, 'AccessDeniedException'],
  [404, 'ResourceNotFoundException'],
  [409, 'ConflictException'],
  [500, 'InternalServerException'],
  [429, 'ThrottlingException'],
]);

/**
 * Statuses whose real IAM Identity Center bodies were seen (idp-scim-sync issues #30 and #45):
 * their detail has no exception-name prefix. Other statuses keep the documented exception name as
 * a prefix (no real body of theirs is known).
 */
const AWS_UNPREFIXED = new Set([400, 409]);

/** RFC 7644 §3.12 error body; the `aws` profile mimics IAM Identity Center's (string status, `schema` typo, request id, timestamp). */
export function errorBody(profile: Profile, e: ErrorInfo): Record<string, unknown> {
  if (profile === 'aws') {
    return {
      schema: [URN.error],
      schemas: [URN.error],
      detail:
        e.awsDetail ??
        (AWS_UNPREFIXED.has(e.status)
          ? e.detail
          : `${AWS_EXCEPTION.get(e.status) ?? 'ValidationException'}: ${e.detail}`),
      status: String(e.status),
      ...(e.scimType && e.awsDetail === undefined ? { scimType: e.scimType } : {}),
      exceptionRequestId: e.requestId,
      timeStamp: new Date().toISOString().replace('T', ' ').replace('Z', ''),
    };
  }
  return {
    schemas: [URN.error],
    status: String(e.status),
    ...(e.scimType ? { scimType: e.scimType } : {}),
    detail: e.detail,
  };
}

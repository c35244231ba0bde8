import {
  Catch,
  HttpException,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import {
  DATABASE_RETRY_AFTER_SECONDS,
  databaseUnavailableReason,
  isStatementTimeout,
} from '@idp/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  isDeletedDirectory,
  isMissingReference,
  isUniqueViolation,
  isUnstorableValue,
} from '../db/sql';
import { isLostRace, VersionConflict } from '../events/retry';
import { Prisma } from '../generated/prisma/client';
import { errorBody } from './error-body';
import { callOf } from './request-context';
import { ScimError } from './scim-error';
import { SCIM_CONTENT_TYPE } from './schemas';

/**
 * Renders every failure of a SCIM route in the SCIM error schema: an unavailable database is a
 * 503 with Retry-After, unexpected failures are logged and 500.
 */
@Catch()
export class ScimExceptionFilter implements ExceptionFilter {
  private readonly log = new Logger('scim');

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const e = this.toScimError(exception);
    const call = callOf(req);
    call.scimType = e.scimType;
    for (const [k, v] of Object.entries(e.headers)) void reply.header(k, v);
    void reply
      .status(e.status)
      .header('content-type', SCIM_CONTENT_TYPE)
      .send(
        errorBody(call.profile ?? 'default', {
          status: e.status,
          scimType: e.scimType,
          detail: e.message,
          requestId: String(req.id),
          ...(e.awsDetail === undefined ? {} : { awsDetail: e.awsDetail }),
        }),
      );
  }

  private toScimError(exception: unknown): ScimError {
    if (exception instanceof ScimError) return exception;
    if (exception instanceof Prisma.PrismaClientKnownRequestError) {
      if (exception.code === 'P2002')
        return ScimError.uniqueness('A resource with the same unique attribute already exists');
      if (exception.code === 'P2025') return new ScimError(404, undefined, 'Resource not found');
      if (exception.code === 'P2034')
        return new ScimError(409, undefined, 'Concurrent modification; retry');
    }
    if (exception instanceof VersionConflict || isLostRace(exception))
      return new ScimError(409, undefined, 'The resource kept changing concurrently; retry');
    if (isStatementTimeout(exception)) {
      this.log.warn('a database statement ran past the statement timeout and was cancelled');
      return new ScimError(
        503,
        undefined,
        'The request took too long and was cancelled; narrow the filter or retry later',
      );
    }
    const unavailable = databaseUnavailableReason(exception);
    if (unavailable !== undefined) {
      // PostgreSQL down, restarting, stalled or out of connections: retrying is safe, a write
      // that did not reach COMMIT left nothing. The reason names no host or URL.
      this.log.warn(`database unavailable (${unavailable}): answered 503`);
      return new ScimError(503, undefined, 'The service cannot reach its database; retry later', {
        'retry-after': String(DATABASE_RETRY_AFTER_SECONDS),
      });
    }
    if (isUnstorableValue(exception))
      return ScimError.invalidValue('A value cannot be stored (invalid characters or too long)');
    // The token's directory was deleted while this write waited for it: the token went with it,
    // so the answer is the one its next request gets, not the client's fault (400).
    if (isDeletedDirectory(exception))
      return ScimError.unauthorized('The token is invalid, expired or revoked', 'invalid_token');
    if (isMissingReference(exception))
      return ScimError.invalidValue('A referenced resource no longer exists');
    if (isUniqueViolation(exception))
      return ScimError.uniqueness('A resource with the same unique attribute already exists');
    // Nest's own, and Fastify's refusals (body too large, content type), which Nest turns into HttpExceptions.
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return new ScimError(status, status === 400 ? 'invalidSyntax' : undefined, exception.message);
    }
    this.log.error(
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
    );
    return new ScimError(500, undefined, 'Internal error');
  }
}

import {
  Catch,
  HttpException,
  Inject,
  Logger,
  Optional,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  AUTH_MODULE_OPTIONS,
  BearerAuthException,
  BearerExceptionFilter,
  type AuthModuleOptions,
} from '@idp/auth-common';
import {
  allowedMethods,
  DATABASE_RETRY_AFTER_SECONDS,
  databaseUnavailableReason,
  isStatementTimeout,
} from '@idp/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiErrorBody } from './api-error';

const CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  503: 'temporarily_unavailable',
};

/**
 * Gives every HTTP error the API's `{ error, message, details? }` shape, including those raised
 * by the framework (malformed JSON, 413, 415, unknown routes), a database that is unavailable or
 * too slow (503 `temporarily_unavailable`) and unexpected failures (500 `internal_error`, details
 * only in the log). Bearer errors keep their RFC 6750 body and
 * WWW-Authenticate challenge (delegated to auth-common's filter).
 */
@Catch()
export class ErrorShapeFilter implements ExceptionFilter<unknown> {
  private readonly bearer: BearerExceptionFilter;
  private readonly log = new Logger('errors');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Optional() @Inject(AUTH_MODULE_OPTIONS) options?: AuthModuleOptions,
  ) {
    this.bearer = new BearerExceptionFilter(adapterHost, options);
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof BearerAuthException) return this.bearer.catch(exception, host);
    if (isStatementTimeout(exception)) {
      // The database cancelled a statement that ran past DATABASE_STATEMENT_TIMEOUT_MS.
      this.log.warn('a database statement ran past the statement timeout and was cancelled');
      const body: ApiErrorBody = {
        error: 'temporarily_unavailable',
        message: 'The request took too long; retry later',
      };
      return this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), body, 503);
    }
    const unavailable = databaseUnavailableReason(exception);
    if (unavailable !== undefined) {
      // PostgreSQL down, restarting, stalled or out of connections: the caller may retry, nothing
      // was committed by a transaction that did not reach COMMIT. The reason names no host or URL.
      this.log.warn(`database unavailable (${unavailable}): answered 503`);
      const reply = host.switchToHttp().getResponse<FastifyReply>();
      void reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
      const body: ApiErrorBody = {
        error: 'temporarily_unavailable',
        message: 'The service cannot reach its database; retry later',
      };
      return this.adapterHost.httpAdapter.reply(reply, body, 503);
    }
    if (!(exception instanceof HttpException)) {
      this.log.error(exception);
      const body: ApiErrorBody = { error: 'internal_error', message: 'Internal server error' };
      return this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), body, 500);
    }
    const req = host.switchToHttp().getRequest<FastifyRequest>();
    if (req.is404 && exception.getStatus() < 500) {
      // RFC 9110 §15.5.6: a path served under other methods is 405 with Allow, not 404; also
      // when the unserved request's body was refused first (QUERY without a Content-Type was 400).
      const allow = allowedMethods(req);
      if (allow.length) {
        const reply = host.switchToHttp().getResponse<FastifyReply>();
        void reply.header('allow', allow.join(', '));
        const body: ApiErrorBody = {
          error: 'method_not_allowed',
          message: `This resource does not support ${req.method}; see the Allow header`,
        };
        return this.adapterHost.httpAdapter.reply(reply, body, 405);
      }
    }
    const status = exception.getStatus();
    const raw = exception.getResponse();
    const given =
      typeof raw === 'object' && raw !== null
        ? (raw as Partial<ApiErrorBody> & { message?: unknown })
        : {};
    // Bodies that already carry a code (ApiError, OAuth-style errors) pass through unchanged.
    const body: object =
      typeof given.error === 'string' && !('statusCode' in given)
        ? (raw as object)
        : ({
            error: CODES[status] ?? (status >= 500 ? 'internal_error' : 'invalid_request'),
            message: typeof given.message === 'string' ? given.message : exception.message,
          } satisfies ApiErrorBody);
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), body, status);
  }
}

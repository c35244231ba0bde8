import {
  Catch,
  HttpException,
  Injectable,
  Logger,
  ServiceUnavailableException,
  UnsupportedMediaTypeException,
  type ArgumentsHost,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { BearerAuthException } from '@idp/auth-common';
import {
  allowedMethods,
  DATABASE_RETRY_AFTER_SECONDS,
  databaseUnavailableReason,
  isDatabaseUnavailable,
  isTransientDbError,
  pgErrorCode,
} from '@idp/service-kit';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { catchError, type Observable } from 'rxjs';
import { ScimHttpErrorFilter } from '../scim/scim-http-error.filter';

/**
 * The one error shape of the admin API, whatever layer answers (validation, authentication, the
 * router, body parsing, a busy database): RFC 6750's `{ error, error_description }`, which the
 * bearer-token answers (401/403) already have, with a code per status. The description never
 * repeats the request's path, query or body.
 */
export interface AdminErrorBody {
  error: string;
  error_description: string;
}

/** The admin API's realm in WWW-Authenticate (AuthModule's `realm`). */
export const ADMIN_REALM = 'scim-admin';

const CODES = new Map<number, string>([
  [400, 'invalid_request'],
  [401, 'invalid_token'],
  [403, 'insufficient_scope'],
  [404, 'not_found'],
  [405, 'method_not_allowed'],
  [409, 'conflict'],
  [413, 'payload_too_large'],
  [414, 'uri_too_long'],
  [415, 'unsupported_media_type'],
  [500, 'server_error'],
  [503, 'temporarily_unavailable'],
]);

/** Descriptions for answers whose own message is not ours to repeat (framework errors). */
const FIXED = new Map<number, string>([
  [400, 'The request is malformed'],
  [404, 'No such admin endpoint'],
  [405, 'The method is not allowed on this endpoint'],
  [413, 'The request body is too large'],
  [414, 'A URL segment is too long'],
  [415, 'The request body must be application/json'],
  [500, 'Internal error'],
  [503, 'The service is unavailable; retry later'],
]);

export const adminErrorBody = (status: number, description?: string): AdminErrorBody => ({
  error: CODES.get(status) ?? (status >= 500 ? 'server_error' : 'invalid_request'),
  error_description:
    description ?? FIXED.get(status) ?? (status >= 500 ? 'Internal error' : 'Request refused'),
});

/** Under the admin API: `/admin` and below. */
export const isAdminUrl = (url: string): boolean => /^\/admin(?:[/?#]|$)/.test(url);

const ADMIN_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
};

/**
 * The router's own refusals under /admin (an over-long segment 414, a malformed percent-encoding
 * 400) in the admin shape; false for any other URL. They bypass Nest, so only the function given
 * to service-kit's createApp as `routerErrors` sees them.
 */
export function adminRouterErrors(
  error: FastifyError,
  req: FastifyRequest,
  reply: FastifyReply,
): boolean {
  if (!isAdminUrl(req.raw.url ?? '')) return false;
  const status = error.statusCode === 414 ? 414 : 400;
  void reply
    .code(status)
    .headers(ADMIN_HEADERS)
    .send(JSON.stringify(adminErrorBody(status)));
  return true;
}

function ownMessage(e: HttpException): string | undefined {
  const r = e.getResponse();
  if (typeof r === 'string') return r;
  const m = (r as { message?: unknown }).message;
  return typeof m === 'string' ? m : Array.isArray(m) ? m.join('; ') : undefined;
}

/**
 * The application's global filter: admin URLs get the admin shape (bearer challenges keep their
 * WWW-Authenticate header), everything else goes to the SCIM filter as before.
 */
@Catch()
export class AppHttpErrorFilter extends ScimHttpErrorFilter {
  private readonly log = new Logger('admin');

  override catch(exception: unknown, host: ArgumentsHost): void {
    const req =
      host.getType() === 'http'
        ? host.switchToHttp().getRequest<FastifyRequest | undefined>()
        : undefined;
    if (typeof req?.url !== 'string' || !isAdminUrl(req.url)) return super.catch(exception, host);
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    void reply.headers(ADMIN_HEADERS);
    if (exception instanceof BearerAuthException) {
      const challenges = exception.wwwAuthenticateValues(ADMIN_REALM);
      void reply.header('www-authenticate', challenges.length === 1 ? challenges[0] : challenges);
      void reply
        .code(exception.getStatus())
        .send(JSON.stringify(exception.getResponse() as AdminErrorBody));
      return;
    }
    // No route matched: 405 with Allow where the path exists under other methods, else 404.
    if (!req.routeOptions?.url) {
      const allow = allowedMethods(req);
      if (allow.length) void reply.header('allow', allow.join(', '));
      const status = allow.length ? 405 : 404;
      void reply.code(status).send(JSON.stringify(adminErrorBody(status)));
      return;
    }
    const unavailable =
      exception instanceof DatabaseUnavailableException
        ? exception.reason
        : databaseUnavailableReason(exception);
    if (unavailable !== undefined) {
      // Logged once here (the interceptor only converts); the reason names no host or URL.
      this.log.warn(`database unavailable (${unavailable}): admin request answered 503`);
      void reply
        .code(503)
        .header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS))
        .send(JSON.stringify(adminErrorBody(503, DATABASE_UNAVAILABLE)));
      return;
    }
    let status = 500;
    let description: string | undefined;
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      // Our own messages (validation, not found, conflicts, 503) say nothing the caller did not choose.
      if (status < 500 || status === 503) description = ownMessage(exception);
    } else {
      const code = (exception as { statusCode?: unknown } | null)?.statusCode;
      if (typeof code === 'number' && code >= 400 && code < 500) status = code;
    }
    if (status === 500)
      this.log.error(
        `admin request failed: ${exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)}`,
      );
    void reply.code(status).send(JSON.stringify(adminErrorBody(status, description)));
  }
}

const DATABASE_UNAVAILABLE = 'The service cannot reach its database; retry later';

/** A database that cannot be reached, stalled or restarting: 503 with Retry-After (AppHttpErrorFilter). */
export class DatabaseUnavailableException extends ServiceUnavailableException {
  constructor(readonly reason: string) {
    super(DATABASE_UNAVAILABLE);
  }
}

/** A busy database (cancelled statement, lock, serialization) or an unavailable one: both 503. */
export function transientDbError(e: unknown): ServiceUnavailableException {
  const unavailable = databaseUnavailableReason(e);
  if (unavailable !== undefined) return new DatabaseUnavailableException(unavailable);
  return new ServiceUnavailableException(
    pgErrorCode(e) === '57014'
      ? 'The database took too long and the request was cancelled; narrow the query or retry later'
      : 'The database is busy or unavailable; retry later',
  );
}

const JSON_TYPE = /^application\/json\s*(?:;|$)/i;

/**
 * Runs after authentication on every admin route: a body must be `application/json` (415
 * otherwise; the SCIM parser accepts any type, the admin API does not guess), and a database that
 * is busy or down is a 503 (retry later) instead of a generic 500, as the SCIM API answers a
 * statement timeout.
 */
@Injectable()
export class AdminRequestInterceptor implements NestInterceptor {
  private readonly log = new Logger('admin');

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const length = Number(req.headers['content-length'] ?? 0);
    const hasBody = length > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !JSON_TYPE.test(req.headers['content-type'] ?? ''))
      throw new UnsupportedMediaTypeException(FIXED.get(415));
    return next.handle().pipe(
      catchError((e: unknown) => {
        if (isDatabaseUnavailable(e)) throw transientDbError(e);
        if (!isTransientDbError(e)) throw e;
        this.log.warn(`admin request answered 503: database code ${pgErrorCode(e)}`);
        throw transientDbError(e);
      }),
    );
  }
}

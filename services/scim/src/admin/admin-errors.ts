import {
  Injectable,
  Logger,
  ServiceUnavailableException,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { isTransientDbError, pgErrorCode } from '@idp/service-kit';
import { catchError, type Observable } from 'rxjs';

export function transientDbError(e: unknown): ServiceUnavailableException {
  return new ServiceUnavailableException(
    pgErrorCode(e) === '57014'
      ? 'The database took too long and the request was cancelled; narrow the query or retry later'
      : 'The database is busy or unavailable; retry later',
  );
}

/**
 * The admin API's answer to a database that is busy or down: 503 (retry later) instead of a
 * generic 500, as the SCIM API answers a statement timeout.
 */
@Injectable()
export class AdminDbErrorsInterceptor implements NestInterceptor {
  private readonly log = new Logger('admin');

  intercept(_ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((e: unknown) => {
        if (!isTransientDbError(e)) throw e;
        this.log.warn(`admin request answered 503: database code ${pgErrorCode(e)}`);
        throw transientDbError(e);
      }),
    );
  }
}

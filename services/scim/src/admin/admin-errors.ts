import {
  Injectable,
  Logger,
  ServiceUnavailableException,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { catchError, type Observable } from 'rxjs';

/**
 * PostgreSQL codes meaning "busy or unavailable, retry later": statement timeout (query_canceled),
 * lock_not_available, too_many_connections, admin/crash shutdown, cannot_connect_now.
 */
const TRANSIENT = new Set(['57014', '55P03', '53300', '57P01', '57P02', '57P03']);

/** The PostgreSQL code of a pg error, or of the driver error Prisma wraps (meta.driverAdapterError). */
function pgCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  // Prisma's own code (P2039 "database error") is not PostgreSQL's: the driver's is in meta.
  const cause = (e as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } })
    .meta?.driverAdapterError?.cause?.originalCode;
  if (typeof cause === 'string') return cause;
  const direct = (e as { code?: unknown }).code;
  return typeof direct === 'string' ? direct : undefined;
}

export function isTransientDbError(e: unknown): boolean {
  const code = pgCode(e);
  return code !== undefined && TRANSIENT.has(code);
}

export function transientDbError(e: unknown): ServiceUnavailableException {
  return new ServiceUnavailableException(
    pgCode(e) === '57014'
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
        this.log.warn(`admin request answered 503: database code ${pgCode(e)}`);
        throw transientDbError(e);
      }),
    );
  }
}

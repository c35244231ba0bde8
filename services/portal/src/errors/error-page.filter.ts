// Every error becomes a friendly page with the request id as correlation id;
// stack traces go to the log (with the same id), never to the browser. Nest also
// routes errors of Fastify hooks (sessions, CSRF) here through Fastify's error handler.
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { allowedMethods, databaseUnavailableReason } from '@idp/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../log';
import { safeReturnTo, SignInRequired } from '../auth/auth.service';
import { ApiUnauthorized } from '../policy/policy-client';
import { SignOutUnconfirmed } from '../web/csrf';
import { renderPage } from '../web/views';
import { PortalError } from './portal-error';

interface PageError {
  status: number;
  title: string;
  message: string;
}

function describe(e: unknown): PageError {
  if (e instanceof PortalError) return { status: e.status, title: e.title, message: e.userMessage };
  const status =
    e instanceof HttpException
      ? e.getStatus()
      : typeof (e as { statusCode?: unknown })?.statusCode === 'number'
        ? (e as { statusCode: number }).statusCode
        : 500;
  if (status === 404)
    return { status, title: 'Page not found', message: 'There is no page at this address.' };
  if (status === 405)
    return { status, title: 'Not allowed', message: 'This page cannot be used that way.' };
  if (status === 413)
    return { status, title: 'Too much data', message: 'The form sent more data than we accept.' };
  if (status >= 400 && status < 500)
    return {
      status,
      title: 'Bad request',
      message: 'The request could not be understood. Go back and try again.',
    };
  return {
    status: 500,
    title: 'Something went wrong',
    message: 'Something went wrong on our side. Please try again later.',
  };
}

@Catch()
export class ErrorPageFilter implements ExceptionFilter {
  constructor(private readonly log: Logger) {}

  async catch(e: unknown, host: ArgumentsHost): Promise<void> {
    await sendErrorPage(
      this.log,
      e,
      host.switchToHttp().getRequest<FastifyRequest>(),
      host.switchToHttp().getResponse<FastifyReply>(),
    );
  }
}

async function sendErrorPage(
  log: Logger,
  e: unknown,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  if (reply.sent) return;
  if (e instanceof SignInRequired || e instanceof ApiUnauthorized) {
    // Back to where the user was after the sign-in: the page itself (HEAD as GET), or for a form
    // post that found the session gone (expired while typing), the form's page. Never /auth/*.
    const path = req.url.split('?')[0] ?? '/';
    const to = req.method === 'GET' || req.method === 'HEAD' ? req.url : path;
    const back =
      !path.startsWith('/auth/') && safeReturnTo(to) ? `?returnTo=${encodeURIComponent(to)}` : '';
    await reply.redirect(`/auth/sign-in${back}`, 303);
    return;
  }
  if (e instanceof SignOutUnconfirmed) {
    // Not an error: the user asked to sign out with a form too old to trust; one click confirms.
    log.info({ reqId: req.id }, 'sign-out to confirm');
    await renderPage(req, reply, 'sign-out', 'Sign out', {});
    return;
  }
  let page = describe(e);
  if (page.status === 404 && req.is404) {
    const allow = allowedMethods(req);
    if (allow.length) {
      page = {
        status: 405,
        title: 'Not allowed',
        message: 'This page cannot be used that way.',
      };
      reply.header('allow', allow.join(', '));
    }
  }
  // A hook may fail after the route prepared a redirect: the error page must not carry it.
  reply.removeHeader('location');
  if (e instanceof PortalError && e.retryAfterSeconds !== undefined)
    reply.header('retry-after', String(e.retryAfterSeconds));
  // The session database down or restarting is expected now and then: one warning naming the
  // reason only (no host, URL or driver message), not an error with its stack per request.
  const unavailable = e instanceof PortalError ? databaseUnavailableReason(e.cause) : undefined;
  if (unavailable !== undefined)
    log.warn({ reqId: req.id, reason: unavailable }, 'session database unavailable: answered 503');
  else if (page.status >= 500) log.error({ reqId: req.id, err: e }, 'request failed');
  else
    log.warn(
      { reqId: req.id, status: page.status, error: e instanceof Error ? e.name : typeof e },
      page.title,
    );
  try {
    await renderPage(
      req,
      reply,
      'error',
      page.title,
      { heading: page.title, message: page.message },
      page.status,
    );
  } catch (renderError) {
    log.error({ reqId: req.id, err: renderError }, 'error page failed');
    await reply
      .code(page.status)
      .header('content-type', 'text/plain; charset=utf-8')
      .send(`${page.title}. Reference: ${req.id}`);
  }
}

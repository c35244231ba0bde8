// Every sign-in page request: the transaction named by ?tx= must be live and
// belong to this page's tenant (and flow), come from the browser that started
// it, and a form post must carry the transaction's csrf token.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { safeEqual } from '../../util/encoding';
import type { IdentityContext } from '../context';
import { OAuthError } from '../errors';
import { FormParams } from '../form-params';
import { BROWSER_COOKIE, readCookie } from './cookies';
import { errorPage } from './html';
import type { AuthorizeTransaction } from './transactions';

export function loadTransaction(
  ctx: IdentityContext,
  req: FastifyRequest,
  reply: FastifyReply,
  belongs: (tx: AuthorizeTransaction) => boolean,
): { tx: AuthorizeTransaction; form: FormParams } | FastifyReply {
  const tx = ctx.transactions.get((req.query as Record<string, unknown>).tx);
  if (!tx || !belongs(tx)) {
    return errorPage(
      reply,
      400,
      '',
      'Your sign-in session has expired or is not valid. Go back to the application and sign in again.',
    );
  }
  const browserCookie = readCookie(req, BROWSER_COOKIE);
  if (!browserCookie || !safeEqual(browserCookie, tx.browser)) {
    return errorPage(
      reply,
      403,
      '',
      'This sign-in page belongs to another browser session. Go back to the application and sign in again.',
    );
  }
  try {
    const form = FormParams.from(req.method === 'POST' ? req.body : {});
    if (req.method === 'POST' && !safeEqual(form.get('csrf_token') ?? '', tx.csrf)) {
      return errorPage(
        reply,
        403,
        '',
        'The form could not be verified. Go back to the application and sign in again.',
      );
    }
    return { tx, form };
  } catch (err) {
    if (err instanceof OAuthError) return errorPage(reply, 400, err.code, err.detail);
    throw err;
  }
}

// Delivers an authorization response (or error) to the client's redirect
// URI in the requested response_mode.
import type { FastifyReply } from 'fastify';
import { newGuid } from '../../util/encoding';
import { azureTimestamp } from '../errors';
import { formPostPage } from './pages';
import type { ResponseMode } from './transactions';

export function deliver(
  reply: FastifyReply,
  redirectUri: string,
  mode: ResponseMode,
  params: Record<string, string | undefined>,
): FastifyReply {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined) clean[k] = v;
  if (mode === 'form_post') return formPostPage(reply, redirectUri, clean);
  const qs = new URLSearchParams(clean).toString();
  const target =
    mode === 'fragment'
      ? `${redirectUri}#${qs}`
      : `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${qs}`;
  // 302 after a GET, 303 after a form post: both end in a GET of the redirect URI.
  return reply
    .header('cache-control', 'no-store')
    .redirect(target, reply.request.method === 'POST' ? 303 : 302);
}

export function deliverError(
  reply: FastifyReply,
  target: { redirectUri: string; responseMode: ResponseMode; state?: string },
  error: string,
  description: string,
): FastifyReply {
  // B2C appends correlation id and timestamp to the description.
  const full = `${description}\r\nCorrelation ID: ${newGuid()}\r\nTimestamp: ${azureTimestamp()}`;
  return deliver(reply, target.redirectUri, target.responseMode, {
    error,
    error_description: full,
    state: target.state,
  });
}

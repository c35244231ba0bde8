// Server-side HTML with Eta (auto-escaping on). Templates live in services/portal/views.
import { join } from 'node:path';
import { Eta } from 'eta';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Flash } from '../session/session-data';

export const VIEWS_DIR = join(__dirname, '..', '..', 'views');

const eta = new Eta({
  views: VIEWS_DIR,
  autoEscape: true,
  cache: process.env.NODE_ENV !== 'development',
});

export interface LayoutData {
  title: string;
  signedIn: boolean;
  userName?: string;
  csrf?: string;
  flash?: Flash;
  requestId: string;
  path: string;
}

/** Common layout data for this request; consumes the flash message. */
export function layoutData(req: FastifyRequest, title: string): LayoutData {
  const data = req.portalSession?.existing;
  const flash = data?.flash;
  if (data && flash) data.flash = undefined;
  const name = data?.user?.claims.name;
  return {
    title,
    signedIn: !!data?.user,
    userName: typeof name === 'string' ? name : undefined,
    csrf: data?.csrf,
    flash,
    requestId: req.id,
    path: req.url.split('?')[0] ?? req.url,
  };
}

export async function renderPage<T extends object>(
  req: FastifyRequest,
  reply: FastifyReply,
  template: string,
  title: string,
  data: T,
  status = 200,
): Promise<FastifyReply> {
  const html = await eta.renderAsync(template, { ...layoutData(req, title), ...data });
  return reply.code(status).header('content-type', 'text/html; charset=utf-8').send(html);
}

/**
 * HEAD of a page built from the policy API or Graph: answered without calling them. GET
 * /policies/me creates the policy on its first read, and a link checker's or prefetcher's HEAD
 * must not do that (or spend a token refresh) for a body nobody reads. Sign-in is checked first,
 * so a signed-out HEAD gets the same redirect as GET.
 */
export function isHead(req: FastifyRequest): boolean {
  return req.method === 'HEAD';
}

export async function sendHead(reply: FastifyReply): Promise<FastifyReply> {
  return reply.code(200).header('content-type', 'text/html; charset=utf-8').send();
}

// RFC 9110 §15.5.6: a path that exists under other methods answers 405 with `Allow`, not 404.
import type { FastifyRequest, HTTPMethods } from 'fastify';

const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** The methods the router serves at this request's path (none for a path it does not know). */
export function allowedMethods(req: FastifyRequest): string[] {
  const url = req.url.split('?', 1)[0] ?? '/';
  return METHODS.filter((method) => req.server.findRoute({ method, url }) !== null);
}

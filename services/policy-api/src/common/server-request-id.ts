import type { FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A request id the server generated, for records that must be trustworthy (the audit trail).
 * service-kit adopts a caller's x-request-id as the request's log id when it looks like a
 * token; that is the caller's word (fine for correlation, not for an audit record), so such a
 * request gets a fresh id here.
 */
export function serverRequestId(req: FastifyRequest): string {
  const id = String(req.id);
  const given = req.headers['x-request-id'];
  const fromCaller = given !== undefined && String(given).includes(id);
  return !fromCaller && UUID.test(id) ? id : randomUUID();
}

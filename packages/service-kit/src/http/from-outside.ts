import { NotFoundException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/**
 * Operational endpoints (/metrics, /readyz) are for Prometheus, the kubelet and `helm test`, which
 * reach the pods directly. A request that came through the ingress or the local entry proxy (they
 * add X-Forwarded-For / Forwarded) is from outside: the portal serves `/` and everything under it,
 * so without this the ingress would publish them (and /readyz would run its database and NATS
 * checks for every anonymous caller). Answers 404, as for a path that does not exist.
 */
export function refuseFromOutside(req: FastifyRequest): void {
  if (cameFromOutside(req.headers)) throw new NotFoundException();
}

/** Whether the ingress or the entry proxy passed this request on (they add these headers). */
export function cameFromOutside(headers: Record<string, unknown>): boolean {
  return headers['x-forwarded-for'] !== undefined || headers.forwarded !== undefined;
}

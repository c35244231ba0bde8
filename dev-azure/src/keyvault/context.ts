// What route handlers share: the vault, the per-request caller, RBAC and
// the vault base URL that object identifiers are built on.
import type { FastifyRequest } from 'fastify';
import { KvError } from './errors';
import type { RoleAssignment } from './options';
import { authorize, type Caller, type DataAction, type Target } from './rbac';
import type { Vault } from './vault';

export interface RouteContext {
  vault: Vault;
  /** Throws 403 unless the request's caller holds `action` on `target`. */
  authorize(req: FastifyRequest, action: DataAction, target: Target): void;
  /** https://host:port as the client addressed the vault, for ids and kids. */
  base(req: FastifyRequest): string;
}

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

export class Callers {
  // A WeakMap rather than a request decoration: no global Fastify type augmentation.
  private readonly byRequest = new WeakMap<FastifyRequest, Caller>();

  set(req: FastifyRequest, caller: Caller): void {
    this.byRequest.set(req, caller);
  }

  get(req: FastifyRequest): Caller {
    const caller = this.byRequest.get(req);
    if (!caller)
      throw new KvError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.');
    return caller;
  }
}

export function createContext(
  vault: Vault,
  callers: Callers,
  assignments: readonly RoleAssignment[],
  fallbackBase: () => string,
): RouteContext {
  return {
    vault,
    authorize: (req, action, target) => authorize(assignments, callers.get(req), action, target),
    base: (req) => {
      const host = req.headers.host;
      return host && HOST.test(host) ? `https://${host}` : fallbackBase();
    },
  };
}

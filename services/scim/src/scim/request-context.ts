import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

export type Profile = 'default' | 'aws';

/** What one SCIM request knows about itself; filled by the auth guard and handlers, read by the log hook. */
export interface ScimCall {
  directoryId?: string;
  profile?: Profile;
  /** The directory's group displayName uniqueness setting (default true). */
  uniqueGroupDisplayName?: boolean;
  tokenId?: string;
  resourceId?: string;
  scimType?: string;
}

const calls = new WeakMap<object, ScimCall>();

export function callOf(req: FastifyRequest): ScimCall {
  let c = calls.get(req.raw);
  if (!c) {
    c = {};
    calls.set(req.raw, c);
  }
  return c;
}

export function peekCall(req: FastifyRequest): ScimCall | undefined {
  return calls.get(req.raw);
}

/** The authenticated directory of a SCIM request and where its resources live. */
export interface ScimContext {
  directoryId: string;
  profile: Profile;
  /** Whether group displayNames must be unique in the directory (case-insensitively). */
  uniqueGroupDisplayName: boolean;
  requestId: string;
  /** e.g. https://host/scim/v2 — the prefix of meta.location. */
  baseUrl: string;
  call: ScimCall;
}

export function scimContextOf(req: FastifyRequest): ScimContext {
  const call = callOf(req);
  const path = req.url.split('?', 1)[0] ?? '';
  const i = path.toLowerCase().indexOf('/scim/v2');
  const prefix = i >= 0 ? path.slice(0, i + '/scim/v2'.length) : '/scim/v2';
  return {
    directoryId: call.directoryId as string,
    profile: call.profile ?? 'default',
    uniqueGroupDisplayName: call.uniqueGroupDisplayName ?? true,
    requestId: String(req.id),
    baseUrl: `${req.protocol}://${req.host}${prefix}`,
    call,
  };
}

export const Scim = createParamDecorator((_: unknown, ctx: ExecutionContext): ScimContext =>
  scimContextOf(ctx.switchToHttp().getRequest<FastifyRequest>()),
);

import { createParamDecorator, Logger, type ExecutionContext } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ScimConfig } from '../config';
import { GROUP_SCHEMA, USER_SCHEMA, type ResourceSchema } from './attribute-defs';
import type { ExtensionSchema } from './extension-schemas';

export type Profile = 'default' | 'aws';

/** What one SCIM request knows about itself; filled by the auth guard and handlers, read by the log hook. */
export interface ScimCall {
  directoryId?: string;
  profile?: Profile;
  /** The directory's group displayName uniqueness setting (default true). */
  uniqueGroupDisplayName?: boolean;
  /** The directory's declared extension schemas and the resource schemas they make. */
  extensions?: ExtensionSchema[];
  userSchema?: ResourceSchema;
  groupSchema?: ResourceSchema;
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
  /** The directory's declared extension schemas (discovery documents them). */
  extensions: ExtensionSchema[];
  /** The directory's User / Group schema: the built-in one plus its declared extensions. */
  userSchema: ResourceSchema;
  groupSchema: ResourceSchema;
  requestId: string;
  /** e.g. https://host/scim/v2 — the prefix of meta.location (host from SCIM_PUBLIC_BASE_URL when set). */
  baseUrl: string;
  call: ScimCall;
}

/** The app's configured public base URL, a decoration of its Fastify instance (children inherit it). */
const PUBLIC_BASE_URL = Symbol('scimPublicBaseUrl');

/**
 * Makes every URL the app emits (meta.location, members' and groups' $ref, Location, discovery
 * documents) start with SCIM_PUBLIC_BASE_URL. Without it they start with the request's scheme and
 * Host, which Fastify takes from X-Forwarded-Proto / X-Forwarded-Host (`trustProxy`): any client
 * can then have the service point at a host of its choosing. Call before the app initialises.
 */
export function usePublicBaseUrl(
  instance: FastifyInstance,
  config: Pick<ScimConfig, 'SCIM_PUBLIC_BASE_URL' | 'NODE_ENV'>,
): void {
  if (config.SCIM_PUBLIC_BASE_URL) instance.decorate(PUBLIC_BASE_URL, config.SCIM_PUBLIC_BASE_URL);
  else if (config.NODE_ENV === 'production')
    new Logger('scim').warn(
      'SCIM_PUBLIC_BASE_URL is unset: resource URLs are built from the request Host / X-Forwarded-Host, which clients choose',
    );
}

/** Scheme and host (and path prefix) of the app's URLs: the configured one, else the request's. */
function originOf(req: FastifyRequest): string {
  const configured = (req.server as unknown as Record<symbol, unknown>)[PUBLIC_BASE_URL];
  return typeof configured === 'string' ? configured : `${req.protocol}://${req.host}`;
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
    extensions: call.extensions ?? [],
    userSchema: call.userSchema ?? USER_SCHEMA,
    groupSchema: call.groupSchema ?? GROUP_SCHEMA,
    requestId: String(req.id),
    baseUrl: `${originOf(req)}${prefix}`,
    call,
  };
}

export const Scim = createParamDecorator((_: unknown, ctx: ExecutionContext): ScimContext =>
  scimContextOf(ctx.switchToHttp().getRequest<FastifyRequest>()),
);

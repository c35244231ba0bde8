import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ScimConfig } from '../config';
import { scimDirectoryRequests, scimDuration, scimRequests } from '../metrics';
import { classify } from '../provisioning-log/classify';
import { ProvisioningLogService } from '../provisioning-log/provisioning-log.service';
import { parseScimBody } from './json-body';
import { peekCall, usePublicBaseUrl } from './request-context';

/**
 * HTTP wiring that must happen before the app initialises: JSON bodies under both
 * `application/scim+json` and `application/json` (a malformed or too deeply nested body becomes a
 * SCIM error instead of Fastify's), and one provisioning-log row plus metrics per SCIM request.
 * (Fastify's other errors under the SCIM base: ScimHttpErrorFilter, and `scimRouterErrors` given
 * to createApp for the router's.)
 */
export function configureScimApp(
  app: NestFastifyApplication,
  config: Pick<ScimConfig, 'SCIM_BODY_LIMIT_BYTES' | 'SCIM_PUBLIC_BASE_URL' | 'NODE_ENV'>,
): void {
  usePublicBaseUrl(app.getHttpAdapter().getInstance(), config);
  app.useBodyParser(
    ['application/json', 'application/scim+json', '*'],
    { bodyLimit: config.SCIM_BODY_LIMIT_BYTES },
    (_req, body, done) => {
      done(null, parseScimBody(body.toString('utf8')));
    },
  );
  const log = app.get(ProvisioningLogService);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onResponse', async (req: FastifyRequest, reply: FastifyReply) => {
    const c = classify(req.method, req.url);
    if (!c) return;
    const call = peekCall(req);
    const outcome = reply.statusCode < 400 ? 'success' : 'failure';
    const ms = reply.elapsedTime;
    scimRequests.inc({ operation: c.operation, resource_type: c.resourceType, outcome });
    scimDuration.observe({ operation: c.operation, resource_type: c.resourceType }, ms / 1000);
    // Only a directory a token was authenticated for: the guard notes the path's directory id
    // before checking the token, and any caller can put any id there (unbounded label values).
    const directory = call?.tokenId !== undefined ? call.directoryId : undefined;
    scimDirectoryRequests.inc({ directory: directory ?? 'unauthenticated', outcome });
    log.record({
      directoryId: call?.directoryId ?? c.directoryId ?? null,
      at: new Date(Date.now() - ms),
      requestId: String(req.id),
      method: req.method,
      operation: c.operation,
      resourceType: c.resourceType,
      resourceId: call?.resourceId ?? c.resourceId ?? null,
      outcome,
      status: reply.statusCode,
      durationMs: Math.round(ms),
      scimType: call?.scimType ?? null,
    });
  });
}
